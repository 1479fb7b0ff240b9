import type { ExpressionBuilder } from 'kysely';

import type { Db } from '../database.js';
import type { Database, PriceVersion } from '../schema.js';

export type PriceVersionWithUsage = PriceVersion & { in_use: boolean };

export interface PriceVersionChanges {
  effective_from?: string;
  cpu_price?: string;
  memory_price?: string;
  storage_price?: string;
}

/**
 * Whether any billing record uses version `pv`. Billing picks the version in
 * force on the billed day, so a record of `pv` never has a billing_date before
 * pv.effective_from. That bound lets the billing_date index answer the
 * question for a future version without scanning every record.
 */
function isInUse(eb: ExpressionBuilder<Database & { pv: Database['price_versions'] }, 'pv'>) {
  return eb.exists(
    eb
      .selectFrom('billing_records as br')
      .select('br.id')
      .whereRef('br.price_version_id', '=', 'pv.id')
      .whereRef('br.billing_date', '>=', 'pv.effective_from'),
  );
}

export class PriceVersionRepository {
  constructor(private readonly db: Db) {}

  /** Returns the version with the latest effective_from on or before `day`. */
  getInForceOn(day: string): Promise<PriceVersion | undefined> {
    return this.db
      .selectFrom('price_versions')
      .selectAll()
      .where('effective_from', '<=', day)
      .orderBy('effective_from', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  getAll(): Promise<PriceVersion[]> {
    return this.db.selectFrom('price_versions').selectAll().orderBy('effective_from').execute();
  }

  getByEffectiveFrom(day: string): Promise<PriceVersion | undefined> {
    return this.db
      .selectFrom('price_versions')
      .selectAll()
      .where('effective_from', '=', day)
      .executeTakeFirst();
  }

  create(version: {
    effective_from: string;
    cpu_price: string;
    memory_price: string;
    storage_price: string;
  }) {
    return this.db.insertInto('price_versions').values(version).returningAll().executeTakeFirstOrThrow();
  }

  async count(): Promise<number> {
    const { count } = await this.db
      .selectFrom('price_versions')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  /** Returns one page of versions, each with whether a billing record uses it. */
  getPage(
    order: { orderBy: 'effective_from' | 'id'; direction: 'asc' | 'desc' },
    page: { limit: number; offset: number },
  ): Promise<PriceVersionWithUsage[]> {
    return this.db
      .selectFrom('price_versions as pv')
      .selectAll('pv')
      .select((eb) => isInUse(eb).$castTo<boolean>().as('in_use'))
      .orderBy(`pv.${order.orderBy}`, order.direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute();
  }

  getById(id: number): Promise<PriceVersionWithUsage | undefined> {
    return this.db
      .selectFrom('price_versions as pv')
      .selectAll('pv')
      .select((eb) => isInUse(eb).$castTo<boolean>().as('in_use'))
      .where('pv.id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Updates version `id` only while it starts after `today` and no billing
   * record uses it, checked in the same statement as the write. Returns
   * undefined when no row qualified.
   */
  updateIfUnused(id: number, today: string, changes: PriceVersionChanges): Promise<PriceVersion | undefined> {
    return this.db
      .updateTable('price_versions as pv')
      .set(changes)
      .where('pv.id', '=', id)
      .where('pv.effective_from', '>', today)
      .where((eb) => eb.not(isInUse(eb)))
      .returningAll()
      .executeTakeFirst();
  }

  /** Deletes version `id` under the same conditions as updateIfUnused. Returns whether a row was deleted. */
  async deleteIfUnused(id: number, today: string): Promise<boolean> {
    const deleted = await this.db
      .deleteFrom('price_versions as pv')
      .where('pv.id', '=', id)
      .where('pv.effective_from', '>', today)
      .where((eb) => eb.not(isInUse(eb)))
      .executeTakeFirst();
    return deleted.numDeletedRows > 0n;
  }
}
