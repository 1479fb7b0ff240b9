import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Db } from '../db/database.js';
import type { TaskRunStatus } from '../db/schema.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import { silentLogger } from '../logger.js';
import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { Metrics } from './metrics.js';
import type { QueueDepthSource } from './queue-depths.js';
import { SETTLE_MARGIN_SECONDS } from './task-run-totals.js';

interface SeededRun {
  task: 'create_daily_billing_records' | 'detect_resource_changes' | 'sync_vm_status';
  status: TaskRunStatus;
  /** Creation and start time, ISO 8601. */
  startedAt: string;
  /** Seconds from start to finish; null for a run that has not finished. */
  seconds: number | null;
  result?: object | null;
  /** created_at when it must differ from startedAt, e.g. 'now' for a run too recent to settle. */
  createdAt?: string;
}

const QUEUES = {
  create_daily_billing_records: 'billing',
  detect_resource_changes: 'monitoring',
  sync_vm_status: 'monitoring',
} as const;

async function seedRun(db: Db, run: SeededRun): Promise<string> {
  const started = new Date(run.startedAt);
  const row = await db
    .insertInto('task_runs')
    .values({
      task_name: run.task,
      queue: QUEUES[run.task],
      trigger: 'schedule',
      status: run.status,
      attempts: run.status === 'queued' ? 0 : 1,
      created_at: run.createdAt === 'now' ? new Date() : started,
      started_at: run.status === 'queued' ? null : started,
      finished_at: run.seconds === null ? null : new Date(started.getTime() + run.seconds * 1000),
      result: run.result === undefined || run.result === null ? null : JSON.stringify(run.result),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function finishRun(
  db: Db,
  id: string,
  run: { startedAt: string; seconds: number; result: object },
): Promise<void> {
  const started = new Date(run.startedAt);
  await db
    .updateTable('task_runs')
    .set({
      status: 'succeeded',
      started_at: started,
      finished_at: new Date(started.getTime() + run.seconds * 1000),
      result: JSON.stringify(run.result),
    })
    .where('id', '=', id)
    .execute();
}

const source = (name: string, status: 'succeeded' | 'failed', ownDatabase = false) => ({
  source: name,
  provider: name,
  own_database: ownDatabase,
  status,
  ...(status === 'failed' ? { error: `${name} timed out` } : {}),
});

/** Lines of the product's own metrics, without HELP and TYPE comments. */
function productLines(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('cloud_platform_'));
}

/** Histogram lines of one task and outcome: cumulative counts for le = 1 … 7200 and +Inf, then sum and count. */
function histogram(task: string, outcome: string, counts: number[], sum: number): string[] {
  const bounds = ['1', '5', '10', '30', '60', '120', '300', '600', '1800', '3600', '7200', '+Inf'];
  const labels = `task="${task}",outcome="${outcome}"`;
  return [
    ...bounds.map(
      (bound, index) =>
        `cloud_platform_task_run_duration_seconds_bucket{${labels},le="${bound}"} ${counts[index]}`,
    ),
    `cloud_platform_task_run_duration_seconds_sum{${labels}} ${sum}`,
    `cloud_platform_task_run_duration_seconds_count{${labels}} ${counts.at(-1)}`,
  ];
}

const BILLING = 'create_daily_billing_records';
const DETECT = 'detect_resource_changes';
const SYNC = 'sync_vm_status';

describe.each(await availableBackends())('metrics on %s', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('reads exact totals as runs finish', async () => {
    const db = database.db;
    const taskRuns = new TaskRunRepository(db);
    await seedRun(db, {
      task: BILLING,
      status: 'succeeded',
      startedAt: '2026-01-02T00:10:00+08:00',
      seconds: 12.5,
      result: { records_created: 150, amount_created: '1234.56', records_rerated: 0 },
    });
    await seedRun(db, {
      task: BILLING,
      status: 'succeeded',
      startedAt: '2026-01-03T00:10:00+08:00',
      seconds: 60,
      result: { records_created: 3, amount_created: '0.10', records_rerated: 2 },
    });
    await seedRun(db, {
      task: BILLING,
      status: 'failed',
      startedAt: '2026-01-04T00:10:00+08:00',
      seconds: 1,
      result: null,
    });
    await seedRun(db, {
      task: SYNC,
      status: 'succeeded',
      startedAt: '2026-01-02T10:00:00+08:00',
      seconds: 2,
      result: {
        sources: [
          source('local', 'succeeded', true),
          source('file', 'succeeded'),
          source('vcenter', 'succeeded'),
        ],
      },
    });
    await seedRun(db, {
      task: SYNC,
      status: 'failed',
      startedAt: '2026-01-02T10:05:00+08:00',
      seconds: 4.5,
      result: { sources: [source('file', 'succeeded'), source('vcenter', 'failed')] },
    });
    await seedRun(db, {
      task: DETECT,
      status: 'succeeded',
      startedAt: '2026-01-02T11:00:00+08:00',
      seconds: 0.25,
    });
    const runningSync = await seedRun(db, {
      task: SYNC,
      status: 'running',
      startedAt: '2026-01-02T10:10:00+08:00',
      seconds: null,
    });
    await seedRun(db, {
      task: DETECT,
      status: 'succeeded',
      startedAt: '2026-01-02T12:00:00+08:00',
      seconds: 1,
    });
    const queuedDetect = await seedRun(db, {
      task: DETECT,
      status: 'queued',
      startedAt: '2026-01-02T12:05:00+08:00',
      seconds: null,
    });
    await db
      .insertInto('billing_days')
      .values([
        { billing_date: '2026-01-01', record_count: 150, total_amount: '1234.56', completed_at: new Date() },
        { billing_date: '2026-01-02', record_count: 3, total_amount: '0.10', completed_at: new Date() },
      ])
      .execute();
    const metrics = new Metrics({ db, billingTimezone: 'Asia/Shanghai', logger: silentLogger });

    const first = productLines(await metrics.render());

    expect(await taskRuns.getSettledId(SETTLE_MARGIN_SECONDS)).toBe(queuedDetect);
    expect(first).toEqual([
      'cloud_platform_metrics_source_up{source="database"} 1',
      `cloud_platform_task_runs_total{task="${BILLING}",outcome="failed"} 1`,
      `cloud_platform_task_runs_total{task="${BILLING}",outcome="succeeded"} 2`,
      `cloud_platform_task_runs_total{task="${DETECT}",outcome="succeeded"} 2`,
      `cloud_platform_task_runs_total{task="${SYNC}",outcome="failed"} 1`,
      `cloud_platform_task_runs_total{task="${SYNC}",outcome="succeeded"} 1`,
      ...histogram(BILLING, 'failed', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 1),
      ...histogram(BILLING, 'succeeded', [0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2], 72.5),
      ...histogram(DETECT, 'succeeded', [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 1.25),
      ...histogram(SYNC, 'failed', [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 4.5),
      ...histogram(SYNC, 'succeeded', [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2),
      `cloud_platform_task_last_success_timestamp_seconds{task="${BILLING}"} 1767370260`,
      `cloud_platform_task_last_success_timestamp_seconds{task="${DETECT}"} 1767326401`,
      `cloud_platform_task_last_success_timestamp_seconds{task="${SYNC}"} 1767319202`,
      `cloud_platform_task_runs_in_progress{task="${DETECT}",status="queued"} 1`,
      `cloud_platform_task_runs_in_progress{task="${SYNC}",status="running"} 1`,
      `cloud_platform_task_oldest_running_start_timestamp_seconds{task="${SYNC}"} 1767319800`,
      'cloud_platform_billing_records_created_total 153',
      // 1234.56 + 0.10 in binary floating point would be 1234.6599999999999.
      'cloud_platform_billing_amount_cny_total 1234.66',
      'cloud_platform_billing_records_rerated_total 2',
      // 2026-01-02 00:00 in Asia/Shanghai.
      'cloud_platform_billing_last_complete_day_timestamp_seconds 1767283200',
      'cloud_platform_billing_last_complete_day_records 3',
      'cloud_platform_billing_last_complete_day_amount_cny 0.1',
      'cloud_platform_inventory_source_syncs_total{source="file",outcome="succeeded"} 2',
      'cloud_platform_inventory_source_syncs_total{source="vcenter",outcome="failed"} 1',
      'cloud_platform_inventory_source_syncs_total{source="vcenter",outcome="succeeded"} 1',
      'cloud_platform_inventory_source_last_success_timestamp_seconds{source="file"} 1767319504.5',
      'cloud_platform_inventory_source_last_success_timestamp_seconds{source="vcenter"} 1767319202',
    ]);

    // The running sync and the queued detection finish, and a billing run too
    // recent to settle is added.
    await finishRun(db, runningSync, {
      startedAt: '2026-01-02T10:10:00+08:00',
      seconds: 3,
      result: { sources: [source('file', 'succeeded'), source('vcenter', 'succeeded')] },
    });
    await finishRun(db, queuedDetect, { startedAt: '2026-01-02T12:05:00+08:00', seconds: 0.5, result: {} });
    const recentBilling = await seedRun(db, {
      task: BILLING,
      status: 'succeeded',
      startedAt: '2026-01-05T00:10:00+08:00',
      createdAt: 'now',
      seconds: 30,
      result: { records_created: 1, amount_created: '0.20', records_rerated: 0 },
    });

    const second = productLines(await metrics.render());
    const third = productLines(await metrics.render());

    expect(await taskRuns.getSettledId(SETTLE_MARGIN_SECONDS)).toBe(queuedDetect);
    expect(BigInt(recentBilling)).toBeGreaterThan(BigInt(queuedDetect));
    expect(second).toEqual([
      'cloud_platform_metrics_source_up{source="database"} 1',
      `cloud_platform_task_runs_total{task="${BILLING}",outcome="failed"} 1`,
      `cloud_platform_task_runs_total{task="${BILLING}",outcome="succeeded"} 3`,
      `cloud_platform_task_runs_total{task="${DETECT}",outcome="succeeded"} 3`,
      `cloud_platform_task_runs_total{task="${SYNC}",outcome="failed"} 1`,
      `cloud_platform_task_runs_total{task="${SYNC}",outcome="succeeded"} 2`,
      ...histogram(BILLING, 'failed', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 1),
      ...histogram(BILLING, 'succeeded', [0, 0, 0, 2, 3, 3, 3, 3, 3, 3, 3, 3], 102.5),
      ...histogram(DETECT, 'succeeded', [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 1.75),
      ...histogram(SYNC, 'failed', [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 4.5),
      ...histogram(SYNC, 'succeeded', [0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 5),
      `cloud_platform_task_last_success_timestamp_seconds{task="${BILLING}"} 1767543030`,
      `cloud_platform_task_last_success_timestamp_seconds{task="${DETECT}"} 1767326700.5`,
      `cloud_platform_task_last_success_timestamp_seconds{task="${SYNC}"} 1767319803`,
      'cloud_platform_billing_records_created_total 154',
      'cloud_platform_billing_amount_cny_total 1234.86',
      'cloud_platform_billing_records_rerated_total 2',
      'cloud_platform_billing_last_complete_day_timestamp_seconds 1767283200',
      'cloud_platform_billing_last_complete_day_records 3',
      'cloud_platform_billing_last_complete_day_amount_cny 0.1',
      'cloud_platform_inventory_source_syncs_total{source="file",outcome="succeeded"} 3',
      'cloud_platform_inventory_source_syncs_total{source="vcenter",outcome="failed"} 1',
      'cloud_platform_inventory_source_syncs_total{source="vcenter",outcome="succeeded"} 2',
      'cloud_platform_inventory_source_last_success_timestamp_seconds{source="file"} 1767319803',
      'cloud_platform_inventory_source_last_success_timestamp_seconds{source="vcenter"} 1767319803',
    ]);
    expect(third).toEqual(second);
  });

  it('counts runs once under concurrent scrapes', async () => {
    const concurrent = await createTestDatabase(backend);
    try {
      await seedRun(concurrent.db, {
        task: DETECT,
        status: 'succeeded',
        startedAt: '2026-01-02T11:00:00+08:00',
        seconds: 2,
      });
      const metrics = new Metrics({
        db: concurrent.db,
        billingTimezone: 'Asia/Shanghai',
        logger: silentLogger,
      });
      const runsLine = (text: string) =>
        productLines(text).find((line) => line.startsWith('cloud_platform_task_runs_total'));

      const scrapes = await Promise.all([metrics.render(), metrics.render(), metrics.render()]);
      const after = await metrics.render();

      for (const text of [...scrapes, after]) {
        expect(runsLine(text)).toBe(`cloud_platform_task_runs_total{task="${DETECT}",outcome="succeeded"} 1`);
      }
    } finally {
      await concurrent.drop();
    }
  });

  it('has the process metrics', async () => {
    const metrics = new Metrics({ db: database.db, billingTimezone: 'Asia/Shanghai', logger: silentLogger });

    const text = await metrics.render();

    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('has no queue metrics without a queue depth source', async () => {
    const metrics = new Metrics({ db: database.db, billingTimezone: 'Asia/Shanghai', logger: silentLogger });

    const text = await metrics.render();

    expect(text).not.toContain('cloud_platform_queue_jobs');
    expect(text).not.toContain('source="queues"');
  });

  it('reports queue depths by queue and state', async () => {
    const queueDepths: QueueDepthSource = {
      getCounts: async () => [
        { queue: 'billing', state: 'waiting', count: 3 },
        { queue: 'monitoring', state: 'active', count: 1 },
      ],
    };
    const metrics = new Metrics({
      db: database.db,
      billingTimezone: 'Asia/Shanghai',
      queueDepths,
      logger: silentLogger,
    });

    const lines = productLines(await metrics.render());

    expect(lines).toContain('cloud_platform_metrics_source_up{source="queues"} 1');
    expect(lines).toContain('cloud_platform_queue_jobs{queue="billing",state="waiting"} 3');
    expect(lines).toContain('cloud_platform_queue_jobs{queue="monitoring",state="active"} 1');
  });

  it('marks a failing queue source down', async () => {
    const queueDepths: QueueDepthSource = {
      getCounts: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
    };
    const metrics = new Metrics({
      db: database.db,
      billingTimezone: 'Asia/Shanghai',
      queueDepths,
      logger: silentLogger,
    });

    const lines = productLines(await metrics.render());

    expect(lines).toContain('cloud_platform_metrics_source_up{source="database"} 1');
    expect(lines).toContain('cloud_platform_metrics_source_up{source="queues"} 0');
    expect(lines.filter((line) => line.startsWith('cloud_platform_queue_jobs'))).toEqual([]);
  });

  it('marks an unreachable database down', async () => {
    const closed = await createTestDatabase(backend);
    await closed.drop();
    const metrics = new Metrics({ db: closed.db, billingTimezone: 'Asia/Shanghai', logger: silentLogger });

    const lines = productLines(await metrics.render());

    expect(lines).toEqual(['cloud_platform_metrics_source_up{source="database"} 0']);
  });
});
