import type { Db } from '../database.js';
import type { VirtualMachine, VmStatus } from '../schema.js';
import { escapeLike } from './like.js';

export type VirtualMachineWithSystem = VirtualMachine & { system_code: string | null };

export interface VmListFilter {
  /** Tenant id whose VMs are visible, or null for all. */
  scope: number | null;
  /** System id that the VM's recorded or observed assignment names. */
  system?: number;
  provider?: string;
  status?: VmStatus;
  /** Text that the name or the external id contains, case-insensitively. */
  search?: string;
}

export type VmOrderColumn =
  | 'external_id'
  | 'name'
  | 'provider'
  | 'status'
  | 'recorded_cpu'
  | 'recorded_memory'
  | 'recorded_storage'
  | 'created_at'
  | 'last_synced_at'
  | 'id';

export class VirtualMachineRepository {
  constructor(private readonly db: Db) {}

  /**
   * Selects the VMs visible in `scope`: those whose recorded or observed system
   * belongs to that tenant, or every VM when `scope` is null.
   */
  private visible(scope: number | null) {
    const query = this.db.selectFrom('virtual_machines as vm');
    if (scope === null) return query;
    return query.where((eb) =>
      eb.or([
        eb(
          'vm.information_system_id',
          'in',
          eb.selectFrom('information_systems').select('id').where('tenant_id', '=', scope),
        ),
        eb(
          'vm.observed_system_id',
          'in',
          eb.selectFrom('information_systems').select('id').where('tenant_id', '=', scope),
        ),
      ]),
    );
  }

  getById(id: number, scope: number | null): Promise<VirtualMachine | undefined> {
    return this.visible(scope).selectAll('vm').where('vm.id', '=', id).executeTakeFirst();
  }

  private filtered(filter: VmListFilter) {
    let query = this.visible(filter.scope);
    const system = filter.system;
    if (system !== undefined) {
      query = query.where((eb) =>
        eb.or([eb('vm.information_system_id', '=', system), eb('vm.observed_system_id', '=', system)]),
      );
    }
    if (filter.provider) query = query.where('vm.provider', '=', filter.provider);
    if (filter.status) query = query.where('vm.status', '=', filter.status);
    if (filter.search) {
      const pattern = `%${escapeLike(filter.search)}%`;
      query = query.where((eb) =>
        eb.or([eb('vm.name', 'ilike', pattern), eb('vm.external_id', 'ilike', pattern)]),
      );
    }
    return query;
  }

  async count(filter: VmListFilter): Promise<number> {
    const { count } = await this.filtered(filter)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  getPage(
    filter: VmListFilter & {
      orderBy: VmOrderColumn;
      direction: 'asc' | 'desc';
      limit: number;
      offset: number;
    },
  ): Promise<VirtualMachine[]> {
    return this.filtered(filter)
      .selectAll('vm')
      .orderBy(`vm.${filter.orderBy}`, filter.direction)
      .orderBy('vm.id')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
  }

  getByExternalIdForUpdate(provider: string, externalId: string): Promise<VirtualMachine | undefined> {
    return this.db
      .selectFrom('virtual_machines')
      .selectAll()
      .where('provider', '=', provider)
      .where('external_id', '=', externalId)
      .forUpdate()
      .executeTakeFirst();
  }

  /** Returns the VMs that a system's billing counts now or that the last sync placed in it. */
  getBySystem(systemId: number): Promise<VirtualMachine[]> {
    return this.db
      .selectFrom('virtual_machines')
      .selectAll()
      .where((eb) =>
        eb.or([eb('information_system_id', '=', systemId), eb('observed_system_id', '=', systemId)]),
      )
      .orderBy('external_id')
      .execute();
  }

  getAll(filter: { systemCode?: string } = {}): Promise<VirtualMachineWithSystem[]> {
    let query = this.db
      .selectFrom('virtual_machines as vm')
      .leftJoin('information_systems as s', 's.id', 'vm.information_system_id')
      .selectAll('vm')
      .select('s.code as system_code')
      .orderBy('vm.provider')
      .orderBy('vm.external_id');
    if (filter.systemCode) query = query.where('s.code', '=', filter.systemCode);
    return query.execute();
  }

  create(vm: {
    provider: string;
    external_id: string;
    name: string;
    observed_system_id: number | null;
    observed_cpu: number;
    observed_memory: string;
    observed_storage: string;
    status: VmStatus;
    created_at: Date;
    last_synced_at: Date;
  }): Promise<VirtualMachine> {
    return this.db.insertInto('virtual_machines').values(vm).returningAll().executeTakeFirstOrThrow();
  }

  updateObserved(
    id: number,
    observed: Partial<{
      observed_system_id: number | null;
      observed_cpu: number;
      observed_memory: string;
      observed_storage: string;
      status: VmStatus;
    }>,
    at: Date,
  ): Promise<VirtualMachine> {
    return this.db
      .updateTable('virtual_machines')
      .set({ ...observed, updated_at: at, last_synced_at: at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }
}
