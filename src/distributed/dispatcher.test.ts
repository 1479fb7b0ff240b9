import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, isPostgresReachable, type TestDatabase } from '../../test/support/databases.js';
import { seedSystems } from '../../test/support/fixtures.js';
import {
  deleteRedisPrefix,
  distributedSettings,
  isRedisReachable,
  uniqueRedisPrefix,
} from '../../test/support/redis.js';
import { silentLogger } from '../logger.js';
import { TaskRunLostError } from '../tasks/dispatcher.js';
import { DistributedDispatcher } from './dispatcher.js';
import { TaskWorker } from './worker.js';

const services = (await isPostgresReachable()) && (await isRedisReachable());

describe.runIf(services)('BullMQ dispatcher', () => {
  let database: TestDatabase;
  const prefix = uniqueRedisPrefix();
  const now = () => new Date('2026-03-02T16:10:00Z'); // 2026-03-03 00:10 in Beijing
  let dispatcher: DistributedDispatcher;
  let worker: TaskWorker | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    await seedSystems(database.db, 2000, new Date('2026-03-01T09:00:00+08:00'));
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await dispatcher?.close();
  });

  afterAll(async () => {
    await database?.drop();
    await deleteRedisPrefix(prefix);
  });

  function openDispatcher(overrides: Record<string, string> = {}) {
    const settings = distributedSettings(database.url!, prefix, overrides);
    dispatcher = new DistributedDispatcher(database, settings, silentLogger, now);
    return { settings, dispatcher };
  }

  it('rejects a wait whose job is removed', async () => {
    const { dispatcher } = openDispatcher();
    await dispatcher.waitUntilReady();
    const runId = await dispatcher.start('detect_resource_changes', {}, 'manual');

    // No worker takes the job, so only its removal can end the wait before the timeout.
    const waiting = dispatcher.waitForRun(runId, { timeoutMs: 60_000 });
    const started = Date.now();
    await dispatcher.queues.get('monitoring').remove(`task-run-${runId}`);

    await expect(waiting).rejects.toBeInstanceOf(TaskRunLostError);
    expect(Date.now() - started).toBeLessThan(10_000);
    const run = await database.db
      .selectFrom('task_runs')
      .selectAll()
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(run.status).toBe('failed');
    expect(run.error).toContain(`task-run-${runId}`);
  });

  it('rejects a second run while the first is queued', async () => {
    const { dispatcher } = openDispatcher();
    await dispatcher.waitUntilReady();
    await dispatcher.queues.get('monitoring').obliterate({ force: true });
    const first = await dispatcher.start('detect_resource_changes', {}, 'manual');

    await expect(dispatcher.start('detect_resource_changes', {}, 'manual')).rejects.toMatchObject({
      code: 'task_already_running',
    });
    // The same queue state that /metrics reports as cloud_platform_queue_jobs.
    const counts = await dispatcher.queues.getCounts();
    expect(counts).toContainEqual({ queue: 'monitoring', state: 'waiting', count: 1 });
    expect(counts).toContainEqual({ queue: 'billing', state: 'active', count: 0 });
    expect(counts).toHaveLength(16);
    await dispatcher.queues.get('monitoring').remove(`task-run-${first}`);
  });

  it('returns the current state when the wait times out', async () => {
    const { dispatcher } = openDispatcher();
    await dispatcher.waitUntilReady();
    await dispatcher.queues.get('monitoring').obliterate({ force: true });
    const runId = await dispatcher.start('detect_resource_changes', {}, 'manual');

    const run = await dispatcher.waitForRun(runId, { timeoutMs: 300 });

    expect(run.status).toBe('queued');
    await dispatcher.queues.get('monitoring').remove(`task-run-${runId}`);
  });

  it('completes a run while PostgreSQL connections are dropped', async () => {
    const { settings, dispatcher } = openDispatcher({ BILLING_CHUNK_SIZE: '50', TASK_ATTEMPTS: '10' });
    await dispatcher.waitUntilReady();
    worker = new TaskWorker(database, settings, silentLogger, {
      queues: ['billing'],
      concurrency: 2,
      clock: now,
    });
    worker.start();
    await worker.waitUntilReady();

    const runId = await dispatcher.start('create_daily_billing_records', { date: '2026-03-02' }, 'manual');
    const terminated = await dropConnections(database, 5);
    const run = await dispatcher.waitForRun(runId, { timeoutMs: 60_000 });

    expect(terminated).toBeGreaterThan(0);
    expect(run.status).toBe('succeeded');
    expect(run.result).toMatchObject({ records_created: 2000, amount_created: '86400.00' });
    const { count } = await database.db
      .selectFrom('billing_records')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('billing_date', '=', '2026-03-02')
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(2000);
  });
});

/** Terminates the test database's other connections `times` times, 50 ms apart; returns how many ended. */
async function dropConnections(database: TestDatabase, times: number): Promise<number> {
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  let terminated = 0;
  try {
    for (let index = 0; index < times; index += 1) {
      const { rows } = await admin.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      terminated += rows.filter((row) => row.ended).length;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await admin.end();
  }
  return terminated;
}
