import type { Db } from '../database.js';
import type { ChangeType, NewResourceAdjustmentLog, ResourceAdjustmentLog } from '../schema.js';

export type AdjustmentLogWithCodes = ResourceAdjustmentLog & {
  system_code: string;
  vm_external_id: string | null;
};

/** The filters of the adjustment log list. */
export interface AdjustmentLogQuery {
  /** Tenant the caller is confined to (through the log's system), or null for every tenant. */
  scope: number | null;
  informationSystem?: number;
  virtualMachine?: number;
  changeType?: ChangeType;
  /** Earliest detected_at, included. */
  detectedFrom?: Date;
  /** Instant after the last detected_at, excluded. */
  detectedUntil?: Date;
}

export interface AdjustmentLogOrder {
  orderBy: 'detected_at' | 'id';
  direction: 'asc' | 'desc';
}

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

  /** Counts the logs that match `filter`. */
  async countMatching(filter: AdjustmentLogQuery): Promise<number> {
    const { count } = await this.matching(filter)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  /** Returns one page of the logs that match `filter`. Ties keep detection order (id) in the same direction. */
  getPage(
    filter: AdjustmentLogQuery,
    order: AdjustmentLogOrder,
    page: { limit: number; offset: number },
  ): Promise<AdjustmentLogWithCodes[]> {
    let query = this.withCodes(this.matching(filter)).orderBy(`a.${order.orderBy}`, order.direction);
    if (order.orderBy !== 'id') query = query.orderBy('a.id', order.direction);
    return query.limit(page.limit).offset(page.offset).execute();
  }

  /** Returns the log `id` if its system belongs to `scope` (a tenant id, or null for all). */
  getById(id: string, scope: number | null): Promise<AdjustmentLogWithCodes | undefined> {
    return this.withCodes(this.matching({ scope })).where('a.id', '=', id).executeTakeFirst();
  }

  private matching(filter: AdjustmentLogQuery) {
    let query = this.db
      .selectFrom('resource_adjustment_logs as a')
      .innerJoin('information_systems as s', 's.id', 'a.information_system_id');
    if (filter.scope !== null) query = query.where('s.tenant_id', '=', filter.scope);
    if (filter.informationSystem !== undefined)
      query = query.where('a.information_system_id', '=', filter.informationSystem);
    if (filter.virtualMachine !== undefined)
      query = query.where('a.virtual_machine_id', '=', filter.virtualMachine);
    if (filter.changeType) query = query.where('a.change_type', '=', filter.changeType);
    if (filter.detectedFrom) query = query.where('a.detected_at', '>=', filter.detectedFrom);
    if (filter.detectedUntil) query = query.where('a.detected_at', '<', filter.detectedUntil);
    return query;
  }

  private withCodes(query: ReturnType<AdjustmentLogRepository['matching']>) {
    return query
      .leftJoin('virtual_machines as vm', 'vm.id', 'a.virtual_machine_id')
      .selectAll('a')
      .select(['s.code as system_code', 'vm.external_id as vm_external_id']);
  }
}
