import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  availableBackends,
  createTestDatabase,
  isPostgresReachable,
  type Backend,
  type TestDatabase,
} from '../../test/support/databases.js';
import { beijing, createSystem } from '../../test/support/fixtures.js';
import {
  deleteRedisPrefix,
  distributedSettings,
  isRedisReachable,
  uniqueRedisPrefix,
} from '../../test/support/redis.js';
import { loadSettings } from '../config/settings.js';
import { DistributedDispatcher } from '../distributed/dispatcher.js';
import { TaskWorker } from '../distributed/worker.js';
import { silentLogger } from '../logger.js';
import { EmbeddedDispatcher, type TaskDispatcher } from './dispatcher.js';
import { TaskRunner } from './runner.js';

/**
 * One behaviour for both ways of running tasks: the embedded runner in the
 * API process, and BullMQ workers (here one in this process, on the local
 * Redis). Each case checks the same TaskRun rows and results in both.
 */

interface Mode {
  label: string;
  backend: Backend;
  distributed: boolean;
}

const modes: Mode[] = (await availableBackends()).map((backend) => ({
  label: `embedded runner on ${backend}`,
  backend,
  distributed: false,
}));
if ((await isPostgresReachable()) && (await isRedisReachable())) {
  modes.push({ label: 'BullMQ workers on postgres', backend: 'postgres', distributed: true });
}

const MISSING_INVENTORY = '/nonexistent/cloud-platform-inventory.json';

describe.each(modes)('task dispatcher: $label', (mode) => {
  let database: TestDatabase;
  let dispatcher: TaskDispatcher;
  let worker: TaskWorker | undefined;
  const prefix = uniqueRedisPrefix();
  // 2026-03-06 00:10 in Beijing while the process runs in UTC.
  let now = new Date('2026-03-05T16:10:00Z');
  const clock = () => now;

  beforeAll(async () => {
    database = await createTestDatabase(mode.backend);
    for (let index = 0; index < 7; index += 1) {
      await createSystem(database.db, {
        at: beijing('2026-03-01T09:00:00'),
        runMode: '7x24',
        cpu: 4,
        memory: '8',
        storage: '100',
      });
    }

    const overrides = { BILLING_CHUNK_SIZE: '3', INVENTORY_FILE: MISSING_INVENTORY };
    if (mode.distributed) {
      const settings = distributedSettings(database.url!, prefix, overrides);
      const distributed = new DistributedDispatcher(database, settings, silentLogger, clock);
      await distributed.waitUntilReady();
      dispatcher = distributed;
      worker = new TaskWorker(database, settings, silentLogger, {
        queues: ['billing', 'monitoring'],
        concurrency: 2,
        clock,
      });
      worker.start();
      await worker.waitUntilReady();
    } else {
      const settings = loadSettings({ BILLING_TIMEZONE: 'Asia/Shanghai', LOG_LEVEL: 'silent', ...overrides });
      dispatcher = new EmbeddedDispatcher(
        new TaskRunner(database, settings, silentLogger, clock),
        database,
        silentLogger,
      );
    }
  });

  afterAll(async () => {
    await worker?.close();
    await dispatcher?.close();
    await database?.drop();
    if (mode.distributed) await deleteRedisPrefix(prefix);
  });

  async function runToEnd(name: string, args: Record<string, unknown> = {}) {
    const runId = await dispatcher.start(name, args, 'manual');
    return dispatcher.waitForRun(runId, { timeoutMs: 30_000 });
  }

  it('bills one day and returns the finished run', async () => {
    const run = await runToEnd('create_daily_billing_records', { date: '2026-03-02' });

    expect(run.status).toBe('succeeded');
    expect(run.trigger).toBe('manual');
    expect(run.error).toBeNull();
    expect(run.result).toMatchObject({
      days: ['2026-03-02'],
      records_created: 7,
      records_existing: 0,
      amount_created: '302.40',
      per_day: [{ day: '2026-03-02', systems_billable: 7, total_amount: '302.40' }],
    });
  });

  it('catches up the days still missing', async () => {
    const run = await runToEnd('create_daily_billing_records');

    expect(run.status).toBe('succeeded');
    expect(run.result).toMatchObject({
      days: ['2026-03-03', '2026-03-04', '2026-03-05'],
      records_created: 21,
      amount_created: '907.20',
      yesterday: '2026-03-05',
    });
    const records = await database.db
      .selectFrom('billing_records')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    expect(Number(records.count)).toBe(28);
  });

  it('bills nothing twice on a repeated run', async () => {
    const run = await runToEnd('create_daily_billing_records', { from: '2026-03-02', to: '2026-03-05' });

    expect(run.status).toBe('succeeded');
    expect(run.result).toMatchObject({ records_created: 0, records_existing: 28, amount_created: '0.00' });
  });

  it('re-rates a billed day with force', async () => {
    const run = await runToEnd('create_daily_billing_records', { date: '2026-03-03', force: true });

    expect(run.status).toBe('succeeded');
    // Amounts before and after cover the changed records only, and nothing changed.
    expect(run.result).toMatchObject({
      days: ['2026-03-03'],
      records_rerated: 0,
      records_created: 0,
      records_existing: 7,
      rerated_amount_before: '0.00',
      rerated_amount_after: '0.00',
    });
  });

  it('rejects bad arguments without a run', async () => {
    const before = await countRuns(database);

    await expect(
      dispatcher.start('create_daily_billing_records', { date: '2026-02-30' }, 'manual'),
    ).rejects.toMatchObject({ code: 'invalid_date' });
    await expect(dispatcher.start('bill_everything', {}, 'manual')).rejects.toMatchObject({
      code: 'unknown_task',
    });
    await expect(dispatcher.start('sync_vm_status', { date: '2026-03-01' }, 'manual')).rejects.toMatchObject({
      code: 'task_arguments_not_supported',
    });

    expect(await countRuns(database)).toBe(before);
  });

  it('records a failed run with its error', async () => {
    const run = await runToEnd('sync_vm_status');

    expect(run.status).toBe('failed');
    expect(run.error).toContain('1 inventory source(s) failed');
    expect(run.error).toContain(MISSING_INVENTORY);
    // A failed source is not retried at once: the next scheduled sync tries again.
    expect(run.attempts).toBe(1);
  });

  it('returns a finished run at once', async () => {
    const run = await runToEnd('detect_resource_changes');
    expect(run.status).toBe('succeeded');

    const started = Date.now();
    const again = await dispatcher.waitForRun(run.id, { timeoutMs: 10_000 });

    expect(again.status).toBe('succeeded');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('starts a run right after the last one', async () => {
    for (let round = 0; round < 5; round += 1) {
      const run = await runToEnd('detect_resource_changes');
      expect(run.status).toBe('succeeded');
    }
  });

  it('uses the clock for the billing day', async () => {
    now = new Date('2026-03-06T16:10:00Z'); // 2026-03-07 00:10 in Beijing

    const run = await runToEnd('create_daily_billing_records');

    expect(run.result).toMatchObject({ days: ['2026-03-06'], records_created: 7 });
  });
});

async function countRuns(database: TestDatabase): Promise<number> {
  const row = await database.db
    .selectFrom('task_runs')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
