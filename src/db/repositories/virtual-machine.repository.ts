import type { Db } from '../database.js';
import type { VirtualMachine, VmStatus } from '../schema.js';

export type VirtualMachineWithSystem = VirtualMachine & { system_code: string | null };

export class VirtualMachineRepository {
  constructor(private readonly db: Db) {}

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
