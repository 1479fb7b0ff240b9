import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';
import { sql } from 'kysely';

import type { Db } from '../src/db/database.js';
import { openstackSchema, OpenStackInventorySource } from '../src/inventory/connectors/openstack.js';
import { silentLogger } from '../src/logger.js';
import { syncVmStatus, type SourceSyncResult } from '../src/monitoring/sync-vm-status.js';
import { PASSWORD } from '../test/support/fake-openstack.js';
import { createPostgresBenchDatabase } from './databases.js';
import { measure, type PhaseMeasurement } from './measure.js';
import { parsePositiveInteger } from './support.js';

/**
 * Benchmark of sync_vm_status with the OpenStack connector on PostgreSQL. A
 * child process serves a fake OpenStack cloud of --vms generated servers on
 * 127.0.0.1 (bench/fake-openstack-server.ts). This process syncs them twice
 * in pages of --page-size: the first sync creates every VM, and the second
 * finds them unchanged. Prints wall time and peak RSS of each sync. Run with --help
 * for the options.
 */

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATABASE_NAME = 'cloud_platform_bench_sync';
const TARGET_SECONDS = 30;
const TARGET_RSS_MIB = 300;
/** Systems named by the generated servers' metadata: SYS-0 … SYS-99. */
const SYSTEMS = 100;

interface BenchOptions {
  vms: number;
  pageSize: number;
  databaseUrl: string;
  keep: boolean;
}

function parseOptions(): BenchOptions {
  const program = new Command('bench:sync-openstack')
    .description('sync VMs from a fake OpenStack cloud into PostgreSQL and measure time and memory')
    .option('--vms <count>', 'servers in the fake cloud', parsePositiveInteger, 100_000)
    .option(
      '--page-size <count>',
      'servers per Nova page (page_size of the source)',
      parsePositiveInteger,
      1000,
    )
    .option(
      '--database-url <url>',
      'PostgreSQL server; the benchmark creates and drops its own database there',
      process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    )
    .option('--keep', 'keep the benchmark database afterwards')
    .parse();
  return program.opts<BenchOptions>();
}

/** Starts the fake cloud in a child process, so its CPU and memory are not counted as the sync's. */
async function startCloud(vms: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
    [path.join(PROJECT_ROOT, 'bench/fake-openstack-server.ts'), String(vms)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fake cloud exited with status ${code}`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  return { url, child };
}

async function seedSystems(db: Db): Promise<void> {
  await sql`INSERT INTO tenants (code, name, discount_rate) VALUES ('BENCH', 'Bench tenant', 1)`.execute(db);
  await sql`
    INSERT INTO information_systems (tenant_id, code, name, run_mode)
    SELECT t.id, 'SYS-' || n, 'System ' || n, '7x24'
    FROM tenants t, generate_series(0, ${SYSTEMS - 1}::integer) AS n
    WHERE t.code = 'BENCH'`.execute(db);
}

function describe(name: string, result: SourceSyncResult, measurement: PhaseMeasurement): string {
  const rate = Math.round(result.records_read / measurement.seconds);
  return (
    `${name}: ${measurement.seconds.toFixed(1)} s, peak RSS ${measurement.peakRssMiB.toFixed(0)} MiB` +
    `${measurement.peakIsPerPhase ? '' : ' (since start)'}, ${rate} VMs/s; created ${result.created}, ` +
    `updated ${result.updated}, unchanged ${result.unchanged}, rejected ${result.rejected_count}; ` +
    `load ${measurement.loadAverage.start.toFixed(2)} → ${measurement.loadAverage.end.toFixed(2)}`
  );
}

async function main(): Promise<void> {
  const options = parseOptions();
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  );
  console.log(`uptime before: ${execFileSync('uptime').toString().trim()}`);

  const database = await createPostgresBenchDatabase(options.databaseUrl, options.keep, DATABASE_NAME);
  const { url, child } = await startCloud(options.vms);
  try {
    await seedSystems(database.db);
    const config = openstackSchema.parse({
      name: 'openstack-bench',
      type: 'openstack',
      auth_url: `${url}/identity/v3`,
      username: 'admin',
      password: PASSWORD,
      project_name: 'admin',
      page_size: options.pageSize,
    });
    const source = new OpenStackInventorySource(config, PASSWORD, silentLogger);
    const sync = async (at: string) => {
      const result = await syncVmStatus(database.db, [source], {
        now: new Date(at),
        taskRunId: null,
        missingAfterSyncs: 3,
        logger: silentLogger,
      });
      const [sourceResult] = result.sources;
      if (sourceResult?.status !== 'succeeded') throw new Error(`sync failed: ${sourceResult?.error}`);
      return sourceResult;
    };

    console.log(`RSS before the first sync: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    const first = await measure(() => sync('2026-07-01T02:00:00Z'));
    console.log(describe('first sync (creates)', first.result, first.measurement));
    if (first.result.created !== options.vms) throw new Error(`expected ${options.vms} VMs created`);

    const second = await measure(() => sync('2026-07-01T02:05:00Z'));
    console.log(describe('second sync (unchanged)', second.result, second.measurement));
    if (second.result.unchanged !== options.vms) throw new Error(`expected ${options.vms} VMs unchanged`);

    const worst = Math.max(first.measurement.seconds, second.measurement.seconds);
    const peak = Math.max(first.measurement.peakRssMiB, second.measurement.peakRssMiB);
    console.log(
      `targets: under ${TARGET_SECONDS} s and ${TARGET_RSS_MIB} MiB per sync: ` +
        `${worst < TARGET_SECONDS && peak < TARGET_RSS_MIB ? 'met' : 'NOT met'}`,
    );
    console.log(`uptime after: ${execFileSync('uptime').toString().trim()}`);
    console.log(`PostgreSQL: ${JSON.stringify(database.serverInfo)}`);
  } finally {
    child.kill();
    await database.drop();
  }
}

await main();
