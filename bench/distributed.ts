import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { Command } from 'commander';
import { sql } from 'kysely';

import { loadSettings } from '../src/config/settings.js';
import { DistributedDispatcher } from '../src/distributed/dispatcher.js';
import { silentLogger } from '../src/logger.js';
import { createPostgresBenchDatabase, type BenchDatabase } from './databases.js';
import { checkpoint, parsePositiveInteger, resetBilling } from './support.js';

/**
 * Benchmark of distributed mode on PostgreSQL and Redis: daily billing of N
 * systems by 1 and by 2 `cloud-platform worker` processes (the built CLI in
 * dist/), and M trigger-and-await round trips of a short task through BullMQ.
 * Prints wall time, records per second, and peak heap and RSS of each worker
 * (sampled every 100 ms by bench/memory-sampler.mjs) and of this process.
 * Run `npm run bench:distributed -- --help` for the options.
 */

const BILLED_DAY = '2026-03-02';

const program = new Command('bench:distributed')
  .option('--systems <n>', 'information systems to bill', parsePositiveInteger, 1_000_000)
  .option('--workers <list>', 'worker process counts to measure, comma-separated', '1,2')
  .option('--chunk-size <n>', 'BILLING_CHUNK_SIZE of the workers', parsePositiveInteger, 50_000)
  .option('--round-trips <n>', 'trigger-and-await round trips', parsePositiveInteger, 10_000)
  .option('--admin-url <url>', 'PostgreSQL server', 'postgres://postgres@127.0.0.1:5432/test')
  .option('--redis-url <url>', 'Redis server', 'redis://127.0.0.1:6379')
  .option('--keep', 'keep the benchmark database afterwards', false);
program.parse();
const options = program.opts<{
  systems: number;
  workers: string;
  chunkSize: number;
  roundTrips: number;
  adminUrl: string;
  redisUrl: string;
  keep: boolean;
}>();
const workerCounts = options.workers.split(',').map((value) => parsePositiveInteger(value));

const CLI = path.resolve('dist/cli/main.js');
const SAMPLER = pathToFileURL(path.resolve('bench/memory-sampler.mjs')).toString();
const memoryDir = mkdtempSync(path.join(tmpdir(), 'cloud-platform-bench-memory-'));
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

interface WorkerProcess {
  child: ChildProcess;
  memoryFile: string;
  exited: Promise<void>;
}

/** Every worker started, so that a failed measurement leaves none running. */
const startedWorkers: WorkerProcess[] = [];

function startWorker(database: BenchDatabase, prefix: string, index: number, queues: string): WorkerProcess {
  const memoryFile = path.join(memoryDir, `${prefix}-${index}.json`);
  const child = spawn(process.execPath, [CLI, 'worker', '--queues', queues], {
    env: {
      ...process.env,
      DATABASE_URL: database.location,
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: prefix,
      BILLING_TIMEZONE: 'Asia/Shanghai',
      BILLING_CHUNK_SIZE: String(options.chunkSize),
      LOG_LEVEL: 'warn',
      LANG: 'en_US.UTF-8',
      NODE_OPTIONS: `--import ${SAMPLER}`,
      BENCH_MEMORY_FILE: memoryFile,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker = { child, memoryFile, exited };
  startedWorkers.push(worker);
  return worker;
}

async function waitUntilStarted(worker: WorkerProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let output = '';
    worker.child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker started')) resolve();
    });
    worker.child.once('exit', (code) => reject(new Error(`worker exited with ${code} before starting`)));
  });
}

async function stopWorkers(workers: WorkerProcess[]): Promise<{ rss: number; heapUsed: number }[]> {
  for (const worker of workers) worker.child.kill('SIGTERM');
  await Promise.all(workers.map((worker) => worker.exited));
  return workers.map((worker) => JSON.parse(readFileSync(worker.memoryFile, 'utf8')));
}

function dispatcherFor(database: BenchDatabase, prefix: string) {
  const settings = loadSettings({
    DATABASE_URL: database.location,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    BILLING_TIMEZONE: 'Asia/Shanghai',
    LOG_LEVEL: 'silent',
  });
  return new DistributedDispatcher(database, settings, silentLogger);
}

/** Inserts `count` systems in 1,000 tenants with mixed run modes and sizes, created before the billed day. */
async function seedSystems(database: BenchDatabase, count: number): Promise<void> {
  await sql`
    INSERT INTO tenants (code, name, discount_rate, created_at)
    SELECT 'T' || n, 'Tenant ' || n, CASE WHEN n % 4 = 0 THEN 0.8 ELSE 1 END, '2026-01-01T00:00:00+08:00'
    FROM generate_series(1, 1000) AS n`.execute(database.db);
  await sql`
    INSERT INTO information_systems
      (code, name, tenant_id, run_mode, total_cpu, total_memory, total_storage, created_at)
    SELECT 'S' || n, 'System ' || n, t.id, CASE WHEN n % 3 = 0 THEN '5x8' ELSE '7x24' END,
      4 + n % 29, 8 + (n % 13) * 4, 100 + (n % 17) * 50, '2026-01-01T00:00:00+08:00'
    FROM generate_series(1, ${count}) AS n
    JOIN tenants t ON t.code = 'T' || (1 + n % 1000)`.execute(database.db);
  await sql`ANALYZE`.execute(database.db);
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function measureRoundTrips(database: BenchDatabase): Promise<void> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const worker = startWorker(database, prefix, 0, 'monitoring');
  await waitUntilStarted(worker);
  const dispatcher = dispatcherFor(database, prefix);
  await dispatcher.waitUntilReady();

  const latencies: number[] = [];
  let peakHeap = 0;
  let peakRss = 0;
  const started = performance.now();
  for (let index = 0; index < options.roundTrips; index += 1) {
    const begin = performance.now();
    const runId = await dispatcher.start('detect_resource_changes', {}, 'manual');
    const run = await dispatcher.waitForRun(runId, { timeoutMs: 60_000 });
    if (run.status !== 'succeeded') throw new Error(`round trip ${index} ended ${run.status}: ${run.error}`);
    latencies.push(performance.now() - begin);
    if (index % 100 === 0) {
      const usage = process.memoryUsage();
      peakHeap = Math.max(peakHeap, usage.heapUsed);
      peakRss = Math.max(peakRss, usage.rss);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  const [workerMemory] = await stopWorkers([worker]);

  latencies.sort((a, b) => a - b);
  console.log(
    `round trips: ${options.roundTrips} in ${seconds.toFixed(1)} s = ${(options.roundTrips / seconds).toFixed(0)}/s; ` +
      `latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, ` +
      `max ${latencies.at(-1)!.toFixed(1)} ms; caller heap ${mib(peakHeap)} MiB, RSS ${mib(peakRss)} MiB; ` +
      `worker heap ${mib(workerMemory!.heapUsed)} MiB, RSS ${mib(workerMemory!.rss)} MiB`,
  );
}

async function measureBilling(database: BenchDatabase, workers: number): Promise<void> {
  await resetBilling(database.db);
  await checkpoint(database.db);
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const processes = Array.from({ length: workers }, (_, index) =>
    startWorker(database, prefix, index, 'billing'),
  );
  await Promise.all(processes.map(waitUntilStarted));
  const dispatcher = dispatcherFor(database, prefix);
  await dispatcher.waitUntilReady();

  const started = performance.now();
  const runId = await dispatcher.start('create_daily_billing_records', { date: BILLED_DAY }, 'manual');
  const run = await dispatcher.waitForRun(runId, { timeoutMs: 3_600_000 });
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  const memory = await stopWorkers(processes);

  const result = run.result as { records_created?: number; per_day?: { total_amount: string }[] } | null;
  if (run.status !== 'succeeded' || result?.records_created !== options.systems) {
    throw new Error(`billing run ${runId} ended ${run.status} with ${JSON.stringify(result)}: ${run.error}`);
  }
  console.log(
    `billing, ${workers} worker(s): ${options.systems} records in ${seconds.toFixed(2)} s = ` +
      `${(options.systems / seconds).toFixed(0)} records/s; total ${result.per_day?.[0]?.total_amount} CNY; ` +
      memory
        .map((peak, index) => `worker ${index + 1} heap ${mib(peak.heapUsed)} MiB, RSS ${mib(peak.rss)} MiB`)
        .join('; '),
  );
}

const database = await createPostgresBenchDatabase(
  options.adminUrl,
  options.keep,
  'cloud_platform_bench_distributed',
);
try {
  console.log(
    `machine: ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}; ` + `PostgreSQL ${database.serverInfo.server_version}; chunk size ${options.chunkSize}`,
  );
  await measureRoundTrips(database);

  const seeded = performance.now();
  await seedSystems(database, options.systems);
  console.log(
    `seeded ${options.systems} systems in ${((performance.now() - seeded) / 1000).toFixed(1)} s (not timed)`,
  );

  for (const workers of workerCounts) {
    await measureBilling(database, workers);
    console.log(
      `load ${os
        .loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    );
  }
} finally {
  for (const worker of startedWorkers) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  }
  await database.drop();
  rmSync(memoryDir, { recursive: true, force: true });
}
