import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { loadSettings } from '../src/config/settings.js';
import { DistributedDispatcher } from '../src/distributed/dispatcher.js';
import { QUEUE_NAMES } from '../src/distributed/queues.js';
import { silentLogger } from '../src/logger.js';
import { TASK_NAMES, TASKS } from '../src/tasks/registry.js';
import { createTestDatabase, isPostgresReachable, type TestDatabase } from './support/databases.js';
import { seedSystems } from './support/fixtures.js';
import { deleteRedisPrefix, isRedisReachable, TEST_REDIS_URL, uniqueRedisPrefix } from './support/redis.js';

/**
 * Distributed mode as operators run it: `beat` and `worker` as separate
 * processes of the real CLI, on the local PostgreSQL and Redis. Schedules
 * fire every few seconds (six-field cron patterns) to simulate a day's ticks.
 */

const services = (await isPostgresReachable()) && (await isRedisReachable());
const CLI = path.resolve('src/cli/main.ts');
const TSX = path.resolve('node_modules/.bin/tsx');

interface CliProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Signals the whole process group: tsx runs the CLI in a child process of its own. */
  signal: (signal: NodeJS.Signals) => void;
}

const processes: CliProcess[] = [];

function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(TSX, [CLI, ...args], {
    env: { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // The group has already exited.
    }
  };
  const started = { child, output: () => output, exited, signal };
  processes.push(started);
  return started;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function stopCli(cli: CliProcess): Promise<number | null> {
  // tsx passes SIGTERM on to the CLI; a second copy sent to the group would end it before it finishes.
  cli.child.kill('SIGTERM');
  return cli.exited;
}

async function countRecords(database: TestDatabase, day?: string): Promise<number> {
  let query = database.db.selectFrom('billing_records').select((eb) => eb.fn.countAll<string>().as('count'));
  if (day) query = query.where('billing_date', '=', day);
  return Number((await query.executeTakeFirstOrThrow()).count);
}

function daysAgo(days: number): Date {
  return new Date(Date.now() - days * 24 * 3600 * 1000);
}

afterAll(async () => {
  for (const cli of processes) cli.signal('SIGKILL');
});

describe.runIf(services)('distributed processes', { timeout: 180_000 }, () => {
  it('bills each tick once with three beats and three workers', async () => {
    const database = await createTestDatabase('postgres');
    const prefix = uniqueRedisPrefix();
    try {
      await seedSystems(database.db, 300, daysAgo(10));
      const env = {
        DATABASE_URL: database.url!,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        BILLING_CATCH_UP_DAYS: '3',
        BILLING_CHUNK_SIZE: '100',
        SCHEDULE_CREATE_DAILY_BILLING_RECORDS: '*/2 * * * * *',
        SCHEDULE_DETECT_RESOURCE_CHANGES: '*/3 * * * * *',
        SCHEDULE_SYNC_VM_STATUS: '*/3 * * * * *',
      };

      const workers = [1, 2, 3].map(() => startCli(['worker', '--concurrency', '2'], env));
      await waitFor(() => workers.every((worker) => worker.output().includes('worker started')), 'workers');
      const beats = [1, 2, 3].map(() => startCli(['beat'], env));
      await waitFor(() => beats.every((beat) => beat.output().includes('sync_vm_status')), 'beats');

      await sleep(9_000);

      // Stop the schedule, then let the workers finish what is queued.
      for (const beat of beats) expect(await stopCli(beat)).toBe(0);
      const queues = QUEUE_NAMES.map(
        (name) => new Queue(name, { connection: { url: TEST_REDIS_URL }, prefix }),
      );
      for (const name of TASK_NAMES) {
        await queues.find((queue) => queue.name === TASKS[name].queue)!.removeJobScheduler(name);
      }
      await waitFor(async () => {
        const counts = await Promise.all(
          queues.map((queue) => queue.getJobCounts('active', 'waiting', 'waiting-children', 'delayed')),
        );
        return counts.every((count) => Object.values(count).every((value) => value === 0));
      }, 'the queues to drain');
      await Promise.all(queues.map((queue) => queue.close()));
      for (const worker of workers) expect(await stopCli(worker)).toBe(0);

      // Exactly one record per system and day, for the three days of the catch-up window.
      expect(await countRecords(database)).toBe(900);

      const runs = await database.db
        .selectFrom('task_runs')
        .select(['job_id', 'status', 'trigger'])
        .where('task_name', '=', 'create_daily_billing_records')
        .orderBy('job_id')
        .execute();
      expect(runs.length).toBeGreaterThanOrEqual(3);
      expect(runs.every((run) => run.status === 'succeeded' && run.trigger === 'schedule')).toBe(true);

      // One run per tick: the ticks are 2 s apart with none missing and none twice.
      const ticks = runs.map((run) =>
        Number(/^repeat:create_daily_billing_records:(\d+)$/.exec(run.job_id!)![1]),
      );
      ticks.sort((a, b) => a - b);
      expect(new Set(ticks).size).toBe(ticks.length);
      for (let index = 1; index < ticks.length; index += 1)
        expect(ticks[index]! - ticks[index - 1]!).toBe(2000);
    } finally {
      await database.drop();
      await deleteRedisPrefix(prefix);
    }
  });

  it('finishes a billing day after a worker is killed mid-run', async () => {
    const database = await createTestDatabase('postgres');
    const prefix = uniqueRedisPrefix();
    const env = {
      DATABASE_URL: database.url!,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      BILLING_CHUNK_SIZE: '500',
      WORKER_LOCK_DURATION_MS: '2000',
    };
    const settings = loadSettings({ ...env, BILLING_TIMEZONE: 'Asia/Shanghai', LOG_LEVEL: 'silent' });
    const dispatcher = new DistributedDispatcher(database, settings, silentLogger);
    try {
      await seedSystems(database.db, 20_000, daysAgo(10));
      await dispatcher.waitUntilReady();
      const day = dayBefore(daysAgo(1));

      const first = startCli(['worker', '--queues', 'billing'], env);
      await waitFor(() => first.output().includes('worker started'), 'the first worker');
      const runId = await dispatcher.start('create_daily_billing_records', { date: day }, 'manual');

      await waitFor(async () => (await countRecords(database, day)) > 0, 'the first chunk', 60_000);
      first.signal('SIGKILL');
      await first.exited;
      const billedWhenKilled = await countRecords(database, day);

      const second = startCli(['worker', '--queues', 'billing'], env);
      const run = await dispatcher.waitForRun(runId, { timeoutMs: 120_000 });

      expect(billedWhenKilled).toBeLessThan(20_000);
      expect(run.status).toBe('succeeded');
      expect(await countRecords(database, day)).toBe(20_000);
      const completed = await database.db
        .selectFrom('billing_days')
        .selectAll()
        .where('billing_date', '=', day)
        .executeTakeFirstOrThrow();
      expect(completed.record_count).toBe(20_000);
      expect(completed.total_amount).toBe('864000.00');
      expect(await stopCli(second)).toBe(0);
    } finally {
      await dispatcher.close();
      await database.drop();
      await deleteRedisPrefix(prefix);
    }
  });

  it('resumes after Redis restarts during a run', async () => {
    const database = await createTestDatabase('postgres');
    const redisDir = mkdtempSync(path.join(tmpdir(), 'cloud-platform-redis-'));
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const startRedis = () =>
      spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--dir',
          redisDir,
        ],
        { stdio: 'ignore' },
      );
    let redis = startRedis();
    const env = {
      DATABASE_URL: database.url!,
      REDIS_URL: redisUrl,
      BILLING_CHUNK_SIZE: '500',
      WORKER_LOCK_DURATION_MS: '2000',
      SCHEDULE_CREATE_DAILY_BILLING_RECORDS: '0 0 1 1 *',
      SCHEDULE_DETECT_RESOURCE_CHANGES: '0 0 1 1 *',
      SCHEDULE_SYNC_VM_STATUS: '*/2 * * * * *',
    };
    const settings = loadSettings({ ...env, BILLING_TIMEZONE: 'Asia/Shanghai', LOG_LEVEL: 'silent' });
    let dispatcher: DistributedDispatcher | undefined;
    try {
      await waitForRedis(redisUrl);
      await seedSystems(database.db, 20_000, daysAgo(10));
      dispatcher = new DistributedDispatcher(database, settings, silentLogger);
      await dispatcher.waitUntilReady();
      const worker = startCli(['worker'], env);
      const beat = startCli(['beat'], env);
      await waitFor(() => worker.output().includes('worker started'), 'the worker');
      await waitFor(() => beat.output().includes('sync_vm_status'), 'the beat');

      const day = dayBefore(daysAgo(1));
      const runId = await dispatcher.start('create_daily_billing_records', { date: day }, 'manual');
      await waitFor(async () => (await countRecords(database, day)) > 0, 'the first chunk', 60_000);

      redis.kill('SIGTERM');
      await new Promise((resolve) => redis.once('exit', resolve));
      await sleep(1_000);
      const restartedAt = new Date();
      redis = startRedis();
      await waitForRedis(redisUrl);

      const run = await dispatcher.waitForRun(runId, { timeoutMs: 120_000 });
      expect(['succeeded', 'failed']).toContain(run.status);
      if (run.status === 'succeeded') expect(await countRecords(database, day)).toBe(20_000);
      else expect(run.error).toBeTruthy();

      // The schedule survives the restart: a sync tick after it still runs.
      await waitFor(
        async () =>
          (
            await database.db
              .selectFrom('task_runs')
              .select('id')
              .where('task_name', '=', 'sync_vm_status')
              .where('started_at', '>', restartedAt)
              .execute()
          ).length > 0,
        'a sync run after the restart',
      );

      expect(await stopCli(beat)).toBe(0);
      expect(await stopCli(worker)).toBe(0);
    } finally {
      await dispatcher?.close();
      redis.kill('SIGKILL');
      await database.drop();
      rmSync(redisDir, { recursive: true, force: true });
    }
  });
});

/** Returns the Beijing calendar day before the one of `instant`, a day that has ended in the billing time zone. */
function dayBefore(instant: Date): string {
  return new Date(instant.getTime() + 8 * 3600 * 1000 - 24 * 3600 * 1000).toISOString().slice(0, 10);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForRedis(url: string): Promise<void> {
  await waitFor(
    async () => {
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    },
    `Redis at ${url}`,
    20_000,
  );
}

describe('distributed commands with bad input', { timeout: 120_000 }, () => {
  async function runCli(args: string[], env: Record<string, string>) {
    const cli = startCli(args, { LOG_LEVEL: 'silent', ...env });
    const code = await cli.exited;
    return { code, output: cli.output() };
  }

  const distributed = {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
    REDIS_URL: TEST_REDIS_URL,
  };

  it('names the missing settings', async () => {
    const { code, output } = await runCli(['worker'], { DATABASE_URL: '', REDIS_URL: '' });
    expect(code).toBe(2);
    expect(output).toContain(
      'command worker needs distributed mode: set REDIS_URL=redis://HOST:PORT and DATABASE_URL=postgres://',
    );
  });

  it('rejects REDIS_URL without DATABASE_URL', async () => {
    const { code, output } = await runCli(['beat'], { DATABASE_URL: '', REDIS_URL: TEST_REDIS_URL });
    expect(code).toBe(2);
    expect(output).toContain('REDIS_URL is set but DATABASE_URL is not');
  });

  it('rejects an unknown queue', async () => {
    const { code, output } = await runCli(['worker', '--queues', 'billing,reports'], distributed);
    expect(code).toBe(2);
    expect(output).toContain('invalid --queues "billing,reports": list one or more of billing, monitoring');
  });

  it('exits 2 on an unknown option', async () => {
    const { code, output } = await runCli(['worker', '--bogus'], distributed);
    expect(code).toBe(2);
    expect(output).toContain('unknown option "--bogus"');
    expect(output).toContain('run cloud-platform worker --help to see the usage');
  });

  it('names an unreachable database in one line', async () => {
    const { code, output } = await runCli(['tenant', 'list'], {
      DATABASE_URL: 'postgres://cloud:secret@127.0.0.1:1/cloud',
      REDIS_URL: '',
    });
    expect(code).toBe(3);
    expect(output).toContain(
      'cannot use the database postgres://cloud:***@127.0.0.1:1/cloud: connect ECONNREFUSED',
    );
    expect(output).not.toContain('secret');
    expect(output).not.toContain('    at ');
  });

  it('rejects a concurrency of zero', async () => {
    const { code, output } = await runCli(['worker', '--concurrency', '0'], distributed);
    expect(code).toBe(2);
    expect(output).toContain('invalid --concurrency "0": use a whole number from 1 to 64');
  });
});
