import type { Db } from '../database.js';
import type { InformationSystem, RunMode } from '../schema.js';
import { escapeLike } from './like.js';

export type InformationSystemWithTenant = InformationSystem & { tenant_code: string };

export interface SystemListFilter {
  scope: number | null;
  tenant?: number;
  code?: string;
  status?: 'active' | 'decommissioned';
  runMode?: RunMode;
  search?: string;
  orderBy: 'code' | 'name' | 'created_at' | 'total_cpu' | 'total_memory' | 'total_storage' | 'id';
  direction: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export class InformationSystemRepository {
  constructor(private readonly db: Db) {}

  getByCode(code: string): Promise<InformationSystem | undefined> {
    return this.db.selectFrom('information_systems').selectAll().where('code', '=', code).executeTakeFirst();
  }

  getByCodeForUpdate(code: string): Promise<InformationSystem | undefined> {
    return this.db
      .selectFrom('information_systems')
      .selectAll()
      .where('code', '=', code)
      .forUpdate()
      .executeTakeFirst();
  }

  getIdsByCodes(codes: string[]): Promise<{ id: number; code: string; status: string }[]> {
    if (codes.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('information_systems')
      .select(['id', 'code', 'status'])
      .where('code', 'in', codes)
      .execute();
  }

  getById(id: number, scope: number | null): Promise<InformationSystemWithTenant | undefined> {
    let query = this.db
      .selectFrom('information_systems as s')
      .innerJoin('tenants as t', 't.id', 's.tenant_id')
      .selectAll('s')
      .select('t.code as tenant_code')
      .where('s.id', '=', id);
    if (scope !== null) query = query.where('s.tenant_id', '=', scope);
    return query.executeTakeFirst();
  }

  /** Returns one page of systems visible in `scope` (a tenant id, or null for all) and the total count. */
  async getPage(filter: SystemListFilter): Promise<{ rows: InformationSystemWithTenant[]; count: number }> {
    let query = this.db
      .selectFrom('information_systems as s')
      .innerJoin('tenants as t', 't.id', 's.tenant_id');
    if (filter.scope !== null) query = query.where('s.tenant_id', '=', filter.scope);
    if (filter.tenant !== undefined) query = query.where('s.tenant_id', '=', filter.tenant);
    if (filter.code) query = query.where('s.code', '=', filter.code);
    if (filter.status) query = query.where('s.status', '=', filter.status);
    if (filter.runMode) query = query.where('s.run_mode', '=', filter.runMode);
    if (filter.search) query = query.where('s.name', 'like', `%${escapeLike(filter.search)}%`);

    const { count } = await query
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .selectAll('s')
      .select('t.code as tenant_code')
      .orderBy(`s.${filter.orderBy}`, filter.direction)
      .orderBy('s.id')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
    return { rows, count: Number(count) };
  }

  getAll(filter: { tenantCode?: string } = {}): Promise<InformationSystemWithTenant[]> {
    let query = this.db
      .selectFrom('information_systems as s')
      .innerJoin('tenants as t', 't.id', 's.tenant_id')
      .selectAll('s')
      .select('t.code as tenant_code')
      .orderBy('s.code');
    if (filter.tenantCode) query = query.where('t.code', '=', filter.tenantCode);
    return query.execute();
  }

  create(system: {
    tenant_id: number;
    code: string;
    name: string;
    run_mode: RunMode;
    created_at: Date;
  }): Promise<InformationSystem> {
    return this.db.insertInto('information_systems').values(system).returningAll().executeTakeFirstOrThrow();
  }

  updateName(id: number, name: string) {
    return this.db.updateTable('information_systems').set({ name }).where('id', '=', id).execute();
  }

  updateRunMode(id: number, runMode: RunMode): Promise<InformationSystem> {
    return this.db
      .updateTable('information_systems')
      .set({ run_mode: runMode })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  decommission(id: number, at: Date): Promise<InformationSystem> {
    return this.db
      .updateTable('information_systems')
      .set({ status: 'decommissioned', decommissioned_at: at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }
}
