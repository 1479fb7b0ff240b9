import { sql } from 'kysely';

import type { Db } from '../database.js';

export class BillingDayRepository {
  constructor(private readonly db: Db) {}

  /** Records `day` as complete with the count and sum of its records. */
  async markComplete(
    day: string,
    taskRunId: string | null,
  ): Promise<{ record_count: number; total_amount: string }> {
    const { rows } = await sql<{ record_count: number; total_amount: string }>`
      INSERT INTO billing_days (billing_date, record_count, total_amount, completed_at, task_run_id)
      SELECT ${day}::date, count(*), COALESCE(sum(amount), 0), now(), ${taskRunId}::bigint
      FROM billing_records
      WHERE billing_date = ${day}::date
      ON CONFLICT (billing_date) DO UPDATE SET
        record_count = excluded.record_count,
        total_amount = excluded.total_amount,
        completed_at = excluded.completed_at,
        task_run_id = excluded.task_run_id
      RETURNING record_count, total_amount`.execute(this.db);
    return rows[0]!;
  }

  async getCompleteDaysBetween(from: string, to: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('billing_days')
      .select('billing_date')
      .where('billing_date', '>=', from)
      .where('billing_date', '<=', to)
      .execute();
    return rows.map((row) => row.billing_date);
  }

  async countCompleteDaysBetween(from: string, to: string): Promise<number> {
    const row = await this.db
      .selectFrom('billing_days')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('billing_date', '>=', from)
      .where('billing_date', '<=', to)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Returns the latest complete billing day, or undefined before the first one. */
  getLatest() {
    return this.db
      .selectFrom('billing_days')
      .select(['billing_date', 'record_count', 'total_amount'])
      .orderBy('billing_date', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
}
