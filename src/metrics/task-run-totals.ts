import { Decimal } from 'decimal.js';

import type { Db } from '../db/database.js';
import {
  TaskRunRepository,
  type RunRange,
  type UnfinishedRun,
} from '../db/repositories/task-run.repository.js';

/** Upper bounds (seconds) of the task run duration histogram, from a 5-second sync to a 2-hour billing catch-up. */
export const DURATION_BUCKETS_SECONDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200] as const;

/**
 * Minimum age of a run, by the database clock, before its totals are kept for
 * good. A run inserted by a transaction that is still open is invisible,
 * although later runs with higher ids may already be visible. The totals
 * assume that no such transaction stays open this long.
 */
export const SETTLE_MARGIN_SECONDS = 300;

export interface RunTotals {
  task: string;
  outcome: 'succeeded' | 'failed';
  runs: number;
  timedRuns: number;
  durationSum: Decimal;
  /** Cumulative counts per bound of DURATION_BUCKETS_SECONDS. */
  bucketCounts: number[];
  lastFinishedAt: Date;
}

export interface SourceSyncTotals {
  source: string;
  outcome: string;
  syncs: number;
  lastFinishedAt: Date;
}

/** Totals over every finished task run, as /metrics exposes them. */
export interface TaskRunTotals {
  runs: Map<string, RunTotals>;
  billing: { recordsCreated: Decimal; amountCreated: Decimal; recordsRerated: Decimal };
  sourceSyncs: Map<string, SourceSyncTotals>;
}

/** Queued or running runs of one task. */
export interface UnfinishedRunGroup {
  task: string;
  status: 'queued' | 'running';
  runs: number;
  /** Earliest start among the group's running runs; null for queued runs. */
  oldestStartedAt: Date | null;
}

export interface TaskRunSnapshot {
  totals: TaskRunTotals;
  unfinished: UnfinishedRunGroup[];
}

function emptyTotals(): TaskRunTotals {
  return {
    runs: new Map(),
    billing: {
      recordsCreated: new Decimal(0),
      amountCreated: new Decimal(0),
      recordsRerated: new Decimal(0),
    },
    sourceSyncs: new Map(),
  };
}

function copyTotals(totals: TaskRunTotals): TaskRunTotals {
  return {
    runs: new Map(
      [...totals.runs].map(([key, value]) => [key, { ...value, bucketCounts: [...value.bucketCounts] }]),
    ),
    billing: { ...totals.billing },
    sourceSyncs: new Map([...totals.sourceSyncs].map(([key, value]) => [key, { ...value }])),
  };
}

const later = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);

/**
 * Reads the task run totals for /metrics from task_runs at each scrape,
 * without reading the whole table each time.
 *
 * A finished run never changes again. The totals of the finished runs up to
 * the settled id (see SETTLE_MARGIN_SECONDS) are kept in memory, with the ids
 * of the runs up to it that were still queued or running. Each scrape
 * aggregates only the runs above the settled id and the kept ids that have
 * finished since. The first scrape after a start aggregates the whole table.
 */
export class TaskRunTotalsReader {
  #settledId = '0';
  #settled = emptyTotals();
  /** Ids up to #settledId of runs that were queued or running at the last read. */
  #pendingIds: string[] = [];
  #inFlight: Promise<TaskRunSnapshot> | null = null;

  constructor(private readonly db: Db) {}

  /** Reads the current totals. Concurrent calls share one read, so that a burst of scrapes sends one set of queries. */
  read(): Promise<TaskRunSnapshot> {
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #read(): Promise<TaskRunSnapshot> {
    // One snapshot of the table for every query, so that a run finishing
    // between two of them is counted consistently in all of them.
    const { snapshot, settledId, settled, pendingIds } = await this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const taskRuns = new TaskRunRepository(trx);
        const unfinished = await taskRuns.getUnfinished();
        const unfinishedIds = new Set(unfinished.map((run) => run.id));
        const found = await taskRuns.getSettledId(SETTLE_MARGIN_SECONDS);
        const range: RunRange = {
          afterId: this.#settledId,
          settledId: BigInt(found) > BigInt(this.#settledId) ? found : this.#settledId,
          finishedIds: this.#pendingIds.filter((id) => !unfinishedIds.has(id)),
        };

        const settledTotals = copyTotals(this.#settled);
        const current = copyTotals(this.#settled);
        await addAggregates(taskRuns, range, (settledRow) =>
          settledRow ? [settledTotals, current] : [current],
        );

        const settledLimit = BigInt(range.settledId);
        return {
          snapshot: { totals: current, unfinished: groupUnfinished(unfinished) },
          settledId: range.settledId,
          settled: settledTotals,
          pendingIds: unfinished.filter((run) => BigInt(run.id) <= settledLimit).map((run) => run.id),
        };
      });

    // Kept only once the transaction has ended without error.
    this.#settledId = settledId;
    this.#settled = settled;
    this.#pendingIds = pendingIds;
    return snapshot;
  }
}

/**
 * Adds the aggregates of the runs in `range` to the totals that `targets`
 * returns for each row: the kept and the current totals for a settled row,
 * the current ones only for a row above the settled id.
 */
async function addAggregates(
  taskRuns: TaskRunRepository,
  range: RunRange,
  targets: (settled: boolean) => TaskRunTotals[],
): Promise<void> {
  for (const row of await taskRuns.aggregateFinishedRuns(range, DURATION_BUCKETS_SECONDS)) {
    for (const totals of targets(row.settled)) {
      addRuns(totals, {
        task: row.task_name,
        outcome: row.status,
        runs: row.runs,
        timedRuns: row.timed_runs,
        durationSum: new Decimal(row.duration_sum),
        bucketCounts: row.bucket_counts.map(Number),
        lastFinishedAt: row.last_finished_at,
      });
    }
  }

  for (const row of await taskRuns.aggregateBillingResults(range)) {
    for (const totals of targets(row.settled)) {
      totals.billing.recordsCreated = totals.billing.recordsCreated.plus(row.records_created);
      totals.billing.amountCreated = totals.billing.amountCreated.plus(row.amount_created);
      totals.billing.recordsRerated = totals.billing.recordsRerated.plus(row.records_rerated);
    }
  }

  for (const row of await taskRuns.aggregateSourceSyncs(range)) {
    for (const totals of targets(row.settled)) {
      addSourceSyncs(totals, {
        source: row.source,
        outcome: row.status,
        syncs: row.syncs,
        lastFinishedAt: row.last_finished_at,
      });
    }
  }
}

function groupUnfinished(runs: UnfinishedRun[]): UnfinishedRunGroup[] {
  const groups = new Map<string, UnfinishedRunGroup>();
  for (const run of runs) {
    const key = `${run.task_name}\u0000${run.status}`;
    const group = groups.get(key) ?? {
      task: run.task_name,
      status: run.status,
      runs: 0,
      oldestStartedAt: null,
    };
    group.runs += 1;
    if (run.started_at && (!group.oldestStartedAt || run.started_at < group.oldestStartedAt)) {
      group.oldestStartedAt = run.started_at;
    }
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) =>
    a.task === b.task ? a.status.localeCompare(b.status) : a.task.localeCompare(b.task),
  );
}

function addRuns(totals: TaskRunTotals, group: RunTotals): void {
  const key = `${group.task}\u0000${group.outcome}`;
  const existing = totals.runs.get(key);
  if (!existing) {
    totals.runs.set(key, { ...group, bucketCounts: [...group.bucketCounts] });
    return;
  }
  existing.runs += group.runs;
  existing.timedRuns += group.timedRuns;
  existing.durationSum = existing.durationSum.plus(group.durationSum);
  existing.bucketCounts = existing.bucketCounts.map(
    (count, index) => count + (group.bucketCounts[index] ?? 0),
  );
  existing.lastFinishedAt = later(existing.lastFinishedAt, group.lastFinishedAt);
}

function addSourceSyncs(totals: TaskRunTotals, group: SourceSyncTotals): void {
  const key = `${group.source}\u0000${group.outcome}`;
  const existing = totals.sourceSyncs.get(key);
  if (!existing) {
    totals.sourceSyncs.set(key, { ...group });
    return;
  }
  existing.syncs += group.syncs;
  existing.lastFinishedAt = later(existing.lastFinishedAt, group.lastFinishedAt);
}
