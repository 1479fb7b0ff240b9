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

  /** Returns one page of a system's records, newest first, with the total count, between optional dates. */
  async getPageForSystem(filter: {
    systemId: number;
    from?: string;
    to?: string;
    limit: number;
    offset: number;
  }) {
    let query = this.db.selectFrom('billing_records').where('information_system_id', '=', filter.systemId);
    if (filter.from) query = query.where('billing_date', '>=', filter.from);
    if (filter.to) query = query.where('billing_date', '<=', filter.to);

    const { count } = await query
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .selectAll()
      .orderBy('billing_date', 'desc')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
    return { rows, count: Number(count) };
  }

  /** Sums a system's amounts from `from` to `to`, both included, as exact decimal text. */
  async sumForSystem(systemId: number, from: string, to: string): Promise<string> {
    const row = await this.db
      .selectFrom('billing_records')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), eb.val('0')).as('total'))
      .where('information_system_id', '=', systemId)
      .where('billing_date', '>=', from)
      .where('billing_date', '<=', to)
      .executeTakeFirstOrThrow();
    return row.total;
  }

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
