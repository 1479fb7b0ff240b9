import { sql } from 'kysely';

import type { Db } from '../database.js';
import { QueryTemplate, slot } from '../query-template.js';
import type { BillingRecord, RunMode } from '../schema.js';

export type BillingRecordWithCodes = BillingRecord & { system_code: string; tenant_code: string };

export type BillingRecordWithNames = BillingRecordWithCodes & { system_name: string; tenant_name: string };

/** The filters of the billing record list, its summaries and its exports. */
export interface BillingRecordQuery {
  /** Tenant the caller is confined to, or null for every tenant. */
  scope: number | null;
  tenant?: number;
  informationSystem?: number;
  /** First billing day, included. */
  from?: string;
  /** Last billing day, included. */
  to?: string;
  runMode?: RunMode;
}

export interface BillingRecordOrder {
  orderBy: 'billing_date' | 'amount' | 'id';
  direction: 'asc' | 'desc';
}

/** Position after the last row of an export batch: its value of the ordering column and its id. */
export interface BillingRecordCursor {
  value: string;
  id: string;
}

export type SummaryGroup = 'tenant' | 'information_system' | 'month';

export interface SummaryOrder {
  orderBy: 'key' | 'record_count' | 'gross_amount' | 'amount';
  direction: 'asc' | 'desc';
}

/** One group of a summary. Key fields that do not belong to the grouping are null. */
export interface BillingSummaryRow {
  tenant: number | null;
  tenant_code: string | null;
  tenant_name: string | null;
  information_system: number | null;
  information_system_code: string | null;
  information_system_name: string | null;
  month: string | null;
  record_count: string;
  gross_amount: string;
  amount: string;
}

export interface BillingSummaryTotals {
  groups: string;
  record_count: string;
  gross_amount: string;
  amount: string;
}

export interface BillingRecordFilter {
  systemCode?: string;
  tenantCode?: string;
  from?: string;
  to?: string;
  limit: number;
}

export class BillingRecordRepository {
  constructor(private readonly db: Db) {}

  /**
   * Returns one page of a system's records, newest first, with the total
   * count, between optional dates. Returns undefined when the system does not
   * exist within `scope` (a tenant id, or null for all). One statement checks
   * the system and returns the page and the count.
   */
  async getPageForSystem(filter: {
    systemId: number;
    scope: number | null;
    from?: string;
    to?: string;
    limit: number;
    offset: number;
  }): Promise<{ rows: BillingRecord[]; count: number } | undefined> {
    const rows = await SYSTEM_PAGE.execute(
      this.db,
      { from: filter.from !== undefined, to: filter.to !== undefined, scoped: filter.scope !== null },
      filter,
    );

    if (rows.length === 0) return undefined;
    const count = Number(rows[0]!.total_count);
    // A page past the last record is the system's row alone, with a null record id.
    return { rows: rows[0]!.id === null ? [] : (rows as BillingRecord[]), count };
  }

  /** Returns a system's latest `limit` records, newest first, without counting them all. */
  getLatestForSystem(systemId: number, limit: number): Promise<BillingRecord[]> {
    return this.db
      .selectFrom('billing_records')
      .selectAll()
      .where('information_system_id', '=', systemId)
      .orderBy('billing_date', 'desc')
      .limit(limit)
      .execute();
  }

  /** Sums a system's amounts from `from` to `to`, both included, as exact decimal text. */
  async sumForSystem(systemId: number, from: string, to: string): Promise<string> {
    const row = await this.db
      .selectFrom('billing_records')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), sql<string>`0.00`).as('total'))
      .where('information_system_id', '=', systemId)
      .where('billing_date', '>=', from)
      .where('billing_date', '<=', to)
      .executeTakeFirstOrThrow();
    return row.total;
  }

  /** Counts and sums every record that matches the filter, ignoring its limit. */
  async summarizeFiltered(
    filter: Omit<BillingRecordFilter, 'limit'>,
  ): Promise<{ count: number; total: string }> {
    const row = await this.byCodes(filter)
      .select((eb) => [
        eb.fn.countAll<string>().as('count'),
        eb.fn.coalesce(eb.fn.sum<string>('br.amount'), sql<string>`0.00`).as('total'),
      ])
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), total: row.total };
  }

  getFiltered(filter: BillingRecordFilter): Promise<BillingRecordWithCodes[]> {
    return this.byCodes(filter)
      .selectAll('br')
      .select(['s.code as system_code', 't.code as tenant_code'])
      .orderBy('br.billing_date', 'desc')
      .orderBy('s.code')
      .limit(filter.limit)
      .execute();
  }

  /** Records joined to their system and tenant, filtered by codes and dates (the CLI's filters). */
  private byCodes(filter: Omit<BillingRecordFilter, 'limit'>) {
    let query = this.db
      .selectFrom('billing_records as br')
      .innerJoin('information_systems as s', 's.id', 'br.information_system_id')
      .innerJoin('tenants as t', 't.id', 'br.tenant_id');
    if (filter.systemCode) query = query.where('s.code', '=', filter.systemCode);
    if (filter.tenantCode) query = query.where('t.code', '=', filter.tenantCode);
    if (filter.from) query = query.where('br.billing_date', '>=', filter.from);
    if (filter.to) query = query.where('br.billing_date', '<=', filter.to);
    return query;
  }

  /**
   * Counts the records that match `filter`. A filter by dates alone, or none,
   * adds up the per-day counts that triggers keep exact (migration 0007)
   * instead of counting millions of records.
   */
  async countMatching(filter: BillingRecordQuery): Promise<number> {
    const byDateOnly =
      filter.scope === null &&
      filter.tenant === undefined &&
      filter.informationSystem === undefined &&
      filter.runMode === undefined;
    if (byDateOnly) return this.countByDays(filter.from, filter.to);

    const { count } = await this.matching(filter)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  /** Adds up the records of the days from `from` to `to`, both included and both optional. */
  private async countByDays(from: string | undefined, to: string | undefined): Promise<number> {
    let query = this.db
      .selectFrom('billing_record_day_counts')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('record_count'), sql<string>`0`).as('count'));
    if (from) query = query.where('billing_date', '>=', from);
    if (to) query = query.where('billing_date', '<=', to);
    const { count } = await query.executeTakeFirstOrThrow();
    return Number(count);
  }

  /** Returns one page of the records that match `filter`, with tenant and system codes and names. */
  getPage(
    filter: BillingRecordQuery,
    order: BillingRecordOrder,
    page: { limit: number; offset: number },
  ): Promise<BillingRecordWithNames[]> {
    return this.withNames(this.matching(filter), order).limit(page.limit).offset(page.offset).execute();
  }

  /**
   * Returns up to `limit` matching records that follow `after` in `order`
   * (keyset pagination), so an export reads any number of rows in constant
   * memory and each batch is an index range, not an ever-growing OFFSET.
   * NOTE: no index covers `amount`, so with that ordering each batch scans and
   * sorts all matching rows after the cursor.
   */
  getBatchAfter(
    filter: BillingRecordQuery,
    order: BillingRecordOrder,
    after: BillingRecordCursor | null,
    limit: number,
  ): Promise<BillingRecordWithNames[]> {
    let query = this.matching(filter);
    if (after !== null) {
      const { orderBy, direction } = order;
      const beyond = direction === 'asc' ? '>' : '<';
      if (orderBy === 'id') {
        query = query.where('br.id', beyond, after.id);
      } else {
        // Ties on the ordering column continue by ascending id, as in withNames. The
        // inclusive bound states the OR as one range, so the planner can scan an index.
        const inclusive = direction === 'asc' ? '>=' : '<=';
        query = query
          .where(`br.${orderBy}`, inclusive, after.value)
          .where((eb) =>
            eb.or([
              eb(`br.${orderBy}`, beyond, after.value),
              eb.and([eb(`br.${orderBy}`, '=', after.value), eb('br.id', '>', after.id)]),
            ]),
          );
      }
    }
    return this.withNames(query, order).limit(limit).execute();
  }

  /** Returns the record `id` if it exists within `scope` (a tenant id, or null for all). */
  getById(id: string, scope: number | null): Promise<BillingRecordWithNames | undefined> {
    return this.withNames(this.matching({ scope }), { orderBy: 'id', direction: 'asc' })
      .where('br.id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Returns one page of the sums of the matching records per tenant, per
   * information system or per month (the billing date's YYYY-MM, so months
   * follow the billing time zone). Sums are exact NUMERIC text.
   */
  getSummaryPage(
    filter: BillingRecordQuery,
    groupBy: SummaryGroup,
    order: SummaryOrder,
    page: { limit: number; offset: number },
  ): Promise<BillingSummaryRow[]> {
    const nullText = sql<string | null>`NULL::text`;
    const nullId = sql<number | null>`NULL::integer`;
    const base = this.matching(filter)
      .select((eb) => [
        eb.fn.countAll<string>().as('record_count'),
        eb.fn.sum<string>('br.gross_amount').as('gross_amount'),
        eb.fn.sum<string>('br.amount').as('amount'),
      ])
      .limit(page.limit)
      .offset(page.offset);
    const direction = order.direction;

    if (groupBy === 'tenant') {
      const query = base
        .innerJoin('tenants as t', 't.id', 'br.tenant_id')
        .select([
          'br.tenant_id as tenant',
          't.code as tenant_code',
          't.name as tenant_name',
          nullId.as('information_system'),
          nullText.as('information_system_code'),
          nullText.as('information_system_name'),
          nullText.as('month'),
        ])
        .groupBy(['br.tenant_id', 't.code', 't.name']);
      return (
        order.orderBy === 'key' ? query.orderBy('t.code', direction) : query.orderBy(order.orderBy, direction)
      )
        .orderBy('t.code')
        .execute();
    }

    if (groupBy === 'information_system') {
      const query = base
        .innerJoin('information_systems as s', 's.id', 'br.information_system_id')
        .innerJoin('tenants as t', 't.id', 's.tenant_id')
        .select([
          's.tenant_id as tenant',
          't.code as tenant_code',
          't.name as tenant_name',
          'br.information_system_id as information_system',
          's.code as information_system_code',
          's.name as information_system_name',
          nullText.as('month'),
        ])
        .groupBy(['br.information_system_id', 's.code', 's.name', 's.tenant_id', 't.code', 't.name']);
      return (
        order.orderBy === 'key' ? query.orderBy('s.code', direction) : query.orderBy(order.orderBy, direction)
      )
        .orderBy('s.code')
        .execute();
    }

    const month = sql<string>`to_char(br.billing_date, 'YYYY-MM')`;
    const query = base
      .select([
        nullId.as('tenant'),
        nullText.as('tenant_code'),
        nullText.as('tenant_name'),
        nullId.as('information_system'),
        nullText.as('information_system_code'),
        nullText.as('information_system_name'),
        month.as('month'),
      ])
      .groupBy(month);
    return (
      order.orderBy === 'key' ? query.orderBy(month, direction) : query.orderBy(order.orderBy, direction)
    )
      .orderBy(month)
      .execute();
  }

  /** Counts the groups of a summary and sums all matching records, as exact NUMERIC text. */
  getSummaryTotals(filter: BillingRecordQuery, groupBy: SummaryGroup): Promise<BillingSummaryTotals> {
    const groupKey = {
      tenant: sql`br.tenant_id`,
      information_system: sql`br.information_system_id`,
      month: sql`date_trunc('month', br.billing_date)`,
    }[groupBy];
    return this.matching(filter)
      .select((eb) => [
        sql<string>`count(DISTINCT ${groupKey})`.as('groups'),
        eb.fn.countAll<string>().as('record_count'),
        eb.fn.coalesce(eb.fn.sum<string>('br.gross_amount'), sql<string>`0.00`).as('gross_amount'),
        eb.fn.coalesce(eb.fn.sum<string>('br.amount'), sql<string>`0.00`).as('amount'),
      ])
      .executeTakeFirstOrThrow();
  }

  /** Starts a query of the records that match `filter`, before any join or selection. */
  private matching(filter: BillingRecordQuery) {
    let query = this.db.selectFrom('billing_records as br');
    if (filter.scope !== null) query = query.where('br.tenant_id', '=', filter.scope);
    if (filter.tenant !== undefined) query = query.where('br.tenant_id', '=', filter.tenant);
    if (filter.informationSystem !== undefined)
      query = query.where('br.information_system_id', '=', filter.informationSystem);
    if (filter.from) query = query.where('br.billing_date', '>=', filter.from);
    if (filter.to) query = query.where('br.billing_date', '<=', filter.to);
    if (filter.runMode) query = query.where('br.run_mode', '=', filter.runMode);
    return query;
  }

  /** Adds tenant and system codes and names, and sorts by `order`, ties by ascending id. */
  private withNames(query: ReturnType<BillingRecordRepository['matching']>, order: BillingRecordOrder) {
    const sorted = query
      .innerJoin('information_systems as s', 's.id', 'br.information_system_id')
      .innerJoin('tenants as t', 't.id', 'br.tenant_id')
      .selectAll('br')
      .select([
        's.code as system_code',
        's.name as system_name',
        't.code as tenant_code',
        't.name as tenant_name',
      ])
      .orderBy(`br.${order.orderBy}`, order.direction);
    return order.orderBy === 'id' ? sorted : sorted.orderBy('br.id');
  }
}

/**
 * The statement of getPageForSystem, compiled once per set of filters
 * because this page is the API's most requested (see QueryTemplate).
 * The system's row is joined to its count and its page, so a visible system
 * gives at least one row: its records, or nulls for an empty page. Both
 * lateral subqueries run once, for the system's one row.
 */
const SYSTEM_PAGE = new QueryTemplate((db: Db, shape: { from: boolean; to: boolean; scoped: boolean }) => {
  let records = db.selectFrom('billing_records').where('information_system_id', '=', sql.ref<number>('s.id'));
  if (shape.from) records = records.where('billing_date', '>=', slot<string>('from'));
  if (shape.to) records = records.where('billing_date', '<=', slot<string>('to'));
  const page = records
    .selectAll()
    .orderBy('billing_date', 'desc')
    .limit(slot<number>('limit'))
    .offset(slot<number>('offset'));

  let query = db
    .selectFrom('information_systems as s')
    .innerJoinLateral(records.select((eb) => eb.fn.countAll<string>().as('total_count')).as('c'), (join) =>
      join.onTrue(),
    )
    .leftJoinLateral(page.as('br'), (join) => join.onTrue())
    .selectAll('br')
    .select('c.total_count')
    .where('s.id', '=', slot<number>('systemId'));
  if (shape.scoped) query = query.where('s.tenant_id', '=', slot<number>('scope'));
  return query.orderBy('br.billing_date', 'desc');
});
