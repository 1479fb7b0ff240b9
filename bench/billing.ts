import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';

import { Command, Option } from 'commander';
import { Decimal } from 'decimal.js';
import { sql } from 'kysely';

import { billDay } from '../src/billing/daily-billing.js';
import { loadSettings } from '../src/config/settings.js';
import type { Db } from '../src/db/database.js';
import { detectResourceChanges } from '../src/monitoring/detect-resource-changes.js';
import {
  createPgliteBenchDatabase,
  createPostgresBenchDatabase,
  BENCH_DATABASE_NAME,
  type BenchDatabase,
} from './databases.js';
import {
  createFloorTable,
  dropFloorTable,
  FLOOR_TABLE,
  insertFloorRows,
  type FloorConstraints,
} from './floor.js';
import { measure, type PhaseMeasurement } from './measure.js';
import {
  applyDayOfChanges,
  BILLED_DAY,
  expectedDayTotal,
  seedInventory,
  timelineFor,
  type DayOfChanges,
  type InventoryCounts,
} from './seed.js';
import { checkpoint, parseChunkSizes, parsePositiveInteger, resetBilling } from './support.js';

/**
 * Benchmark of change detection and daily billing at scale, on PGlite and on
 * PostgreSQL. Seeds N information systems with about 5 VMs each (not timed),
 * then times detect_resource_changes logging N×5 vm_added changes, billDay for
 * one day at several chunk sizes, and the floor: one plain INSERT … SELECT of
 * as many billing-record-shaped rows. Prints rows per second and peak RSS of
 * this process for each phase. Run with --help for the options.
 */

type Backend = 'pglite' | 'postgres';

const DEFAULT_SYSTEMS: Record<Backend, number> = { pglite: 100_000, postgres: 1_000_000 };

/**
 * Targets at the default sizes: billing in under 60 s, and on PostgreSQL also
 * under 300 MB peak RSS (300 × 10^6 bytes) and within 3× the bare floor.
 */
const TARGET_SECONDS = 60;
const TARGET_PEAK_RSS_MIB = 300e6 / 2 ** 20;
const TARGET_FLOOR_RATIO = 3;

const FLOOR_LABELS: Record<FloorConstraints, string> = {
  none: 'floor: INSERT … SELECT',
  indexes: 'floor + billing_records indexes',
  'foreign-keys': 'floor + indexes + foreign keys',
};

interface PhaseRow {
  phase: string;
  rows: number;
  measurement: PhaseMeasurement;
  /** Heap size of the written table divided by rows, in bytes. Detection has none. */
  heapBytesPerRow?: number;
  note?: string;
}

interface TargetCheck {
  target: string;
  met: boolean;
  measured: string;
}

interface BackendReport {
  backend: Backend;
  systems: number;
  location: string;
  serverInfo: Record<string, string>;
  inventory: InventoryCounts;
  seedSeconds: number;
  vacuumAnalyzeSeconds: number;
  dayOfChanges: DayOfChanges;
  dayOfChangesSeconds: number;
  expectedAmount: string;
  phases: PhaseRow[];
  targets: TargetCheck[];
}

interface BenchOptions {
  backend: Backend | 'both';
  systems?: number;
  chunkSizes: number[];
  databaseUrl: string;
  dataDir?: string;
  keep: boolean;
  json?: string;
}

const log = (message: string) => console.log(`[${new Date().toISOString()}] ${message}`);

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
}

async function relationBytes(db: Db, table: string): Promise<number> {
  const { rows } = await sql<{ bytes: string }>`SELECT pg_relation_size(${table}::regclass) AS bytes`.execute(
    db,
  );
  return Number(rows[0]!.bytes);
}

/** Counts other sessions running a statement on the server, which would skew the figures. */
async function otherActiveSessions(database: BenchDatabase): Promise<number> {
  if (database.kind !== 'postgres') return 0;
  const { rows } = await sql<{ count: string }>`
    SELECT count(*) AS count FROM pg_stat_activity
    WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`.execute(
    database.db,
  );
  return Number(rows[0]!.count);
}

function interferenceNote(sessions: number): string | undefined {
  return sessions > 0 ? `${sessions} other active session(s) on the server at start` : undefined;
}

/** Times detection of one vm_added change per seeded VM, all in one transaction. */
async function timeDetection(
  database: BenchDatabase,
  timezone: string,
  detectedAt: Date,
  virtualMachines: number,
): Promise<PhaseRow> {
  await checkpoint(database.db);
  const sessions = await otherActiveSessions(database);
  const { result, measurement } = await measure(() =>
    detectResourceChanges(database.db, { timezone, now: detectedAt }),
  );

  const added = result.by_type.vm_added ?? 0;
  if (result.changes !== virtualMachines || added !== virtualMachines) {
    throw new Error(
      `detection logged ${result.changes} changes (${added} vm_added); expected ${virtualMachines} vm_added`,
    );
  }
  return {
    phase: 'detect_resource_changes',
    rows: result.changes,
    measurement,
    note: interferenceNote(sessions),
  };
}

/** Times billDay of the billed day into an empty billing_records and checks its count and total. */
async function timeBilling(
  database: BenchDatabase,
  timezone: string,
  chunkSize: number,
  expected: { systems: number; amount: string },
): Promise<PhaseRow> {
  const { db } = database;
  await resetBilling(db);
  await checkpoint(db);
  const sessions = await otherActiveSessions(database);
  const { result: day, measurement } = await measure(() =>
    billDay(db, BILLED_DAY, { timezone, chunkSize, taskRunId: null }),
  );

  if (
    day.systemsBillable !== expected.systems ||
    day.recordsCreated !== expected.systems ||
    !new Decimal(day.totalAmount).equals(expected.amount)
  ) {
    throw new Error(
      `billDay billed ${day.systemsBillable} systems, created ${day.recordsCreated} records ` +
        `totalling ${day.totalAmount}; expected ${expected.systems} records totalling ${expected.amount}`,
    );
  }
  return {
    phase: `billDay, chunk size ${chunkSize}`,
    rows: day.recordsCreated,
    measurement,
    heapBytesPerRow: (await relationBytes(db, 'billing_records')) / day.recordsCreated,
    note: interferenceNote(sessions),
  };
}

/** Times the floor insert of `rows` rows into a new scratch table with the given constraints. */
async function timeFloor(
  database: BenchDatabase,
  constraints: FloorConstraints,
  rows: number,
  tenants: number,
): Promise<PhaseRow> {
  const { db } = database;
  await createFloorTable(db, constraints);
  await checkpoint(db);
  const sessions = await otherActiveSessions(database);
  const { result: inserted, measurement } = await measure(() =>
    insertFloorRows(db, rows, tenants, BILLED_DAY),
  );

  const row: PhaseRow = {
    phase: FLOOR_LABELS[constraints],
    rows: inserted,
    measurement,
    heapBytesPerRow: (await relationBytes(db, FLOOR_TABLE)) / inserted,
    note: interferenceNote(sessions),
  };
  await dropFloorTable(db);
  return row;
}

async function runBackend(backend: Backend, options: BenchOptions): Promise<BackendReport> {
  const settings = loadSettings({});
  const timezone = settings.billingTimezone;
  const systems = options.systems ?? DEFAULT_SYSTEMS[backend];
  const timeline = timelineFor(BILLED_DAY, timezone);

  log(`${backend}: creating the benchmark database`);
  const database =
    backend === 'postgres'
      ? await createPostgresBenchDatabase(options.databaseUrl, options.keep)
      : await createPgliteBenchDatabase(options.dataDir, options.keep);
  const { db } = database;
  log(`${backend}: database at ${database.location}`);

  try {
    log(`${backend}: seeding ${systems} systems`);
    const seeding = await timed(() => seedInventory(db, systems, timeline));
    const inventory = seeding.result;
    log(
      `${backend}: seeded ${inventory.tenants} tenants, ${inventory.systems} systems, ` +
        `${inventory.virtualMachines} VMs in ${seeding.seconds.toFixed(1)} s`,
    );
    const firstVacuum = await timed(() => sql`VACUUM (ANALYZE)`.execute(db));

    const phases: PhaseRow[] = [];
    phases.push(await timeDetection(database, timezone, timeline.detectedAt, inventory.virtualMachines));
    log(`${backend}: ${formatPhase(phases.at(-1)!)}`);

    const expected = await expectedDayTotal(db, BILLED_DAY);
    const dayOf = await timed(() => applyDayOfChanges(db, timeline, timezone));
    const secondVacuum = await timed(() => sql`VACUUM (ANALYZE)`.execute(db));
    log(
      `${backend}: changes during ${BILLED_DAY}: ${dayOf.result.resizedVms} VM resizes, ` +
        `${dayOf.result.discountChanges} discount changes, ${dayOf.result.runModeChanges} run mode changes`,
    );

    for (const chunkSize of options.chunkSizes) {
      log(`${backend}: timing billDay with chunk size ${chunkSize}`);
      phases.push(await timeBilling(database, timezone, chunkSize, expected));
      log(`${backend}: ${formatPhase(phases.at(-1)!)}`);
    }

    for (const constraints of ['none', 'indexes', 'foreign-keys'] as const) {
      log(`${backend}: timing ${FLOOR_LABELS[constraints]}`);
      phases.push(await timeFloor(database, constraints, expected.systems, inventory.tenants));
      log(`${backend}: ${formatPhase(phases.at(-1)!)}`);
    }

    return {
      backend,
      systems,
      location: database.location,
      serverInfo: database.serverInfo,
      inventory,
      seedSeconds: seeding.seconds,
      vacuumAnalyzeSeconds: firstVacuum.seconds + secondVacuum.seconds,
      dayOfChanges: dayOf.result,
      dayOfChangesSeconds: dayOf.seconds,
      expectedAmount: expected.amount,
      phases,
      targets: checkTargets(backend, systems, phases, settings.billingChunkSize),
    };
  } finally {
    await database.drop();
    log(
      options.keep
        ? `${backend}: kept the database at ${database.location}`
        : `${backend}: dropped the benchmark database`,
    );
  }
}

function checkTargets(
  backend: Backend,
  systems: number,
  phases: PhaseRow[],
  defaultChunkSize: number,
): TargetCheck[] {
  const billing = phases.find((row) => row.phase === `billDay, chunk size ${defaultChunkSize}`);
  const floor = phases.find((row) => row.phase === FLOOR_LABELS.none);
  if (!billing || !floor || systems < DEFAULT_SYSTEMS[backend]) return [];

  const seconds = billing.measurement.seconds;
  const checks: TargetCheck[] = [
    {
      target: `billDay of ${DEFAULT_SYSTEMS[backend]} systems in under ${TARGET_SECONDS} s`,
      met: seconds < TARGET_SECONDS,
      measured: `${seconds.toFixed(1)} s`,
    },
  ];
  if (backend === 'postgres') {
    const ratio = seconds / floor.measurement.seconds;
    checks.push(
      {
        target: `peak RSS under 300 MB (${TARGET_PEAK_RSS_MIB.toFixed(1)} MiB)`,
        met: billing.measurement.peakRssMiB < TARGET_PEAK_RSS_MIB,
        measured: `${billing.measurement.peakRssMiB.toFixed(1)} MiB`,
      },
      {
        target: `within ${TARGET_FLOOR_RATIO}× the floor`,
        met: ratio <= TARGET_FLOOR_RATIO,
        measured: `${ratio.toFixed(2)}×`,
      },
    );
  }
  return checks;
}

function formatPhase(row: PhaseRow): string {
  const { seconds, peakRssMiB, sampledMaxRssMiB, loadAverage } = row.measurement;
  return (
    `${row.phase}: ${row.rows} rows in ${seconds.toFixed(2)} s, ` +
    `${Math.round(row.rows / seconds)} rows/s, peak RSS ${peakRssMiB.toFixed(0)} MiB ` +
    `(sampled max ${sampledMaxRssMiB.toFixed(0)} MiB), ` +
    `load average ${loadAverage.start.toFixed(1)} at start, ${loadAverage.end.toFixed(1)} at end`
  );
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');

function printReport(report: BackendReport): void {
  const { inventory, dayOfChanges } = report;
  console.log(`\n## ${report.backend}, ${integer(report.systems)} systems\n`);
  console.log(`server: ${JSON.stringify(report.serverInfo)}`);
  console.log(
    `seeded ${integer(inventory.tenants)} tenants, ${integer(inventory.systems)} systems and ` +
      `${integer(inventory.virtualMachines)} VMs in ${report.seedSeconds.toFixed(1)} s (not timed below); ` +
      `VACUUM (ANALYZE) ${report.vacuumAnalyzeSeconds.toFixed(1)} s; changes during the billed day ` +
      `(${dayOfChanges.resizedVms} resizes, ${dayOfChanges.discountChanges} discount changes, ` +
      `${dayOfChanges.runModeChanges} run mode changes) ${report.dayOfChangesSeconds.toFixed(1)} s; ` +
      `billed total ${report.expectedAmount} CNY\n`,
  );

  console.log(
    '| phase | rows | seconds | rows/s | peak RSS MiB | sampled max RSS MiB | heap bytes/row | load avg start/end |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const row of report.phases) {
    const { seconds, peakRssMiB, peakIsPerPhase, sampledMaxRssMiB, loadAverage } = row.measurement;
    const peak = `${peakRssMiB.toFixed(0)}${peakIsPerPhase ? '' : ' (since start)'}`;
    const width = row.heapBytesPerRow === undefined ? '' : row.heapBytesPerRow.toFixed(0);
    const note = row.note ? ` (${row.note})` : '';
    console.log(
      `| ${row.phase}${note} | ${integer(row.rows)} | ${seconds.toFixed(2)} | ` +
        `${integer(row.rows / seconds)} | ${peak} | ${sampledMaxRssMiB.toFixed(0)} | ${width} | ` +
        `${loadAverage.start.toFixed(1)} / ${loadAverage.end.toFixed(1)} |`,
    );
  }

  if (report.targets.length > 0) {
    console.log('');
    for (const check of report.targets) {
      console.log(`${check.met ? 'met' : 'MISSED'}: ${check.target}: ${check.measured}`);
    }
  }
}

/** Runs this script again for one backend, with the same options, and returns its report. */
async function runInChildProcess(backend: Backend): Promise<BackendReport> {
  const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-bench-report-'));
  const jsonFile = path.join(folder, 'report.json');
  const forwarded = withoutOptions(process.argv.slice(2), ['--backend', '--json']);
  const child = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1]!, ...forwarded, '--backend', backend, '--json', jsonFile],
    { stdio: 'inherit' },
  );
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  try {
    if (code !== 0) {
      throw new Error(
        `the ${backend} benchmark failed (exit code ${code}, signal ${signal}); see its output above`,
      );
    }
    const { reports } = JSON.parse(readFileSync(jsonFile, 'utf8')) as { reports: BackendReport[] };
    return reports[0]!;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Removes each of `names` and its value from command-line arguments. */
function withoutOptions(args: string[], names: string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (names.includes(arg)) {
      index += 1;
    } else if (!names.some((name) => arg.startsWith(`${name}=`))) {
      kept.push(arg);
    }
  }
  return kept;
}

async function main(): Promise<void> {
  const settings = loadSettings({});
  const program = new Command()
    .name('npm run bench --')
    .description(
      'Seed information systems and VMs, then time change detection, daily billing and an INSERT … SELECT floor.',
    )
    .addOption(
      new Option('--backend <backend>', 'database to benchmark')
        .choices(['pglite', 'postgres', 'both'])
        .default('both'),
    )
    .option(
      '--systems <count>',
      `information systems to seed (default ${DEFAULT_SYSTEMS.pglite} on PGlite, ${DEFAULT_SYSTEMS.postgres} on PostgreSQL)`,
      parsePositiveInteger,
    )
    .option(
      '--chunk-sizes <sizes>',
      'comma-separated systems per billing statement, one billing run each; the first is the product default',
      parseChunkSizes,
      [settings.billingChunkSize, 10_000, 200_000],
    )
    .option(
      '--database-url <url>',
      `PostgreSQL server to create the database ${BENCH_DATABASE_NAME} on (dropped at the end)`,
      'postgres://postgres@127.0.0.1:5432/test',
    )
    .option('--data-dir <folder>', 'empty folder for the PGlite database (default: a new temporary folder)')
    .option('--keep', 'keep the benchmark database after the run, e.g. to inspect query plans', false)
    .option('--json <file>', 'also write the results to this JSON file');

  program.parse();
  const options = program.opts<BenchOptions>();
  const backends: Backend[] = options.backend === 'both' ? ['pglite', 'postgres'] : [options.backend];

  const reports: BackendReport[] = [];
  if (backends.length === 1) {
    console.log(
      `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ` +
        `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node.js ${process.version}, ${os.platform()} ${os.release()}`,
    );
    const report = await runBackend(backends[0]!, options);
    reports.push(report);
    printReport(report);
  } else {
    // PGlite keeps its WebAssembly memory until the process exits, so each
    // backend runs in a child process of its own and its RSS is its own.
    for (const backend of backends) reports.push(await runInChildProcess(backend));
  }

  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ date: new Date().toISOString(), reports }, null, 2)}\n`);
    console.log(`\nresults written to ${options.json}`);
  }
}

await main();
