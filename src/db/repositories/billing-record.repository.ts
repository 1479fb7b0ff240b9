import type { Db } from '../database.js';
import type { BillingRecord } from '../schema.js';

export type BillingRecordWithCodes = BillingRecord & { system_code: string; tenant_code: string };

export interface BillingRecordFilter {
  systemCode?: string;
  tenantCode?: string;
  from?: string;
  to?: string;
  limit: number;
}

export class BillingRecordRepository {
  constructor(private readonly db: Db) {}

  getFiltered(filter: BillingRecordFilter): Promise<BillingRecordWithCodes[]> {
    let query = this.db
      .selectFrom('billing_records as br')
      .innerJoin('information_systems as s', 's.id', 'br.information_system_id')
      .innerJoin('tenants as t', 't.id', 'br.tenant_id')
      .selectAll('br')
      .select(['s.code as system_code', 't.code as tenant_code'])
      .orderBy('br.billing_date', 'desc')
      .orderBy('s.code')
      .limit(filter.limit);
    if (filter.systemCode) query = query.where('s.code', '=', filter.systemCode);
    if (filter.tenantCode) query = query.where('t.code', '=', filter.tenantCode);
    if (filter.from) query = query.where('br.billing_date', '>=', filter.from);
    if (filter.to) query = query.where('br.billing_date', '<=', filter.to);
    return query.execute();
  }
}
