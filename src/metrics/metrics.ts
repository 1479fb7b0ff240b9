import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';

import { dayStart } from '../billing/days.js';
import type { Db } from '../db/database.js';
import { BillingDayRepository } from '../db/repositories/billing-day.repository.js';
import type { Logger } from '../logger.js';
import type { QueueDepthSource } from './queue-depths.js';
import { DURATION_BUCKETS_SECONDS, TaskRunTotalsReader, type TaskRunSnapshot } from './task-run-totals.js';

/**
 * Prometheus metrics of /metrics. Workers run in other processes and on
 * other machines, so the task metrics are read from PostgreSQL at each
 * scrape (task_runs and billing_days, never billing_records) and are the
 * same on every `serve` process: aggregate them with max(), not sum().
 */

type MetricType = 'counter' | 'gauge' | 'histogram';

interface Sample {
  /** Full sample name, for the _bucket, _sum and _count series of a histogram. */
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric whose samples are replaced at each scrape, in the shape that a prom-client Registry reads. */
class SnapshotMetric {
  readonly aggregator = 'sum';
  samples: Sample[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
  ) {}

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.samples,
    };
  }

  reset(): void {
    this.samples = [];
  }
}

let processRegistry: Registry | undefined;

/** prom-client's process metrics (CPU, memory, event loop lag, GC), set up once per process. */
function getProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const seconds = (instant: Date) => instant.getTime() / 1000;

export interface MetricsOptions {
  db: Db;
  /** Zone of the billing day, for the start time of the last complete day. */
  billingTimezone: string;
  /** Queue depths of the distributed shape; without it /metrics has no queue metrics. */
  queueDepths?: QueueDepthSource | undefined;
  logger: Logger;
}

export class Metrics {
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  readonly #options: MetricsOptions;
  readonly #taskRuns: TaskRunTotalsReader;
  readonly #registry: Registry;

  readonly #up = new SnapshotMetric(
    'cloud_platform_metrics_source_up',
    'Whether the last scrape read the source (database or queues): 1 read, 0 failed',
    'gauge',
  );
  readonly #runsTotal = new SnapshotMetric(
    'cloud_platform_task_runs_total',
    'Finished task runs by task and outcome',
    'counter',
  );
  readonly #runDuration = new SnapshotMetric(
    'cloud_platform_task_run_duration_seconds',
    'Duration of finished task runs from start to finish',
    'histogram',
  );
  readonly #lastSuccess = new SnapshotMetric(
    'cloud_platform_task_last_success_timestamp_seconds',
    'Finish time of the last successful run of each task, as Unix time',
    'gauge',
  );
  readonly #inProgress = new SnapshotMetric(
    'cloud_platform_task_runs_in_progress',
    'Task runs that are queued or running',
    'gauge',
  );
  readonly #oldestRunning = new SnapshotMetric(
    'cloud_platform_task_oldest_running_start_timestamp_seconds',
    'Start time of the oldest running run of each task, as Unix time',
    'gauge',
  );
  readonly #recordsCreated = new SnapshotMetric(
    'cloud_platform_billing_records_created_total',
    'Billing records created, as reported by the results of create_daily_billing_records runs',
    'counter',
  );
  readonly #amountCreated = new SnapshotMetric(
    'cloud_platform_billing_amount_cny_total',
    'Amount of the billing records created, in CNY, as reported by the results of create_daily_billing_records runs',
    'counter',
  );
  readonly #recordsRerated = new SnapshotMetric(
    'cloud_platform_billing_records_rerated_total',
    'Billing records whose values changed when a billed day was re-rated',
    'counter',
  );
  readonly #lastDay = new SnapshotMetric(
    'cloud_platform_billing_last_complete_day_timestamp_seconds',
    'Start of the latest completely billed day in the billing time zone, as Unix time',
    'gauge',
  );
  readonly #lastDayRecords = new SnapshotMetric(
    'cloud_platform_billing_last_complete_day_records',
    'Billing records of the latest completely billed day',
    'gauge',
  );
  readonly #lastDayAmount = new SnapshotMetric(
    'cloud_platform_billing_last_complete_day_amount_cny',
    'Amount billed for the latest completely billed day, in CNY',
    'gauge',
  );
  readonly #sourceSyncs = new SnapshotMetric(
    'cloud_platform_inventory_source_syncs_total',
    'Inventory source syncs by source and outcome, from sync_vm_status runs',
    'counter',
  );
  readonly #sourceLastSuccess = new SnapshotMetric(
    'cloud_platform_inventory_source_last_success_timestamp_seconds',
    'Finish time of the sync_vm_status run that last synced each source successfully, as Unix time',
    'gauge',
  );
  readonly #queueJobs = new SnapshotMetric(
    'cloud_platform_queue_jobs',
    'Jobs in each task queue by state',
    'gauge',
  );

  constructor(options: MetricsOptions) {
    this.#options = options;
    this.#taskRuns = new TaskRunTotalsReader(options.db);

    const own = new Registry();
    const metrics = [
      this.#up,
      this.#runsTotal,
      this.#runDuration,
      this.#lastSuccess,
      this.#inProgress,
      this.#oldestRunning,
      this.#recordsCreated,
      this.#amountCreated,
      this.#recordsRerated,
      this.#lastDay,
      this.#lastDayRecords,
      this.#lastDayAmount,
      this.#sourceSyncs,
      this.#sourceLastSuccess,
      ...(options.queueDepths ? [this.#queueJobs] : []),
    ];
    // The Registry reads any object with name, help, type and get(); its type lists only its own classes.
    for (const metric of metrics) own.registerMetric(metric as unknown as Metric);
    this.#registry = Registry.merge([getProcessRegistry(), own]);
  }

  /** Reads the database and the queues, and returns every metric in the Prometheus text format. */
  async render(): Promise<string> {
    const [database, queues] = await Promise.all([this.#readDatabase(), this.#readQueues()]);

    // Set synchronously right before metrics(), which reads every metric in this tick.
    this.#up.samples = [{ labels: { source: 'database' }, value: database ? 1 : 0 }];
    if (this.#options.queueDepths)
      this.#up.samples.push({ labels: { source: 'queues' }, value: queues ? 1 : 0 });
    this.#setTaskRunSamples(database?.taskRuns);
    this.#setBillingDaySamples(database?.latestDay);
    this.#queueJobs.samples = (queues ?? []).map((depth) => ({
      labels: { queue: depth.queue, state: depth.state },
      value: depth.count,
    }));
    return this.#registry.metrics();
  }

  async #readDatabase() {
    try {
      const taskRuns = await this.#taskRuns.read();
      const latestDay = await new BillingDayRepository(this.#options.db).getLatest();
      return { taskRuns, latestDay };
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'metrics: reading task runs and billing days failed');
      return undefined;
    }
  }

  async #readQueues() {
    if (!this.#options.queueDepths) return undefined;
    try {
      return await this.#options.queueDepths.getCounts();
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'metrics: reading queue depths failed');
      return undefined;
    }
  }

  #setTaskRunSamples(snapshot: TaskRunSnapshot | undefined): void {
    const runs = [...(snapshot?.totals.runs.values() ?? [])];
    this.#runsTotal.samples = runs.map((group) => ({
      labels: { task: group.task, outcome: group.outcome },
      value: group.runs,
    }));
    this.#runDuration.samples = runs.flatMap((group) => {
      const labels = { task: group.task, outcome: group.outcome };
      const name = this.#runDuration.name;
      return [
        ...DURATION_BUCKETS_SECONDS.map((bound, index) => ({
          metricName: `${name}_bucket`,
          labels: { ...labels, le: String(bound) },
          value: group.bucketCounts[index] ?? 0,
        })),
        { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: group.timedRuns },
        { metricName: `${name}_sum`, labels, value: group.durationSum.toNumber() },
        { metricName: `${name}_count`, labels, value: group.timedRuns },
      ];
    });
    this.#lastSuccess.samples = runs
      .filter((group) => group.outcome === 'succeeded')
      .map((group) => ({ labels: { task: group.task }, value: seconds(group.lastFinishedAt) }));

    const unfinished = snapshot?.unfinished ?? [];
    this.#inProgress.samples = unfinished.map((group) => ({
      labels: { task: group.task, status: group.status },
      value: group.runs,
    }));
    this.#oldestRunning.samples = unfinished.flatMap((group) =>
      group.status === 'running' && group.oldestStartedAt
        ? [{ labels: { task: group.task }, value: seconds(group.oldestStartedAt) }]
        : [],
    );

    const billing = snapshot?.totals.billing;
    this.#recordsCreated.samples = billing ? [{ labels: {}, value: billing.recordsCreated.toNumber() }] : [];
    this.#amountCreated.samples = billing ? [{ labels: {}, value: billing.amountCreated.toNumber() }] : [];
    this.#recordsRerated.samples = billing ? [{ labels: {}, value: billing.recordsRerated.toNumber() }] : [];

    const syncs = [...(snapshot?.totals.sourceSyncs.values() ?? [])];
    this.#sourceSyncs.samples = syncs.map((group) => ({
      labels: { source: group.source, outcome: group.outcome },
      value: group.syncs,
    }));
    this.#sourceLastSuccess.samples = syncs
      .filter((group) => group.outcome === 'succeeded')
      .map((group) => ({ labels: { source: group.source }, value: seconds(group.lastFinishedAt) }));
  }

  #setBillingDaySamples(
    latestDay: { billing_date: string; record_count: number; total_amount: string } | undefined,
  ): void {
    if (!latestDay) {
      this.#lastDay.samples = [];
      this.#lastDayRecords.samples = [];
      this.#lastDayAmount.samples = [];
      return;
    }
    const start = dayStart(latestDay.billing_date, this.#options.billingTimezone);
    this.#lastDay.samples = [{ labels: {}, value: seconds(start) }];
    this.#lastDayRecords.samples = [{ labels: {}, value: latestDay.record_count }];
    this.#lastDayAmount.samples = [{ labels: {}, value: Number(latestDay.total_amount) }];
  }
}
