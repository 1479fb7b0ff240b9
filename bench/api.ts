import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
import { Command, InvalidArgumentError, Option } from 'commander';
import { sql } from 'kysely';
import pg from 'pg';

import { dayOf } from '../src/billing/days.js';
import { loadSettings } from '../src/config/settings.js';
import { migrate, openDatabase, type Db, type DatabaseHandle } from '../src/db/database.js';
import {
  DATABASE_NAME,
  databaseUrlFor,
  parseScenarioNames,
  readIdRanges,
  SCENARIOS,
  type IdRanges,
  type Scenario,
} from './api-scenarios.js';
import { seedBillingHistory } from './api-seed.js';
import { processCpuSeconds, processTree, signIn, startServerProcess, type AuthMode } from './api-server.js';
import { createPostgresBenchDatabase } from './databases.js';
import { parseNonNegativeInteger, parsePositiveInteger } from './support.js';

/**
 * Load benchmark of the REST API on PostgreSQL. Seeds (or reuses) a database
 * of about 10 million billing records, starts `cloud-platform serve` in a
 * child process on a loopback port, signs in as admin and loads each scenario
 * with autocannon for a fixed time. Prints requests per second and p50/p99
 * latency per scenario. Run with --help for the options.
 */

const ADMIN_USERNAME = 'admin';
const ADMIN_PASSWORD = 'bench-admin-password';
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Targets for a 50-row page at 50 connections. */
const TARGET_P99_MS = 50;
const TARGET_REQUESTS_PER_SECOND = 1500;
/** Maximum wait after a load run for the server's statements to finish. */
const DRAIN_TIMEOUT_MS = 120_000;
/** How long the database must stay idle after a load run, covering requests between two statements. */
const IDLE_MS = 1000;

interface BenchOptions {
  databaseUrl: string;
  systems: number;
  days: number;
  connections: number;
  duration: number;
  warmup: number;
  auth: AuthMode;
  scenarios?: string[];
  reuse: boolean;
  keep: boolean;
  serverRoot: string;
  serverWorkers: number;
  poolSize?: number;
  semiSpaceMb: number;
  profileDir?: string;
  json?: string;
}

interface ScenarioResult {
  scenario: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  loadAverage: { start: number; end: number };
  /** Active statements in other databases of the server when the scenario started. */
  otherActiveSessions: number;
  /** CPU time of the API server's processes (primary and workers) during the run, in percent of one core. */
  serverCpuPercent: number;
  /**
   * CPU time of the PostgreSQL backends connected to the benchmark database at
   * the start, in percent of one core. Parallel workers are not included.
   */
  postgresCpuPercent: number;
  /** CPU time of this process, which runs autocannon, in percent of one core. */
  loadGeneratorCpuPercent: number;
  /** Busy share of all CPUs of the machine during the run, in percent. */
  machineBusyPercent: number;
  /** CPU milliseconds per response: server processes, PostgreSQL backends and autocannon. */
  cpuMsPerRequest: { server: number; postgres: number; loadGenerator: number };
  meetsTarget: boolean;
}

const log = (message: string) => console.log(`[${new Date().toISOString()}] ${message}`);

async function dropDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${DATABASE_NAME} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Opens the database that an earlier run kept, applying any migration added since. */
async function openKeptDatabase(adminUrl: string): Promise<DatabaseHandle> {
  const database = await openDatabase({ databaseUrl: databaseUrlFor(adminUrl) });
  let applied: string[];
  try {
    applied = await migrate(database.db);
  } catch (error) {
    await database.close();
    throw new Error(
      `--reuse: could not open ${DATABASE_NAME} (${String(error)}); run once with --keep, without --reuse`,
    );
  }
  if (applied.length > 0) {
    log(`applied migrations ${applied.join(', ')}; analyzing`);
    await sql`ANALYZE`.execute(database.db);
  }
  return database;
}

async function seed(db: Db, options: BenchOptions): Promise<void> {
  const timezone = loadSettings({}).billingTimezone;
  const today = dayOf(new Date(), timezone);
  const started = performance.now();
  const history = await seedBillingHistory(
    db,
    { systems: options.systems, days: options.days, today, timezone },
    (message) => log(`seed: ${message}`),
  );
  log(
    `seeded ${history.records} billing records (${history.firstDay} to ${history.lastDay}) ` +
      `in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );

  // Autovacuum would have analyzed the table and set its visibility map long
  // before months of records exist, and index-only scans depend on that map.
  const vacuumStarted = performance.now();
  await sql`VACUUM (ANALYZE)`.execute(db);
  await sql`CHECKPOINT`.execute(db);
  log(`VACUUM (ANALYZE) and CHECKPOINT took ${((performance.now() - vacuumStarted) / 1000).toFixed(0)} s`);
}

/** Row counts, date range and sizes of the seeded data, as printed in the report. */
async function describeData(db: Db): Promise<Record<string, string>> {
  const { rows } = await sql<Record<string, string>>`
    SELECT
      (SELECT count(*) FROM tenants)::text AS tenants,
      (SELECT count(*) FROM information_systems)::text AS information_systems,
      (SELECT count(*) FROM virtual_machines)::text AS virtual_machines,
      (SELECT count(*) FROM resource_adjustment_logs)::text AS adjustment_logs,
      (SELECT count(*) FROM billing_records)::text AS billing_records,
      (SELECT min(billing_date) || ' to ' || max(billing_date) FROM billing_records) AS billing_dates,
      pg_size_pretty(pg_relation_size('billing_records')) AS billing_records_heap,
      pg_size_pretty(pg_indexes_size('billing_records')) AS billing_records_indexes`.execute(db);
  return rows[0]!;
}

async function readServerSettings(db: Db): Promise<Record<string, string>> {
  const { rows } = await sql<{ name: string; setting: string }>`
    SELECT name, setting || COALESCE(' ' || unit, '') AS setting FROM pg_settings
    WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'effective_cache_size',
                   'max_parallel_workers_per_gather', 'jit', 'synchronous_commit')
    ORDER BY name`.execute(db);
  return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
}

async function countOtherActiveSessions(db: Db): Promise<number> {
  const { rows } = await sql<{ count: string }>`
    SELECT count(*) AS count FROM pg_stat_activity
    WHERE state = 'active' AND backend_type = 'client backend' AND datname IS DISTINCT FROM current_database()`.execute(
    db,
  );
  return Number(rows[0]!.count);
}

/** Sends one request of `scenario` and checks that it succeeds with a full page. */
async function checkScenario(
  baseUrl: string,
  headers: Record<string, string>,
  scenario: Scenario,
  ids: IdRanges,
): Promise<void> {
  const url = `${baseUrl}${scenario.nextPath(ids)}`;
  const response = await fetch(url, { headers });
  if (response.status !== 200) {
    throw new Error(`${scenario.name}: GET ${url} returned ${response.status}: ${await response.text()}`);
  }
  const rows = scenario.rowsOf(await response.json());
  if (rows !== scenario.expectedRows) {
    throw new Error(`${scenario.name}: GET ${url} returned ${rows} rows; expected ${scenario.expectedRows}`);
  }
}

/** Loads `scenario` for `seconds` with autocannon. */
async function loadWith(
  baseUrl: string,
  headers: Record<string, string>,
  scenario: Scenario,
  ids: IdRanges,
  options: { connections: number; seconds: number },
) {
  const result = await autocannon({
    url: baseUrl,
    connections: options.connections,
    duration: options.seconds,
    headers,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: scenario.nextPath(ids) }) }],
  });
  return result;
}

/**
 * Waits until no statement has run in the benchmark database, but this
 * one's, for IDLE_MS. autocannon returns when its time is up and drops the
 * requests in flight, but the server keeps working on them. Without this wait,
 * slow statements of one run would overlap the next, and the server would
 * still be handling requests when it is stopped.
 */
async function waitForIdleDatabase(db: Db): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let idleSince: number | null = null;
  while (Date.now() < deadline) {
    const { rows } = await sql<{ count: string }>`
      SELECT count(*) AS count FROM pg_stat_activity
      WHERE state = 'active' AND datname = current_database() AND pid <> pg_backend_pid()`.execute(db);
    if (Number(rows[0]!.count) > 0) idleSince = null;
    else idleSince ??= Date.now();
    if (idleSince !== null && Date.now() - idleSince >= IDLE_MS) return;
    await sleep(200);
  }
  log(`the server still ran statements ${DRAIN_TIMEOUT_MS / 1000} s after the load ended; continuing`);
}

/** Returns the process ids of the PostgreSQL backends connected to the benchmark database. */
async function backendPids(db: Db): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(db);
  return rows.map((row) => row.pid);
}

/** Sums the CPU seconds of `pids`, skipping processes that have exited. */
function cpuSecondsOf(pids: number[]): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of pids) {
    try {
      seconds.set(pid, processCpuSeconds(pid));
    } catch {
      // The backend exited.
    }
  }
  return seconds;
}

/** Returns busy and total CPU time of the whole machine so far, in clock ticks, from /proc/stat. */
function machineCpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal; guest time is already part of user.
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = fields[3]! + fields[4]!;
  return { busy: total - idle, total };
}

async function runScenario(
  baseUrl: string,
  headers: Record<string, string>,
  scenario: Scenario,
  ids: IdRanges,
  db: Db,
  serverPid: number,
  options: BenchOptions,
): Promise<ScenarioResult> {
  await checkScenario(baseUrl, headers, scenario, ids);
  if (options.warmup > 0) {
    await loadWith(baseUrl, headers, scenario, ids, {
      connections: options.connections,
      seconds: options.warmup,
    });
    await waitForIdleDatabase(db);
  }

  const loadAtStart = os.loadavg()[0]!;
  const otherActiveSessions = await countOtherActiveSessions(db);
  const serverAtStart = cpuSecondsOf(processTree(serverPid));
  const backendsAtStart = cpuSecondsOf(await backendPids(db));
  const loadGeneratorAtStart = process.cpuUsage();
  const machineAtStart = machineCpuTicks();
  const result = await loadWith(baseUrl, headers, scenario, ids, {
    connections: options.connections,
    seconds: options.duration,
  });
  let serverCpuSeconds = 0;
  for (const [pid, seconds] of cpuSecondsOf([...serverAtStart.keys()])) {
    serverCpuSeconds += seconds - serverAtStart.get(pid)!;
  }
  const machineAtEnd = machineCpuTicks();
  const loadGenerator = process.cpuUsage(loadGeneratorAtStart);
  let backendCpuSeconds = 0;
  for (const [pid, seconds] of cpuSecondsOf([...backendsAtStart.keys()])) {
    backendCpuSeconds += seconds - backendsAtStart.get(pid)!;
  }
  await waitForIdleDatabase(db);

  const requestsPerSecond = result.requests.total / result.duration;
  const loadGeneratorCpuSeconds = (loadGenerator.user + loadGenerator.system) / 1e6;
  const msPerRequest = (seconds: number) => (1000 * seconds) / Math.max(1, result.requests.total);
  const { latency } = result;
  return {
    scenario: scenario.name,
    requests: result.requests.total,
    seconds: result.duration,
    requestsPerSecond,
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max, mean: latency.mean },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    loadAverage: { start: loadAtStart, end: os.loadavg()[0]! },
    otherActiveSessions,
    serverCpuPercent: (100 * serverCpuSeconds) / result.duration,
    postgresCpuPercent: (100 * backendCpuSeconds) / result.duration,
    loadGeneratorCpuPercent: (100 * loadGeneratorCpuSeconds) / result.duration,
    machineBusyPercent:
      (100 * (machineAtEnd.busy - machineAtStart.busy)) / (machineAtEnd.total - machineAtStart.total),
    cpuMsPerRequest: {
      server: msPerRequest(serverCpuSeconds),
      postgres: msPerRequest(backendCpuSeconds),
      loadGenerator: msPerRequest(loadGeneratorCpuSeconds),
    },
    meetsTarget:
      latency.p99 < TARGET_P99_MS &&
      requestsPerSecond >= TARGET_REQUESTS_PER_SECOND &&
      result.non2xx === 0 &&
      result.errors === 0,
  };
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');

function formatResult(result: ScenarioResult): string {
  const { p50, p99, max } = result.latencyMs;
  return (
    `${result.scenario}: ${integer(result.requestsPerSecond)} requests/s, p50 ${p50} ms, p99 ${p99} ms, ` +
    `max ${max} ms (${integer(result.requests)} requests in ${result.seconds.toFixed(1)} s, ` +
    `${result.non2xx} non-2xx, ${result.errors} errors), load average ${result.loadAverage.start.toFixed(1)} ` +
    `at start, ${result.loadAverage.end.toFixed(1)} at end; CPU in % of a core: server ` +
    `${result.serverCpuPercent.toFixed(0)}, PostgreSQL backends ${result.postgresCpuPercent.toFixed(0)}, ` +
    `autocannon ${result.loadGeneratorCpuPercent.toFixed(0)}; CPU ms per request: server ` +
    `${result.cpuMsPerRequest.server.toFixed(2)}, PostgreSQL ${result.cpuMsPerRequest.postgres.toFixed(2)}, ` +
    `autocannon ${result.cpuMsPerRequest.loadGenerator.toFixed(2)}; machine CPUs ${result.machineBusyPercent.toFixed(0)} % busy, ` +
    `${result.otherActiveSessions} other active sessions`
  );
}

function printTable(results: ScenarioResult[]): void {
  console.log(
    '\n| scenario | requests/s | p50 ms | p99 ms | max ms | errors | CPU % server / PostgreSQL / autocannon | CPU ms per request server / PostgreSQL / autocannon | machine busy % | load avg start/end | target |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const result of results) {
    const { p50, p99, max } = result.latencyMs;
    console.log(
      `| ${result.scenario} | ${integer(result.requestsPerSecond)} | ${p50} | ${p99} | ${max} | ` +
        `${result.non2xx + result.errors} | ${result.serverCpuPercent.toFixed(0)} / ` +
        `${result.postgresCpuPercent.toFixed(0)} / ${result.loadGeneratorCpuPercent.toFixed(0)} | ` +
        `${result.cpuMsPerRequest.server.toFixed(2)} / ${result.cpuMsPerRequest.postgres.toFixed(2)} / ` +
        `${result.cpuMsPerRequest.loadGenerator.toFixed(2)} | ` +
        `${result.machineBusyPercent.toFixed(0)} | ${result.loadAverage.start.toFixed(1)} / ` +
        `${result.loadAverage.end.toFixed(1)} | ${result.meetsTarget ? 'met' : 'missed'} |`,
    );
  }
  console.log(
    `\ntarget: p99 under ${TARGET_P99_MS} ms and at least ${TARGET_REQUESTS_PER_SECOND} requests/s, without errors`,
  );
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench:api --')
    .description(
      'Seed about 10 million billing records on PostgreSQL, start the API server and load it with autocannon.',
    )
    .option(
      '--database-url <url>',
      `PostgreSQL server to create the database ${DATABASE_NAME} on (dropped at the end unless --keep)`,
      'postgres://postgres@127.0.0.1:5432/test',
    )
    .option('--systems <count>', 'information systems to seed', parsePositiveInteger, 27_400)
    .option(
      '--days <count>',
      'days of billing records per system, up to yesterday',
      parsePositiveInteger,
      365,
    )
    .option('--connections <count>', 'concurrent HTTP connections', parsePositiveInteger, 50)
    .option('--duration <seconds>', 'measured seconds per scenario', parsePositiveInteger, 20)
    .option('--warmup <seconds>', 'unmeasured seconds of load before each scenario (0 for none)', Number, 5)
    .addOption(
      new Option('--auth <mode>', 'how requests authenticate: API token or session cookie')
        .choices(['token', 'session'])
        .default('token'),
    )
    .option(
      '--scenarios <names>',
      `comma-separated scenarios to run (default all: ${SCENARIOS.map((scenario) => scenario.name).join(', ')})`,
      parseScenarioNames,
    )
    .option('--reuse', `use the ${DATABASE_NAME} that a run with --keep left, without seeding`, false)
    .option('--keep', `keep ${DATABASE_NAME} after the run, for --reuse and EXPLAIN`, false)
    .option(
      '--server-root <folder>',
      'checkout whose src/cli/main.ts serves the API, e.g. a copy with other code to compare (default: this one)',
      PROJECT_ROOT,
    )
    .option(
      '--server-workers <count>',
      'API server processes (API_WORKERS of `serve`; more than 1 needs PostgreSQL)',
      parsePositiveInteger,
      1,
    )
    .option(
      '--pool-size <count>',
      'PostgreSQL connections of each server process (DATABASE_POOL_SIZE; default: the setting’s default, 10)',
      parsePositiveInteger,
    )
    .option(
      '--semi-space-mb <MiB>',
      'V8 young-generation semi-space of each server process (node --max-semi-space-size), ' +
        'as the deployment files set it; 0 keeps Node.js’s default',
      parseNonNegativeInteger,
      32,
    )
    .option(
      '--profile-dir <folder>',
      'write a V8 CPU profile of each server process to this folder when it stops (node --cpu-prof)',
    )
    .option('--json <file>', 'also write the results to this JSON file');
  program.parse();
  const options = program.opts<BenchOptions>();
  if (!Number.isFinite(options.warmup) || options.warmup < 0) {
    throw new InvalidArgumentError(`--warmup must be 0 or more seconds, not ${options.warmup}`);
  }

  console.log(
    `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ` +
      `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node.js ${process.version}, ${os.platform()} ${os.release()}`,
  );

  let database: DatabaseHandle;
  if (options.reuse) {
    database = await openKeptDatabase(options.databaseUrl);
  } else {
    log(`creating ${DATABASE_NAME}`);
    database = await createPostgresBenchDatabase(options.databaseUrl, true, DATABASE_NAME);
  }

  const results: ScenarioResult[] = [];
  let data: Record<string, string> = {};
  let serverSettings: Record<string, string> = {};
  try {
    if (!options.reuse) await seed(database.db, options);
    data = await describeData(database.db);
    serverSettings = await readServerSettings(database.db);
    console.log(`data: ${JSON.stringify(data)}`);
    console.log(`server: ${JSON.stringify(serverSettings)}`);
    const ids = await readIdRanges(database.db);

    const server = await startServerProcess({
      databaseUrl: databaseUrlFor(options.databaseUrl),
      adminPassword: ADMIN_PASSWORD,
      projectRoot: path.resolve(options.serverRoot),
      workers: options.serverWorkers,
      poolSize: options.poolSize,
      semiSpaceMb: options.semiSpaceMb,
      profileDir: options.profileDir === undefined ? undefined : path.resolve(options.profileDir),
    });
    log(
      `API server (pid ${server.pid}, ${options.serverWorkers} worker process(es) ` +
        `of ${options.poolSize ?? 'the default'} PostgreSQL connections each, semi-space ${options.semiSpaceMb === 0 ? 'Node.js default' : `${options.semiSpaceMb} MiB`}) at ${server.baseUrl}`,
    );
    try {
      const headers = await signIn(
        server.baseUrl,
        { username: ADMIN_USERNAME, password: ADMIN_PASSWORD },
        options.auth,
      );
      const chosen = SCENARIOS.filter((scenario) => options.scenarios?.includes(scenario.name) ?? true);
      for (const scenario of chosen) {
        log(`loading ${scenario.name} with ${options.connections} connections for ${options.duration} s`);
        results.push(
          await runScenario(server.baseUrl, headers, scenario, ids, database.db, server.pid, options),
        );
        log(formatResult(results.at(-1)!));
      }
    } finally {
      await server.stop();
    }
  } finally {
    await database.close();
    if (options.keep) {
      log(`kept ${DATABASE_NAME}; drop it by hand when done`);
    } else {
      await dropDatabase(options.databaseUrl);
      log(`dropped ${DATABASE_NAME}`);
    }
  }

  printTable(results);
  if (options.json) {
    const report = { date: new Date().toISOString(), options, data, serverSettings, results };
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nresults written to ${options.json}`);
  }
}

await main();
