import { Decimal } from 'decimal.js';

import type { Db } from '../db/database.js';
import type { VmStatus } from '../db/schema.js';
import { translate, type MessageCode, type MessageParameters } from '../i18n/messages.js';
import { checkPage, type RecordCheckState, type UpsertRow } from '../monitoring/sync-vm-status.js';
import type { InventoryPageItem, InventorySource } from './source.js';

/**
 * The dry run of a source's sync: reads the source, checks its records as
 * sync does, and compares them with the stored VMs of its provider. It only
 * reads the database.
 */

/** Maximum VMs listed per group of the plan; the counts cover all of them. */
export const MAX_LISTED_VMS = 1000;

/** A VM as the import would store it; sizes in GB as exact decimal text. */
export interface PlannedVm {
  external_id: string;
  name: string;
  system_code: string | null;
  cpu: number;
  memory_gb: string;
  storage_gb: string;
  status: VmStatus;
  location: string | null;
}

export type PlannedField = 'name' | 'system_code' | 'cpu' | 'memory_gb' | 'storage_gb' | 'status';

export interface PlannedChange {
  external_id: string;
  name: string;
  location: string | null;
  /** Each changed field with its stored and imported values. */
  changes: Partial<Record<PlannedField, { before: string | number | null; after: string | number | null }>>;
}

export interface PlannedAbsence {
  external_id: string;
  name: string;
  status: VmStatus;
  /** missed_syncs after the import. */
  missed_syncs: number;
  /** Whether this import would mark the VM `missing`. */
  becomes_missing: boolean;
}

export interface PlannedRejection {
  record_number: number;
  location: string | null;
  external_id: string | null;
  field: string | null;
  code: MessageCode;
  parameters: MessageParameters;
  reason: string;
}

export interface ImportPlan {
  source: string;
  provider: string;
  records_read: number;
  new_count: number;
  changed_count: number;
  unchanged: number;
  not_seen_count: number;
  becomes_missing: number;
  rejected_count: number;
  /** The first MAX_LISTED_VMS of each group, in record order (not_seen by external id). */
  new: PlannedVm[];
  changed: PlannedChange[];
  not_seen: PlannedAbsence[];
  rejected: PlannedRejection[];
}

/** Stored VM fields compared by the plan. */
interface StoredVm {
  external_id: string;
  name: string;
  system_code: string | null;
  observed_cpu: number;
  observed_memory: string;
  observed_storage: string;
  status: VmStatus;
}

/**
 * Plans the sync of `source` without writing. Throws what the source throws
 * when its data cannot be read, as the sync would fail then.
 */
export async function planInventoryImport(
  db: Db,
  source: InventorySource,
  options: { missingAfterSyncs: number },
): Promise<ImportPlan> {
  const plan: ImportPlan = {
    source: source.name,
    provider: source.provider,
    records_read: 0,
    new_count: 0,
    changed_count: 0,
    unchanged: 0,
    not_seen_count: 0,
    becomes_missing: 0,
    rejected_count: 0,
    new: [],
    changed: [],
    not_seen: [],
    rejected: [],
  };
  const state: RecordCheckState = { recordsRead: 0, seen: new Map() };

  for await (const page of source.readPages()) {
    const { rows, rejections } = await checkPage(db, state, page);
    for (const rejection of rejections) {
      plan.rejected_count += 1;
      if (plan.rejected.length >= MAX_LISTED_VMS) continue;
      plan.rejected.push({
        record_number: rejection.recordNumber,
        location: rejection.location ?? null,
        external_id: rejection.externalId,
        field: rejection.error.field ?? null,
        code: rejection.error.code,
        parameters: rejection.error.parameters,
        reason: translate(rejection.error.code, rejection.error.parameters, 'en'),
      });
    }
    await compareRows(db, source.provider, rows, locationsOf(page), plan);
  }
  plan.records_read = state.recordsRead;

  await planAbsences(db, source.provider, [...state.seen.keys()], options.missingAfterSyncs, plan);
  return plan;
}

function locationsOf(page: readonly InventoryPageItem[]): Map<string, string> {
  const locations = new Map<string, string>();
  for (const item of page) {
    const record = item as Record<string, unknown>;
    if (typeof record.external_id === 'string' && typeof record.source_location === 'string') {
      locations.set(record.external_id.trim(), record.source_location);
    }
  }
  return locations;
}

/** Sorts one page's accepted rows into new, changed and unchanged VMs. */
async function compareRows(
  db: Db,
  provider: string,
  rows: readonly UpsertRow[],
  locations: Map<string, string>,
  plan: ImportPlan,
): Promise<void> {
  if (rows.length === 0) return;
  const stored = await findStoredVms(
    db,
    provider,
    rows.map((row) => row.external_id),
  );
  const codes = await findSystemCodes(db, rows);

  for (const row of rows) {
    const imported: PlannedVm = {
      external_id: row.external_id,
      name: row.name,
      system_code: row.system_id === null ? null : (codes.get(row.system_id) ?? null),
      cpu: row.cpu,
      memory_gb: row.memory,
      storage_gb: row.storage,
      status: row.status,
      location: locations.get(row.external_id) ?? null,
    };
    const before = stored.get(row.external_id);
    if (before === undefined) {
      plan.new_count += 1;
      if (plan.new.length < MAX_LISTED_VMS) plan.new.push(imported);
      continue;
    }

    const changes = diff(before, imported);
    if (Object.keys(changes).length === 0) {
      plan.unchanged += 1;
      continue;
    }
    plan.changed_count += 1;
    if (plan.changed.length < MAX_LISTED_VMS) {
      plan.changed.push({
        external_id: row.external_id,
        name: row.name,
        location: imported.location,
        changes,
      });
    }
  }
}

function diff(before: StoredVm, after: PlannedVm): PlannedChange['changes'] {
  const changes: PlannedChange['changes'] = {};
  if (before.name !== after.name) changes.name = { before: before.name, after: after.name };
  if (before.system_code !== after.system_code) {
    changes.system_code = { before: before.system_code, after: after.system_code };
  }
  if (before.observed_cpu !== after.cpu) changes.cpu = { before: before.observed_cpu, after: after.cpu };
  if (!new Decimal(before.observed_memory).eq(after.memory_gb)) {
    changes.memory_gb = { before: before.observed_memory, after: after.memory_gb };
  }
  if (!new Decimal(before.observed_storage).eq(after.storage_gb)) {
    changes.storage_gb = { before: before.observed_storage, after: after.storage_gb };
  }
  if (before.status !== after.status) changes.status = { before: before.status, after: after.status };
  return changes;
}

async function findStoredVms(
  db: Db,
  provider: string,
  externalIds: string[],
): Promise<Map<string, StoredVm>> {
  const rows = await db
    .selectFrom('virtual_machines as vm')
    .leftJoin('information_systems as s', 's.id', 'vm.observed_system_id')
    .select([
      'vm.external_id',
      'vm.name',
      's.code as system_code',
      'vm.observed_cpu',
      'vm.observed_memory',
      'vm.observed_storage',
      'vm.status',
    ])
    .where('vm.provider', '=', provider)
    .where('vm.external_id', 'in', externalIds)
    .execute();
  return new Map(rows.map((row) => [row.external_id, row]));
}

async function findSystemCodes(db: Db, rows: readonly UpsertRow[]): Promise<Map<number, string>> {
  const ids = [...new Set(rows.map((row) => row.system_id).filter((id): id is number => id !== null))];
  if (ids.length === 0) return new Map();
  const systems = await db
    .selectFrom('information_systems')
    .select(['id', 'code'])
    .where('id', 'in', ids)
    .execute();
  return new Map(systems.map((system) => [system.id, system.code]));
}

/**
 * Lists the provider's VMs that the import does not contain, as sync would
 * count them: deleted VMs are left out, and a VM becomes missing when its
 * missed_syncs reaches the threshold.
 */
async function planAbsences(
  db: Db,
  provider: string,
  seenIds: string[],
  missingAfterSyncs: number,
  plan: ImportPlan,
): Promise<void> {
  const seen = new Set(seenIds);
  // Read in keyset pages by external id, because PGlite cannot stream a query.
  let after: string | null = null;
  for (;;) {
    let query = db
      .selectFrom('virtual_machines')
      .select(['external_id', 'name', 'status', 'missed_syncs'])
      .where('provider', '=', provider)
      .where('status', '<>', 'deleted')
      .orderBy('external_id')
      .limit(ABSENCE_PAGE_SIZE);
    if (after !== null) query = query.where('external_id', '>', after);
    const vms = await query.execute();
    for (const vm of vms) countAbsence(vm, seen, missingAfterSyncs, plan);
    if (vms.length < ABSENCE_PAGE_SIZE) return;
    after = vms[vms.length - 1]!.external_id;
  }
}

const ABSENCE_PAGE_SIZE = 1000;

function countAbsence(
  vm: { external_id: string; name: string; status: VmStatus; missed_syncs: number },
  seen: ReadonlySet<string>,
  missingAfterSyncs: number,
  plan: ImportPlan,
): void {
  if (seen.has(vm.external_id)) return;
  const missedSyncs = vm.missed_syncs + 1;
  const becomesMissing = vm.status !== 'missing' && missedSyncs >= missingAfterSyncs;
  plan.not_seen_count += 1;
  if (becomesMissing) plan.becomes_missing += 1;
  if (plan.not_seen.length < MAX_LISTED_VMS) {
    plan.not_seen.push({
      external_id: vm.external_id,
      name: vm.name,
      status: vm.status,
      missed_syncs: missedSyncs,
      becomes_missing: becomesMissing,
    });
  }
}
