import { sql } from 'kysely';

import { addDays, dayOf } from '../billing/days.js';
import type { Db } from '../db/database.js';
import type { ChangeType } from '../db/schema.js';

/**
 * detect_resource_changes: moves each VM's recorded baseline (assignment and
 * cpu/memory/storage) to what the last sync observed, writing one
 * ResourceAdjustmentLog per change and updating the systems' totals, all in one
 * transaction. A VM that is missing or deleted counts as assigned to no system.
 *
 * Each log carries its system's totals before and after, applied in VM id order
 * when one run changes several VMs of a system, so the logs of a system chain
 * without gaps. Billing reads the totals at any instant from that chain.
 */

export interface DetectionOptions {
  timezone: string;
  /** Detection instant; defaults to the time the lock is acquired. */
  now?: Date;
  taskRunId?: string | null;
  /** Limits detection to these VMs (the CLI's own-inventory commands); all VMs when absent. */
  vmIds?: number[];
}

export interface DetectionResult {
  detected_at: string;
  effective_date: string;
  changes: number;
  by_type: Partial<Record<ChangeType, number>>;
  vms_changed: number;
  systems_changed: number;
}

/**
 * Key of the transaction-level advisory lock that every writer of adjustment
 * logs holds, so that logs of one system are written in detected_at order.
 */
export const ADJUSTMENT_LOCK_KEY = 7_301_001;

/** Takes the adjustment lock for the rest of the transaction `trx`. */
export async function lockAdjustments(trx: Db): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${ADJUSTMENT_LOCK_KEY}::bigint)`.execute(trx);
}

export async function detectResourceChanges(db: Db, options: DetectionOptions): Promise<DetectionResult> {
  if (db.isTransaction) return detectInTransaction(db, options);
  return db.transaction().execute((trx) => detectInTransaction(trx, options));
}

async function detectInTransaction(trx: Db, options: DetectionOptions): Promise<DetectionResult> {
  await lockAdjustments(trx);

  const detectedAt = options.now ?? new Date();
  const effectiveDate = addDays(dayOf(detectedAt, options.timezone), 1);
  const vmFilter = options.vmIds ? sql`vm.id = ANY(${options.vmIds}::integer[])` : sql`TRUE`;

  const { rows } = await sql<{ change_type: ChangeType; changes: string; vms: string; systems: string }>`
    WITH observed AS (
      SELECT
        vm.id,
        vm.information_system_id AS old_system_id,
        CASE WHEN vm.status IN ('missing', 'deleted') THEN NULL ELSE vm.observed_system_id END AS new_system_id,
        vm.recorded_cpu, vm.recorded_memory, vm.recorded_storage,
        vm.observed_cpu, vm.observed_memory, vm.observed_storage
      FROM virtual_machines vm
      WHERE ${vmFilter}
        AND (vm.information_system_id IS NOT NULL OR vm.observed_system_id IS NOT NULL)
    ),
    diffs AS (
      SELECT * FROM observed o
      WHERE o.old_system_id IS DISTINCT FROM o.new_system_id
         OR (o.new_system_id IS NOT NULL
             AND (o.recorded_cpu, o.recorded_memory, o.recorded_storage)
                 IS DISTINCT FROM (o.observed_cpu, o.observed_memory, o.observed_storage))
    ),
    events AS (
      -- The VM leaves its recorded system: removed, or reassigned elsewhere.
      SELECT
        d.id AS vm_id, d.old_system_id AS system_id,
        CASE WHEN d.new_system_id IS NULL THEN 'vm_removed' ELSE 'vm_reassigned' END AS change_type,
        d.recorded_cpu AS cpu_before, d.recorded_memory AS memory_before, d.recorded_storage AS storage_before,
        CASE WHEN d.new_system_id IS NULL THEN NULL ELSE d.observed_cpu END AS cpu_after,
        CASE WHEN d.new_system_id IS NULL THEN NULL ELSE d.observed_memory END AS memory_after,
        CASE WHEN d.new_system_id IS NULL THEN NULL ELSE d.observed_storage END AS storage_after,
        -d.recorded_cpu AS delta_cpu, -d.recorded_memory AS delta_memory, -d.recorded_storage AS delta_storage
      FROM diffs d
      WHERE d.old_system_id IS NOT NULL AND d.old_system_id IS DISTINCT FROM d.new_system_id
      UNION ALL
      -- The VM joins a system: added, or reassigned from elsewhere.
      SELECT
        d.id, d.new_system_id,
        CASE WHEN d.old_system_id IS NULL THEN 'vm_added' ELSE 'vm_reassigned' END,
        CASE WHEN d.old_system_id IS NULL THEN NULL ELSE d.recorded_cpu END,
        CASE WHEN d.old_system_id IS NULL THEN NULL ELSE d.recorded_memory END,
        CASE WHEN d.old_system_id IS NULL THEN NULL ELSE d.recorded_storage END,
        d.observed_cpu, d.observed_memory, d.observed_storage,
        d.observed_cpu, d.observed_memory, d.observed_storage
      FROM diffs d
      WHERE d.new_system_id IS NOT NULL AND d.old_system_id IS DISTINCT FROM d.new_system_id
      UNION ALL
      -- The VM stays in its system with a new size.
      SELECT
        d.id, d.old_system_id, 'vm_resized',
        d.recorded_cpu, d.recorded_memory, d.recorded_storage,
        d.observed_cpu, d.observed_memory, d.observed_storage,
        d.observed_cpu - d.recorded_cpu, d.observed_memory - d.recorded_memory,
        d.observed_storage - d.recorded_storage
      FROM diffs d
      WHERE d.old_system_id = d.new_system_id
    ),
    sequenced AS (
      SELECT
        e.*,
        s.total_cpu + COALESCE(sum(e.delta_cpu) OVER earlier, 0) AS total_cpu_before,
        trim_scale(s.total_memory + COALESCE(sum(e.delta_memory) OVER earlier, 0)) AS total_memory_before,
        trim_scale(s.total_storage + COALESCE(sum(e.delta_storage) OVER earlier, 0)) AS total_storage_before,
        s.total_cpu + sum(e.delta_cpu) OVER through_this AS total_cpu_after,
        trim_scale(s.total_memory + sum(e.delta_memory) OVER through_this) AS total_memory_after,
        trim_scale(s.total_storage + sum(e.delta_storage) OVER through_this) AS total_storage_after
      FROM events e
      JOIN information_systems s ON s.id = e.system_id
      WINDOW
        earlier AS (PARTITION BY e.system_id ORDER BY e.vm_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
        through_this AS (PARTITION BY e.system_id ORDER BY e.vm_id ROWS UNBOUNDED PRECEDING)
    ),
    logged AS (
      INSERT INTO resource_adjustment_logs (
        information_system_id, virtual_machine_id, change_type,
        cpu_before, memory_before, storage_before, cpu_after, memory_after, storage_after,
        total_cpu_before, total_memory_before, total_storage_before,
        total_cpu_after, total_memory_after, total_storage_after,
        detected_at, effective_date, task_run_id)
      SELECT
        system_id, vm_id, change_type,
        cpu_before, memory_before, storage_before, cpu_after, memory_after, storage_after,
        total_cpu_before, total_memory_before, total_storage_before,
        total_cpu_after, total_memory_after, total_storage_after,
        ${detectedAt}::timestamptz, ${effectiveDate}::date, ${options.taskRunId ?? null}::bigint
      FROM sequenced
      -- Ids follow this order, and billing reads a system's logs in (detected_at, id) order.
      ORDER BY system_id, vm_id
      RETURNING change_type, virtual_machine_id, information_system_id
    ),
    totals AS (
      UPDATE information_systems s SET
        total_cpu = s.total_cpu + t.delta_cpu,
        total_memory = trim_scale(s.total_memory + t.delta_memory),
        total_storage = trim_scale(s.total_storage + t.delta_storage)
      FROM (
        SELECT system_id, sum(delta_cpu) AS delta_cpu, sum(delta_memory) AS delta_memory,
               sum(delta_storage) AS delta_storage
        FROM events GROUP BY system_id
      ) t
      WHERE s.id = t.system_id
      RETURNING s.id
    ),
    baseline AS (
      UPDATE virtual_machines vm SET
        information_system_id = d.new_system_id,
        recorded_cpu = CASE WHEN d.new_system_id IS NULL THEN vm.recorded_cpu ELSE d.observed_cpu END,
        recorded_memory = CASE WHEN d.new_system_id IS NULL THEN vm.recorded_memory ELSE d.observed_memory END,
        recorded_storage = CASE WHEN d.new_system_id IS NULL THEN vm.recorded_storage ELSE d.observed_storage END,
        updated_at = now()
      FROM diffs d
      WHERE vm.id = d.id
      RETURNING vm.id
    )
    SELECT
      change_type,
      count(*) AS changes,
      (SELECT count(*) FROM baseline) AS vms,
      (SELECT count(*) FROM totals) AS systems
    FROM logged
    GROUP BY change_type`.execute(trx);

  const byType: Partial<Record<ChangeType, number>> = {};
  let changes = 0;
  for (const row of rows) {
    byType[row.change_type] = Number(row.changes);
    changes += Number(row.changes);
  }

  return {
    detected_at: detectedAt.toISOString(),
    effective_date: effectiveDate,
    changes,
    by_type: byType,
    vms_changed: rows.length > 0 ? Number(rows[0]!.vms) : 0,
    systems_changed: rows.length > 0 ? Number(rows[0]!.systems) : 0,
  };
}
