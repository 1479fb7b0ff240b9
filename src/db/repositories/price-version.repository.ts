import type { Db } from '../database.js';
import type { PriceVersion } from '../schema.js';

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
}
