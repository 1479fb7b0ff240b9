import { sql } from 'kysely';
import type { Logger } from 'pino';

import type { Db } from '../db/database.js';
import type { VmStatus } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { translate, type MessageCode, type MessageParameters } from '../i18n/messages.js';
import { LOCAL_PROVIDER } from '../inventory/local-vms.js';
import {
  RejectedSourceRecord,
  type InventoryPageItem,
  type InventoryRecord,
  type InventorySource,
} from '../inventory/source.js';
import { readExternalId, validateRecord } from '../inventory/inventory-record.js';
import { ADJUSTMENT_LOCK_KEY } from './detect-resource-changes.js';

/**
 * sync_vm_status: reads every inventory source and stores what it reports on
 * the VMs of its provider: name, observed system and size, power status. A VM
 * that a successful sync did not report has its missed_syncs counted up and
 * becomes `missing` at the threshold.
 *
 * Sync writes only observed state and sync bookkeeping. It never changes a
 * VM's information_system_id or recorded_* (the billing baseline), system
 * totals or adjustment logs: detect_resource_changes moves the baseline later.
 *
 * Each source syncs in one transaction, so a source that fails part-way leaves
 * all of its VMs as they were, and other sources still sync.
 */

export interface SyncVmStatusOptions {
  now: Date;
  /** TaskRun stored as last_seen_task_run_id on every VM a source reported. */
  taskRunId: string | null;
  /** Consecutive successful syncs a VM must be absent from before it becomes `missing`. Must be at least 1. */
  missingAfterSyncs: number;
  logger: Logger;
}

/** A record that failed validation: its position in the source's output, its id when readable, and why. */
export interface SyncRejection {
  /** 1-based position among the records the source yielded in this sync. */
  record_number: number;
  external_id: string | null;
  /** Where the source found the record, e.g. `vInfo row 17`, when the source gives it. */
  location?: string;
  field: string | null;
  code: MessageCode;
  parameters: MessageParameters;
  /** English message; `code` and `parameters` give the zh-CN one through the message catalog. */
  reason: string;
}

export interface SourceSyncResult {
  source: string;
  provider: string;
  own_database: boolean;
  status: 'succeeded' | 'failed';
  records_read: number;
  /** VMs inserted. Always 0 for a failed source, because its transaction rolled back. */
  created: number;
  /** Existing VMs whose name, observed system or size, or status changed. */
  updated: number;
  /** Existing VMs reported exactly as stored. */
  unchanged: number;
  rejected_count: number;
  /** The first MAX_REPORTED_REJECTIONS rejections, in record order. */
  rejected: SyncRejection[];
  /** VMs of the provider that this sync did not report, so their missed_syncs went up. */
  not_seen: number;
  /** VMs that became `missing` in this sync. */
  marked_missing: number;
  error?: string;
  error_code?: MessageCode;
  /** Parameters of error_code, which give the zh-CN message through the message catalog. */
  error_parameters?: MessageParameters;
}

export interface SyncTotals {
  sources: number;
  sources_failed: number;
  records_read: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  not_seen: number;
  marked_missing: number;
}

export interface SyncVmStatusResult {
  synced_at: string;
  missing_after_syncs: number;
  sources: SourceSyncResult[];
  totals: SyncTotals;
}

/** Maximum rejections listed per source in the result. rejected_count covers all of them. */
export const MAX_REPORTED_REJECTIONS = 1000;
/** Maximum rejections logged one by one per source. One summary line counts the rest. */
export const MAX_LOGGED_REJECTIONS = 20;
/**
 * First key of the transaction-level advisory lock (two-integer form) that
 * serializes syncs of one provider; the second key is the hash of the provider.
 */
export const SYNC_PROVIDER_LOCK_CLASS = 7_301_002;

/** Syncs each source in turn and returns a JSON summary per source and in total. */
export async function syncVmStatus(
  db: Db,
  sources: readonly InventorySource[],
  options: SyncVmStatusOptions,
): Promise<SyncVmStatusResult> {
  if (db.isTransaction) {
    throw new Error(
      'syncVmStatus needs a database handle, not a transaction, because it commits each source on its own',
    );
  }
  if (!Number.isInteger(options.missingAfterSyncs) || options.missingAfterSyncs < 1) {
    throw new RangeError(
      `missingAfterSyncs must be a whole number of at least 1, got ${options.missingAfterSyncs}`,
    );
  }

  // Sources that write must not share a provider with each other or with the
  // own database, or one would count the other's VMs as unseen.
  const providerOwners = new Map<string, string>([[LOCAL_PROVIDER, 'local']]);
  for (const source of sources) {
    if (source.ownDatabase) providerOwners.set(source.provider, source.name);
  }

  const results: SourceSyncResult[] = [];
  for (const source of sources) {
    if (source.ownDatabase) {
      options.logger.debug({ source: source.name, provider: source.provider }, 'own-database source skipped');
      results.push(emptyResult(source));
      continue;
    }

    const owner = providerOwners.get(source.provider);
    if (owner !== undefined) {
      const conflict = new DomainError('inventory_provider_conflict', {
        provider: source.provider,
        source: source.name,
        other: owner,
      });
      results.push(failedResult(emptyResult(source), conflict, options.logger));
      continue;
    }
    providerOwners.set(source.provider, source.name);

    results.push(await syncSource(db, source, options));
  }

  const totals = sumResults(results);
  options.logger.info({ totals }, 'sync_vm_status finished');
  return {
    synced_at: options.now.toISOString(),
    missing_after_syncs: options.missingAfterSyncs,
    sources: results,
    totals,
  };
}

/** Counts of one source's sync, kept apart from the result until its transaction commits. */
interface AppliedCounts {
  created: number;
  updated: number;
  unchanged: number;
  not_seen: number;
  marked_missing: number;
}

/** State of record checking that carries over from page to page of one source. */
export interface RecordCheckState {
  recordsRead: number;
  /** External id → record number of its first occurrence in this sync. */
  seen: Map<string, number>;
}

interface SourceState extends RecordCheckState {
  source: InventorySource;
  options: SyncVmStatusOptions;
  rejections: RejectionCollector;
}

async function syncSource(
  db: Db,
  source: InventorySource,
  options: SyncVmStatusOptions,
): Promise<SourceSyncResult> {
  const result = emptyResult(source);
  const state: SourceState = {
    source,
    options,
    recordsRead: 0,
    seen: new Map(),
    rejections: new RejectionCollector(source, options.logger),
  };

  try {
    const applied = await db.transaction().execute(async (trx) => {
      await lockForSync(trx, source.provider);

      const counts: AppliedCounts = { created: 0, updated: 0, unchanged: 0, not_seen: 0, marked_missing: 0 };
      for await (const page of source.readPages()) {
        const pageCounts = await applyPage(trx, state, page);
        counts.created += pageCounts.created;
        counts.updated += pageCounts.updated;
        counts.unchanged += pageCounts.unchanged;
      }

      const unseen = await markUnseen(trx, source.provider, [...state.seen.keys()], options);
      counts.not_seen = unseen.not_seen;
      counts.marked_missing = unseen.marked_missing;
      return counts;
    });
    Object.assign(result, applied);
  } catch (error) {
    failedResult(result, error, options.logger);
  } finally {
    result.records_read = state.recordsRead;
    result.rejected_count = state.rejections.count;
    result.rejected = state.rejections.reported;
    state.rejections.logOmitted();
  }

  if (result.status === 'succeeded') {
    const { rejected: _rejected, ...summary } = result;
    options.logger.info(summary, 'inventory source synced');
  }
  return result;
}

/**
 * Takes the two locks that a source's sync holds until it commits. The
 * per-provider lock keeps two syncs of a provider from both counting its VMs
 * as unseen. The adjustment lock is taken in shared mode. Detection takes it
 * exclusively before it updates VM rows, so detection waits for the sync to
 * commit instead of deadlocking on the VM rows this transaction has upserted.
 */
async function lockForSync(trx: Db, provider: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${SYNC_PROVIDER_LOCK_CLASS}::integer, hashtext(${provider}))`.execute(
    trx,
  );
  // NOTE: the shared lock is held while the source reads its pages, so a slow
  // connector delays detection and own-inventory changes until it finishes.
  await sql`SELECT pg_advisory_xact_lock_shared(${ADJUSTMENT_LOCK_KEY}::bigint)`.execute(trx);
}

/** A validated record whose system code has been resolved to an id. */
export interface UpsertRow {
  external_id: string;
  name: string;
  system_id: number | null;
  cpu: number;
  /** Decimal text in GB, so the JSON parameter carries the exact value. */
  memory: string;
  storage: string;
  status: VmStatus;
}

export interface PageRejection {
  recordNumber: number;
  externalId: string | null;
  location?: string;
  error: DomainError;
}

interface Candidate {
  recordNumber: number;
  location?: string;
  record: InventoryRecord;
}

/** Validates one page, resolves its system codes in one query and upserts its good records in one statement. */
async function applyPage(
  trx: Db,
  state: SourceState,
  page: readonly InventoryPageItem[],
): Promise<Pick<AppliedCounts, 'created' | 'updated' | 'unchanged'>> {
  const { rows, rejections } = await checkPage(trx, state, page);
  for (const { recordNumber, externalId, location, error } of rejections) {
    state.rejections.add(recordNumber, externalId, error, location);
  }

  state.options.logger.debug(
    { source: state.source.name, records: page.length, applied: rows.length },
    'inventory page read',
  );
  if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0 };
  return upsertPage(trx, state.source.provider, rows, state.options);
}

/**
 * Validates one page and resolves its system codes in one query, without
 * writing. Returns the rows to upsert and the rejections in record order.
 * Sync and the dry run of an import share it, so both reject the same records.
 */
export async function checkPage(
  db: Db,
  state: RecordCheckState,
  page: readonly InventoryPageItem[],
): Promise<{ rows: UpsertRow[]; rejections: PageRejection[] }> {
  // Collected per page and sorted, so that rejections found after the system
  // lookup still appear in record order in the result and the log.
  const rejections: PageRejection[] = [];
  const candidates = validatePage(state, page, rejections);
  const rows = await resolveSystems(db, candidates, rejections);
  rejections.sort((left, right) => left.recordNumber - right.recordNumber);
  return { rows, rejections };
}

/** Numbers the page's records, rejects duplicates and invalid records, and returns the rest. */
function validatePage(
  state: RecordCheckState,
  page: readonly InventoryPageItem[],
  rejections: PageRejection[],
): Candidate[] {
  const candidates: Candidate[] = [];
  for (const input of page) {
    state.recordsRead += 1;
    const recordNumber = state.recordsRead;
    if (input instanceof RejectedSourceRecord) {
      rejections.push({
        recordNumber,
        externalId: input.externalId,
        ...(input.location === null ? {} : { location: input.location }),
        error: input.error,
      });
      continue;
    }
    const externalId = readExternalId(input);
    const location = typeof input.source_location === 'string' ? { location: input.source_location } : {};

    // The first record with an id claims it, even if that record is rejected later.
    if (externalId !== null) {
      const first = state.seen.get(externalId);
      if (first !== undefined) {
        const duplicate = new DomainError(
          'duplicate_external_id',
          { external_id: externalId, first },
          'external_id',
        );
        rejections.push({ recordNumber, externalId, ...location, error: duplicate });
        continue;
      }
      state.seen.set(externalId, recordNumber);
    }

    try {
      candidates.push({ recordNumber, ...location, record: validateRecord(input) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      rejections.push({ recordNumber, externalId, ...location, error });
    }
  }
  return candidates;
}

/** Replaces system codes by ids, rejecting unknown and decommissioned systems. */
async function resolveSystems(
  trx: Db,
  candidates: readonly Candidate[],
  rejections: PageRejection[],
): Promise<UpsertRow[]> {
  const systems = await findSystems(
    trx,
    candidates.map(({ record }) => record.system_code),
  );
  const rows: UpsertRow[] = [];
  for (const { recordNumber, location, record } of candidates) {
    const where = location === undefined ? {} : { location };
    let systemId: number | null = null;
    if (record.system_code !== null) {
      const system = systems.get(record.system_code);
      if (!system) {
        const notFound = new DomainError('system_not_found', { code: record.system_code }, 'system_code');
        rejections.push({ recordNumber, externalId: record.external_id, ...where, error: notFound });
        continue;
      }
      if (system.decommissioned_at) {
        const decommissioned = new DomainError(
          'inventory_system_decommissioned',
          { code: record.system_code, at: system.decommissioned_at.toISOString() },
          'system_code',
        );
        rejections.push({ recordNumber, externalId: record.external_id, ...where, error: decommissioned });
        continue;
      }
      systemId = system.id;
    }
    rows.push({
      external_id: record.external_id,
      name: record.name,
      system_id: systemId,
      cpu: record.cpu,
      memory: record.memory_gb,
      storage: record.storage_gb,
      status: record.power_status,
    });
  }
  return rows;
}

async function findSystems(
  trx: Db,
  codes: (string | null)[],
): Promise<Map<string, { id: number; decommissioned_at: Date | null }>> {
  const distinct = [...new Set(codes.filter((code): code is string => code !== null))];
  if (distinct.length === 0) return new Map();
  const systems = await trx
    .selectFrom('information_systems')
    .select(['id', 'code', 'decommissioned_at'])
    .where('code', 'in', distinct)
    .execute();
  return new Map(systems.map((system) => [system.code, system]));
}

/**
 * Inserts or updates the page's VMs on (provider, external_id). The `previous`
 * CTE reads the rows as they were before the upsert, because every part of one
 * statement reads the same snapshot. Comparing them splits the count into
 * created, updated and unchanged. information_system_id and recorded_* are left
 * out of both the insert (so a new VM is unassigned with a zero baseline) and
 * the update.
 */
async function upsertPage(
  trx: Db,
  provider: string,
  rows: UpsertRow[],
  options: SyncVmStatusOptions,
): Promise<Pick<AppliedCounts, 'created' | 'updated' | 'unchanged'>> {
  const { rows: counts } = await sql<{ created: string; updated: string; unchanged: string }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(
        external_id text, name text, system_id integer, cpu integer, memory numeric, storage numeric, status text)
    ),
    previous AS (
      SELECT
        vm.external_id,
        (vm.name, vm.observed_system_id, vm.observed_cpu, vm.observed_memory, vm.observed_storage, vm.status)
          IS NOT DISTINCT FROM (i.name, i.system_id, i.cpu, i.memory, i.storage, i.status) AS same
      FROM virtual_machines vm
      JOIN input i ON i.external_id = vm.external_id
      WHERE vm.provider = ${provider}
    ),
    upserted AS (
      INSERT INTO virtual_machines AS vm (
        provider, external_id, name, observed_system_id, observed_cpu, observed_memory, observed_storage,
        status, missed_syncs, last_seen_task_run_id, last_synced_at, created_at, updated_at)
      SELECT
        ${provider}, external_id, name, system_id, cpu, memory, storage,
        status, 0, ${options.taskRunId}::bigint, ${options.now}::timestamptz,
        ${options.now}::timestamptz, ${options.now}::timestamptz
      FROM input
      ON CONFLICT (provider, external_id) DO UPDATE SET
        name = excluded.name,
        observed_system_id = excluded.observed_system_id,
        observed_cpu = excluded.observed_cpu,
        observed_memory = excluded.observed_memory,
        observed_storage = excluded.observed_storage,
        status = excluded.status,
        missed_syncs = 0,
        last_seen_task_run_id = excluded.last_seen_task_run_id,
        last_synced_at = excluded.last_synced_at,
        updated_at = CASE
          WHEN (vm.name, vm.observed_system_id, vm.observed_cpu, vm.observed_memory, vm.observed_storage, vm.status)
            IS DISTINCT FROM (excluded.name, excluded.observed_system_id, excluded.observed_cpu,
                              excluded.observed_memory, excluded.observed_storage, excluded.status)
          THEN excluded.updated_at
          ELSE vm.updated_at
        END
      RETURNING vm.external_id
    )
    SELECT
      count(*) FILTER (WHERE p.external_id IS NULL) AS created,
      count(*) FILTER (WHERE NOT p.same) AS updated,
      count(*) FILTER (WHERE p.same) AS unchanged
    FROM upserted u
    LEFT JOIN previous p ON p.external_id = u.external_id`.execute(trx);

  const [count] = counts;
  return {
    created: Number(count?.created ?? 0),
    updated: Number(count?.updated ?? 0),
    unchanged: Number(count?.unchanged ?? 0),
  };
}

/**
 * Increments missed_syncs of the provider's VMs that this sync did not report,
 * in one statement, and marks those at the threshold `missing`. Deleted VMs
 * are left alone. The self-join on `previous` exposes each row's status before
 * the update, so only VMs that become missing now are counted as marked.
 */
async function markUnseen(
  trx: Db,
  provider: string,
  seenIds: string[],
  options: SyncVmStatusOptions,
): Promise<Pick<AppliedCounts, 'not_seen' | 'marked_missing'>> {
  const { rows } = await sql<{ not_seen: string; marked_missing: string }>`
    WITH seen AS (
      SELECT jsonb_array_elements_text(${JSON.stringify(seenIds)}::jsonb) AS external_id
    ),
    counted AS (
      UPDATE virtual_machines vm SET
        missed_syncs = vm.missed_syncs + 1,
        status = CASE WHEN vm.missed_syncs + 1 >= ${options.missingAfterSyncs}::integer THEN 'missing' ELSE vm.status END,
        updated_at = CASE
          WHEN vm.status <> 'missing' AND vm.missed_syncs + 1 >= ${options.missingAfterSyncs}::integer
          THEN ${options.now}::timestamptz
          ELSE vm.updated_at
        END
      FROM virtual_machines previous
      WHERE previous.id = vm.id
        AND vm.provider = ${provider}
        AND vm.status <> 'deleted'
        AND NOT EXISTS (SELECT 1 FROM seen WHERE seen.external_id = vm.external_id)
      RETURNING previous.status AS status_before, vm.status AS status_after
    )
    SELECT
      count(*) AS not_seen,
      count(*) FILTER (WHERE status_before <> 'missing' AND status_after = 'missing') AS marked_missing
    FROM counted`.execute(trx);

  const [count] = rows;
  return { not_seen: Number(count?.not_seen ?? 0), marked_missing: Number(count?.marked_missing ?? 0) };
}

/** Collects a source's rejections for the result and logs the first MAX_LOGGED_REJECTIONS of them. */
class RejectionCollector {
  readonly reported: SyncRejection[] = [];
  count = 0;

  constructor(
    private readonly source: InventorySource,
    private readonly logger: Logger,
  ) {}

  add(recordNumber: number, externalId: string | null, error: DomainError, location?: string): void {
    this.count += 1;
    const rejection: SyncRejection = {
      record_number: recordNumber,
      external_id: externalId,
      ...(location === undefined ? {} : { location }),
      field: error.field ?? null,
      code: error.code,
      parameters: error.parameters,
      reason: translate(error.code, error.parameters, 'en'),
    };
    if (this.reported.length < MAX_REPORTED_REJECTIONS) this.reported.push(rejection);
    if (this.count <= MAX_LOGGED_REJECTIONS) {
      this.logger.warn(
        { source: this.source.name, provider: this.source.provider, ...rejection },
        'inventory record rejected',
      );
    }
  }

  /** Logs one line that counts the rejections past the per-source logging limit. */
  logOmitted(): void {
    if (this.count <= MAX_LOGGED_REJECTIONS) return;
    this.logger.warn(
      {
        source: this.source.name,
        provider: this.source.provider,
        rejected: this.count,
        not_logged: this.count - MAX_LOGGED_REJECTIONS,
      },
      `more inventory records rejected than logged; the task result lists the first ${MAX_REPORTED_REJECTIONS}`,
    );
  }
}

function emptyResult(source: InventorySource): SourceSyncResult {
  return {
    source: source.name,
    provider: source.provider,
    own_database: source.ownDatabase,
    status: 'succeeded',
    records_read: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected_count: 0,
    rejected: [],
    not_seen: 0,
    marked_missing: 0,
  };
}

/** Marks `result` failed with the error's English message and logs the error. */
function failedResult(result: SourceSyncResult, error: unknown, logger: Logger): SourceSyncResult {
  result.status = 'failed';
  if (error instanceof DomainError) {
    result.error = translate(error.code, error.parameters, 'en');
    result.error_code = error.code;
    result.error_parameters = error.parameters;
  } else {
    result.error = error instanceof Error ? error.message : String(error);
  }
  logger.error(
    { err: error, source: result.source, provider: result.provider },
    'inventory source sync failed; its VMs are unchanged',
  );
  return result;
}

function sumResults(results: readonly SourceSyncResult[]): SyncTotals {
  const totals: SyncTotals = {
    sources: results.length,
    sources_failed: 0,
    records_read: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    not_seen: 0,
    marked_missing: 0,
  };
  for (const result of results) {
    if (result.status === 'failed') totals.sources_failed += 1;
    totals.records_read += result.records_read;
    totals.created += result.created;
    totals.updated += result.updated;
    totals.unchanged += result.unchanged;
    totals.rejected += result.rejected_count;
    totals.not_seen += result.not_seen;
    totals.marked_missing += result.marked_missing;
  }
  return totals;
}
