import type { Db } from '../database.js';
import type { Tenant } from '../schema.js';
import { escapeLike } from './like.js';

export interface TenantListFilter {
  scope: number | null;
  code?: string;
  status?: 'active' | 'inactive';
  search?: string;
  orderBy: 'code' | 'name' | 'discount_rate' | 'created_at' | 'id';
  direction: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export class TenantRepository {
  constructor(private readonly db: Db) {}

  getByCode(code: string): Promise<Tenant | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('code', '=', code).executeTakeFirst();
  }

  /** Locks the tenant row until the transaction ends, so discount changes apply in order. */
  getByCodeForUpdate(code: string): Promise<Tenant | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('code', '=', code).forUpdate().executeTakeFirst();
  }

  getById(id: number, scope: number | null): Promise<Tenant | undefined> {
    let query = this.db.selectFrom('tenants').selectAll().where('id', '=', id);
    if (scope !== null) query = query.where('id', '=', scope);
    return query.executeTakeFirst();
  }

  /** Returns one page of tenants visible in `scope` (a tenant id, or null for all) and the total count. */
  async getPage(filter: TenantListFilter): Promise<{ rows: Tenant[]; count: number }> {
    let query = this.db.selectFrom('tenants');
    if (filter.scope !== null) query = query.where('id', '=', filter.scope);
    if (filter.code) query = query.where('code', '=', filter.code);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.search) query = query.where('name', 'like', `%${escapeLike(filter.search)}%`);

    const { count } = await query
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .selectAll()
      .orderBy(filter.orderBy, filter.direction)
      .orderBy('id')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
    return { rows, count: Number(count) };
  }

  getDiscountChanges(tenantId: number) {
    return this.db
      .selectFrom('tenant_discount_changes')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('changed_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  updateName(id: number, name: string): Promise<Tenant> {
    return this.db
      .updateTable('tenants')
      .set({ name })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
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
