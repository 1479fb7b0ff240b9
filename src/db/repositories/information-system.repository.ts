import type { Db } from '../database.js';
import type { InformationSystem, RunMode } from '../schema.js';

export type InformationSystemWithTenant = InformationSystem & { tenant_code: string };

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
