import type { Db } from '../database.js';
import type { Tenant } from '../schema.js';

export class TenantRepository {
  constructor(private readonly db: Db) {}

  getByCode(code: string): Promise<Tenant | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('code', '=', code).executeTakeFirst();
  }

  /** Locks the tenant row until the transaction ends, so discount changes apply in order. */
  getByCodeForUpdate(code: string): Promise<Tenant | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('code', '=', code).forUpdate().executeTakeFirst();
  }

  getAll(): Promise<Tenant[]> {
    return this.db.selectFrom('tenants').selectAll().orderBy('code').execute();
  }

  create(tenant: { code: string; name: string; discount_rate: string; created_at: Date }): Promise<Tenant> {
    return this.db.insertInto('tenants').values(tenant).returningAll().executeTakeFirstOrThrow();
  }

  updateDiscountRate(id: number, discountRate: string): Promise<Tenant> {
    return this.db
      .updateTable('tenants')
      .set({ discount_rate: discountRate })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  createDiscountChange(change: {
    tenant_id: number;
    discount_rate_before: string;
    discount_rate_after: string;
    changed_at: Date;
    effective_date: string;
  }) {
    return this.db
      .insertInto('tenant_discount_changes')
      .values(change)
      .returningAll()
      .executeTakeFirstOrThrow();
  }
}
