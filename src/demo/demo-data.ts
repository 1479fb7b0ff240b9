import { Decimal } from 'decimal.js';
import { sql } from 'kysely';

import { billDay } from '../billing/daily-billing.js';
import { addDays, dayOf, daysBetween } from '../billing/days.js';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { LOCAL_PROVIDER } from '../inventory/local-vms.js';
import { lockAdjustments } from '../monitoring/detect-resource-changes.js';
import { generateDemoData, type DemoData, type DemoOptions } from './generate.js';

/**
 * Demo data for an empty database: the tenants, information systems and VMs of
 * a municipal government cloud with a history of resource changes, and the
 * billing of that history. See generate.ts for the shape of the history and
 * replay.ts for the invariants the rows keep.
 */

export type { DemoOptions } from './generate.js';

export interface DemoSummary {
  tenants: number;
  systems: number;
  vms: number;
  /** Resource adjustment logs written. */
  adjustments: number;
  discount_changes: number;
  /** Local day on which the tenants and the first systems were created. Billing starts the day after. */
  first_day: string;
}

export interface DemoBillingSummary {
  /** Days passed to billDay: every day from the first billable day to yesterday. */
  days: number;
  /** Billing records created by this call; days billed before keep their records. */
  records: number;
  /** Sum of the created records' amounts, in CNY. */
  total_amount: string;
  first_billed_day: string | null;
  last_billed_day: string | null;
}

/**
 * Rows per INSERT statement. Each statement sends its rows as one JSON
 * parameter of a few hundred bytes per row, so 1,000 rows stay well under a
 * megabyte.
 */
const ROWS_PER_STATEMENT = 1000;

/**
 * Loads the demo data into an empty database in one transaction. Throws
 * DomainError `demo_database_not_empty` if tenants, information systems or
 * VMs exist. The same options always load the same rows, apart from generated
 * ids.
 */
export async function loadDemoData(db: Db, options: DemoOptions): Promise<DemoSummary> {
  const data = generateDemoData(options);

  const load = async (trx: Db): Promise<DemoSummary> => {
    // Every writer of adjustment logs holds this lock. It also makes a second,
    // concurrent load wait here and then find the rows of the first.
    await lockAdjustments(trx);
    await requireEmptyDatabase(trx);

    const tenantIds = await insertTenants(trx, data.tenants);
    const systemIds = await insertSystems(trx, data.systems, tenantIds);
    const vmIds = await insertVms(trx, data.vms, systemIds);
    await insertAdjustments(trx, data.adjustments, systemIds, vmIds);
    await insertDiscountChanges(trx, data.discountChanges, tenantIds);

    return {
      tenants: data.tenants.length,
      systems: data.systems.length,
      vms: data.vms.length,
      adjustments: data.adjustments.length,
      discount_changes: data.discountChanges.length,
      first_day: data.firstDay,
    };
  };

  return db.isTransaction ? load(db) : db.transaction().execute(load);
}

/**
 * Bills every day from the first billable day (the day after the earliest
 * system was created) to yesterday, both in `timezone`, with billDay. Days
 * already billed get only their missing records.
 */
export async function billDemoHistory(
  db: Db,
  options: { now: Date; timezone: string; chunkSize: number },
): Promise<DemoBillingSummary> {
  const earliest = await db
    .selectFrom('information_systems')
    .select((eb) => eb.fn.min('created_at').as('first_created_at'))
    .executeTakeFirst();

  const yesterday = addDays(dayOf(options.now, options.timezone), -1);
  const days = earliest?.first_created_at
    ? daysBetween(addDays(dayOf(new Date(earliest.first_created_at), options.timezone), 1), yesterday)
    : [];

  let records = 0;
  let totalAmount = new Decimal(0);
  for (const day of days) {
    const result = await billDay(db, day, { timezone: options.timezone, chunkSize: options.chunkSize });
    records += result.recordsCreated;
    totalAmount = totalAmount.plus(result.amountCreated);
  }

  return {
    days: days.length,
    records,
    total_amount: totalAmount.toFixed(2),
    first_billed_day: days[0] ?? null,
    last_billed_day: days[days.length - 1] ?? null,
  };
}

/**
 * Returns whether the database has no tenants, information systems or VMs,
 * which is when loadDemoData accepts it.
 */
export async function isEmptyForDemoData(db: Db): Promise<boolean> {
  const counts = await countInventory(db);
  return counts.tenants === 0 && counts.systems === 0 && counts.vms === 0;
}

async function countInventory(db: Db): Promise<{ tenants: number; systems: number; vms: number }> {
  const { rows } = await sql<{ tenants: string; systems: string; vms: string }>`
    SELECT
      (SELECT count(*) FROM tenants) AS tenants,
      (SELECT count(*) FROM information_systems) AS systems,
      (SELECT count(*) FROM virtual_machines) AS vms`.execute(db);
  const row = rows[0]!;
  return { tenants: Number(row.tenants), systems: Number(row.systems), vms: Number(row.vms) };
}

async function requireEmptyDatabase(trx: Db): Promise<void> {
  const counts = await countInventory(trx);
  if (counts.tenants > 0 || counts.systems > 0 || counts.vms > 0) {
    throw new DomainError('demo_database_not_empty', counts);
  }
}

async function insertTenants(trx: Db, tenants: DemoData['tenants']): Promise<Map<string, number>> {
  const inserted = await insertRows<{ id: number; code: string }>(
    trx,
    'tenants',
    { code: 'text', name: 'text', discount_rate: 'numeric', status: 'text', created_at: 'timestamptz' },
    tenants.map((tenant) => ({ ...tenant, status: 'active' })),
    'id, code',
  );
  return new Map(inserted.map((row) => [row.code, row.id]));
}

async function insertSystems(
  trx: Db,
  systems: DemoData['systems'],
  tenantIds: Map<string, number>,
): Promise<Map<string, number>> {
  const inserted = await insertRows<{ id: number; code: string }>(
    trx,
    'information_systems',
    {
      tenant_id: 'integer',
      code: 'text',
      name: 'text',
      run_mode: 'text',
      status: 'text',
      total_cpu: 'integer',
      total_memory: 'numeric',
      total_storage: 'numeric',
      created_at: 'timestamptz',
      decommissioned_at: 'timestamptz',
    },
    systems.map(({ tenant_code, ...system }) => ({ ...system, tenant_id: idOf(tenantIds, tenant_code) })),
    'id, code',
  );
  return new Map(inserted.map((row) => [row.code, row.id]));
}

async function insertVms(
  trx: Db,
  vms: DemoData['vms'],
  systemIds: Map<string, number>,
): Promise<Map<string, number>> {
  // Observed and recorded values are equal: the baseline is freshly detected.
  const inserted = await insertRows<{ id: number; external_id: string }>(
    trx,
    'virtual_machines',
    {
      provider: 'text',
      external_id: 'text',
      name: 'text',
      information_system_id: 'integer',
      observed_system_id: 'integer',
      observed_cpu: 'integer',
      observed_memory: 'numeric',
      observed_storage: 'numeric',
      recorded_cpu: 'integer',
      recorded_memory: 'numeric',
      recorded_storage: 'numeric',
      status: 'text',
      last_synced_at: 'timestamptz',
      created_at: 'timestamptz',
      updated_at: 'timestamptz',
    },
    vms.map((vm) => ({
      provider: LOCAL_PROVIDER,
      external_id: vm.external_id,
      name: vm.name,
      information_system_id: vm.system_code === null ? null : idOf(systemIds, vm.system_code),
      observed_system_id: vm.observed_system_code === null ? null : idOf(systemIds, vm.observed_system_code),
      observed_cpu: vm.cpu,
      observed_memory: vm.memory,
      observed_storage: vm.storage,
      recorded_cpu: vm.cpu,
      recorded_memory: vm.memory,
      recorded_storage: vm.storage,
      status: vm.status,
      last_synced_at: vm.last_synced_at,
      created_at: vm.created_at,
      updated_at: vm.last_synced_at,
    })),
    'id, external_id',
  );
  return new Map(inserted.map((row) => [row.external_id, row.id]));
}

async function insertAdjustments(
  trx: Db,
  adjustments: DemoData['adjustments'],
  systemIds: Map<string, number>,
  vmIds: Map<string, number>,
): Promise<void> {
  // Billing orders a system's logs by (detected_at, id). The generated logs of
  // one system have distinct detected_at values in practice. Logs at the same
  // instant would still chain, because insertRows assigns ids in array order,
  // which is the order of the replay.
  await insertRows(
    trx,
    'resource_adjustment_logs',
    {
      information_system_id: 'integer',
      virtual_machine_id: 'integer',
      change_type: 'text',
      cpu_before: 'integer',
      memory_before: 'numeric',
      storage_before: 'numeric',
      cpu_after: 'integer',
      memory_after: 'numeric',
      storage_after: 'numeric',
      run_mode_before: 'text',
      run_mode_after: 'text',
      total_cpu_before: 'integer',
      total_memory_before: 'numeric',
      total_storage_before: 'numeric',
      total_cpu_after: 'integer',
      total_memory_after: 'numeric',
      total_storage_after: 'numeric',
      detected_at: 'timestamptz',
      effective_date: 'date',
    },
    adjustments.map(({ system_code, vm_external_id, ...log }) => ({
      ...log,
      information_system_id: idOf(systemIds, system_code),
      virtual_machine_id: vm_external_id === null ? null : idOf(vmIds, vm_external_id),
    })),
  );
}

async function insertDiscountChanges(
  trx: Db,
  changes: DemoData['discountChanges'],
  tenantIds: Map<string, number>,
): Promise<void> {
  await insertRows(
    trx,
    'tenant_discount_changes',
    {
      tenant_id: 'integer',
      discount_rate_before: 'numeric',
      discount_rate_after: 'numeric',
      changed_at: 'timestamptz',
      effective_date: 'date',
    },
    changes.map(({ tenant_code, ...change }) => ({ ...change, tenant_id: idOf(tenantIds, tenant_code) })),
  );
}

/**
 * Inserts `rows` into `table` with one INSERT … SELECT FROM jsonb_to_recordset
 * per ROWS_PER_STATEMENT rows, and returns the `returning` columns (raw SQL) of
 * every inserted row. `columns` maps each column to the SQL type its JSON value
 * is read as. Rows get their identity ids in array order.
 *
 * NOTE: that order relies on PostgreSQL (and PGlite) computing the identity
 * default after the ORDER BY of the SELECT, which they do but do not document.
 */
async function insertRows<Result = never>(
  trx: Db,
  table: keyof Database,
  columns: Record<string, string>,
  rows: readonly object[],
  returning?: string,
): Promise<Result[]> {
  const names = Object.keys(columns);
  const columnList = sql.raw(names.join(', '));
  const selectList = sql.raw(names.map((name) => `r.${name}`).join(', '));
  const recordType = sql.raw(['seq integer', ...names.map((name) => `${name} ${columns[name]}`)].join(', '));
  const returningClause = returning ? sql.raw(`RETURNING ${returning}`) : sql.raw('');

  const results: Result[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT).map((row, index) => ({ ...row, seq: index }));
    const { rows: inserted } = await sql<Result>`
      INSERT INTO ${sql.table(table)} (${columnList})
      SELECT ${selectList}
      FROM jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) AS r(${recordType})
      ORDER BY r.seq
      ${returningClause}`.execute(trx);
    results.push(...inserted);
  }
  return results;
}

function idOf(ids: Map<string, number>, code: string): number {
  const id = ids.get(code);
  if (id === undefined) throw new Error(`demo data refers to ${code}, which was not inserted`);
  return id;
}
