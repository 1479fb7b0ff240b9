import type { Db } from '../database.js';
import type { NewResourceAdjustmentLog, ResourceAdjustmentLog } from '../schema.js';

export type AdjustmentLogWithCodes = ResourceAdjustmentLog & {
  system_code: string;
  vm_external_id: string | null;
};

export class AdjustmentLogRepository {
  constructor(private readonly db: Db) {}

  create(log: NewResourceAdjustmentLog): Promise<ResourceAdjustmentLog> {
    return this.db
      .insertInto('resource_adjustment_logs')
      .values(log)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  getLatest(filter: {
    systemCode?: string;
    systemId?: number;
    limit: number;
  }): Promise<AdjustmentLogWithCodes[]> {
    let query = this.db
      .selectFrom('resource_adjustment_logs as a')
      .innerJoin('information_systems as s', 's.id', 'a.information_system_id')
      .leftJoin('virtual_machines as vm', 'vm.id', 'a.virtual_machine_id')
      .selectAll('a')
      .select(['s.code as system_code', 'vm.external_id as vm_external_id'])
      .orderBy('a.detected_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(filter.limit);
    if (filter.systemCode) query = query.where('s.code', '=', filter.systemCode);
    if (filter.systemId !== undefined) query = query.where('a.information_system_id', '=', filter.systemId);
    return query.execute();
  }
}
