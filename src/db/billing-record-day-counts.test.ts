import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { BillingRecordRepository } from './repositories/billing-record.repository.js';

const backends = await availableBackends();

describe.each(backends)('billing record day counts on %s', (backend) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase(backend);
  });

  afterEach(async () => {
    await database.drop();
  });

  /** Inserts one record per system id from 1 to `systems` for `day`, in one statement. */
  async function insertRecords(day: string, systems: number): Promise<void> {
    await sql`
      INSERT INTO billing_records (
        information_system_id, tenant_id, billing_date, run_mode, billed_hours, cpu, memory, storage,
        price_version_id, cpu_price, memory_price, storage_price, cpu_amount, memory_amount,
        storage_amount, gross_amount, discount_rate, amount)
      SELECT s, 1, ${day}::date, '7x24', 24, 1, 1, 0, 1, 0.1, 0.05, 0.01, 2.4, 1.2, 0, 3.6, 1, 3.60
      FROM generate_series(1, ${systems}::integer) AS s`.execute(database.db);
  }

  async function dayCounts(): Promise<Record<string, number>> {
    const rows = await database.db
      .selectFrom('billing_record_day_counts')
      .selectAll()
      .orderBy('billing_date')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.billing_date, Number(row.record_count)]));
  }

  async function countedDays(): Promise<Record<string, number>> {
    const { rows } = await sql<{ billing_date: string; count: string }>`
      SELECT billing_date, count(*) AS count FROM billing_records GROUP BY billing_date ORDER BY billing_date`.execute(
      database.db,
    );
    return Object.fromEntries(rows.map((row) => [row.billing_date, Number(row.count)]));
  }

  it('counts inserted records per day', async () => {
    await insertRecords('2026-03-01', 3);
    await insertRecords('2026-03-02', 2);
    await insertRecords('2026-03-01', 0);

    expect(await dayCounts()).toEqual({ '2026-03-01': 3, '2026-03-02': 2 });
    expect(await dayCounts()).toEqual(await countedDays());
  });

  it('subtracts deleted records and drops empty days', async () => {
    await insertRecords('2026-03-01', 3);
    await insertRecords('2026-03-02', 2);

    await sql`DELETE FROM billing_records WHERE billing_date = '2026-03-01' AND information_system_id <= 2`.execute(
      database.db,
    );
    await sql`DELETE FROM billing_records WHERE billing_date = '2026-03-02'`.execute(database.db);

    expect(await dayCounts()).toEqual({ '2026-03-01': 1 });
  });

  it('moves records whose day changes', async () => {
    await insertRecords('2026-03-01', 3);

    await sql`UPDATE billing_records SET billing_date = '2026-03-05' WHERE information_system_id = 1`.execute(
      database.db,
    );
    await sql`UPDATE billing_records SET amount = 1.00 WHERE information_system_id = 2`.execute(database.db);

    expect(await dayCounts()).toEqual({ '2026-03-01': 2, '2026-03-05': 1 });
  });

  it('empties the counts on TRUNCATE', async () => {
    await insertRecords('2026-03-01', 3);

    await sql`TRUNCATE billing_records, billing_record_revisions`.execute(database.db);

    expect(await dayCounts()).toEqual({});
  });

  it('keeps a rolled-back insert out of the counts', async () => {
    await insertRecords('2026-03-01', 1);

    await expect(
      database.db.transaction().execute(async (transaction) => {
        await sql`
          INSERT INTO billing_records (
            information_system_id, tenant_id, billing_date, run_mode, billed_hours, cpu, memory, storage,
            price_version_id, cpu_price, memory_price, storage_price, cpu_amount, memory_amount,
            storage_amount, gross_amount, discount_rate, amount)
          VALUES (9, 1, '2026-03-01', '7x24', 24, 1, 1, 0, 1, 0.1, 0.05, 0.01, 2.4, 1.2, 0, 3.6, 1, 3.60)`.execute(
          transaction,
        );
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');

    expect(await dayCounts()).toEqual({ '2026-03-01': 1 });
  });

  it('gives the list count of dates-only filters', async () => {
    await insertRecords('2026-03-01', 3);
    await insertRecords('2026-03-02', 2);
    await insertRecords('2026-03-03', 4);
    const records = new BillingRecordRepository(database.db);

    expect(await records.countMatching({ scope: null })).toBe(9);
    expect(await records.countMatching({ scope: null, from: '2026-03-02' })).toBe(6);
    expect(await records.countMatching({ scope: null, from: '2026-03-02', to: '2026-03-02' })).toBe(2);
    expect(await records.countMatching({ scope: null, from: '2026-04-01' })).toBe(0);
    expect(await records.countMatching({ scope: 1 })).toBe(9);
    expect(await records.countMatching({ scope: null, informationSystem: 1 })).toBe(3);
  });
});
