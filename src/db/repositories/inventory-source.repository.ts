import type { Db } from '../database.js';
import type { InventorySourceRow } from '../schema.js';

export interface InventorySourceValues {
  name: string;
  type: string;
  options: Record<string, unknown>;
  secrets: Record<string, string>;
}

/** Inventory sources added through the API. Rows carry their secrets, so callers must strip them before output. */
export class InventorySourceRepository {
  constructor(private readonly db: Db) {}

  async count(): Promise<number> {
    const { count } = await this.db
      .selectFrom('inventory_sources')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  getPage(page: { limit: number; offset: number }): Promise<InventorySourceRow[]> {
    return this.db
      .selectFrom('inventory_sources')
      .selectAll()
      .orderBy('name')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
  }

  getAll(): Promise<InventorySourceRow[]> {
    return this.db.selectFrom('inventory_sources').selectAll().orderBy('name').execute();
  }

  getById(id: number): Promise<InventorySourceRow | undefined> {
    return this.db.selectFrom('inventory_sources').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getByName(name: string): Promise<InventorySourceRow | undefined> {
    return this.db.selectFrom('inventory_sources').selectAll().where('name', '=', name).executeTakeFirst();
  }

  create(source: InventorySourceValues, at: Date): Promise<InventorySourceRow> {
    return this.db
      .insertInto('inventory_sources')
      .values({
        name: source.name,
        type: source.type,
        options: JSON.stringify(source.options),
        secrets: JSON.stringify(source.secrets),
        created_at: at,
        updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Replaces the options and secrets of source `id`; returns undefined when it does not exist. */
  update(
    id: number,
    changes: Pick<InventorySourceValues, 'options' | 'secrets'>,
    at: Date,
  ): Promise<InventorySourceRow | undefined> {
    return this.db
      .updateTable('inventory_sources')
      .set({
        options: JSON.stringify(changes.options),
        secrets: JSON.stringify(changes.secrets),
        updated_at: at,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /** Deletes source `id`; returns whether a row was deleted. */
  async delete(id: number): Promise<boolean> {
    const deleted = await this.db.deleteFrom('inventory_sources').where('id', '=', id).executeTakeFirst();
    return deleted.numDeletedRows > 0n;
  }
}
