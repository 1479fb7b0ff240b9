import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import {
  HEADERS_4X,
  temporaryFolder,
  writeCsv,
  writeWorkbook,
  type Cell,
} from '../../test/support/rvtools-files.js';
import { beijing, ZONE } from '../../test/support/fixtures.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { DomainError } from '../errors.js';
import { syncVmStatus } from '../monitoring/sync-vm-status.js';
import { importRvtoolsFile } from './rvtools-import.js';
import { buildInventorySources } from './sources.js';
import { addSystem } from './systems.js';
import { addTenant } from './tenants.js';

const backends = await availableBackends();
const silent = pino({ level: 'silent' });

let folder: string;
let remove: () => Promise<void>;

beforeAll(async () => {
  ({ folder, remove } = await temporaryFolder());
});

afterAll(async () => {
  await remove();
});

/** A 4.x vInfo row; sizes in MiB. */
function vm(
  name: string,
  options: {
    power?: string;
    template?: boolean;
    cpus?: Cell;
    memory?: Cell;
    disk?: Cell;
    cluster?: string;
    uuid?: string;
  } = {},
): Cell[] {
  return [
    name,
    options.power ?? 'poweredOn',
    options.template ?? false,
    options.cpus ?? 2,
    options.memory ?? 4096,
    options.disk ?? 51200,
    options.disk ?? 51200,
    0,
    'DC1',
    options.cluster ?? 'PROD',
    'esx01',
    'DC1/vm',
    'vm-x',
    options.uuid ?? `uuid-${name}`,
    'sdk',
  ];
}

async function settingsWith(sources: unknown): Promise<Settings> {
  const config = path.join(folder, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(config, JSON.stringify({ sources }), 'utf8');
  return loadSettings({ CONFIG_FILE: config, MISSING_AFTER_SYNCS: '2' });
}

const RVTOOLS_SOURCE = {
  name: 'rvtools-dc1',
  type: 'rvtools',
  mapping: [
    { name: 'lic-*', system_code: 'LIC' },
    { cluster: 'PROD', system_code: 'OPS' },
  ],
};

describe.each(backends)('RVTools import on %s', (backend) => {
  let database: TestDatabase;
  let settings: Settings;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    settings = await settingsWith([
      RVTOOLS_SOURCE,
      {
        name: 'other',
        type: 'proxmox',
        url: 'https://127.0.0.1:8006',
        token_id: 'a@pve!b',
        token_secret: 'secret',
      },
    ]);
    const context = { timezone: ZONE, now: beijing('2026-03-01T09:00:00') };
    await addTenant(database.db, { code: 'T1', name: 'Tenant', discount_rate: '1' }, context);
    for (const code of ['LIC', 'OPS']) {
      await addSystem(database.db, { code, tenant: 'T1', name: code, run_mode: '7x24' }, context);
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function tableCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of [
      'virtual_machines',
      'resource_adjustment_logs',
      'task_runs',
      'information_systems',
    ]) {
      const { rows } = await sql<{
        count: string;
      }>`SELECT count(*) AS count FROM ${sql.table(table)}`.execute(database.db);
      counts[table] = Number(rows[0]!.count);
    }
    return counts;
  }

  async function storedVms() {
    return database.db
      .selectFrom('virtual_machines as vm')
      .leftJoin('information_systems as s', 's.id', 'vm.observed_system_id')
      .select([
        'vm.external_id',
        'vm.name',
        's.code',
        'vm.observed_cpu',
        'vm.observed_memory',
        'vm.observed_storage',
        'vm.status',
        'vm.missed_syncs',
      ])
      .where('vm.provider', '=', 'rvtools-dc1')
      .orderBy('vm.external_id')
      .execute();
  }

  function run(file: string, dryRun: boolean, now = beijing('2026-03-02T10:00:00')) {
    return importRvtoolsFile(database.db, settings, {
      file,
      sourceName: 'rvtools-dc1',
      dryRun,
      now,
      logger: silent,
    });
  }

  it('plans a first import without writing', async () => {
    const file = await writeWorkbook(path.join(folder, `first-${backend}.xlsx`), {
      vInfo: [
        HEADERS_4X,
        vm('lic-web', { memory: 8192, disk: 102400 }),
        vm('ops-db', { power: 'poweredOff', cpus: 4, memory: 3072, disk: 1536 }),
        vm('tmpl', { template: true }),
        [],
        vm('test-1', { cluster: 'TEST', memory: 1000, disk: 1000 }),
        vm('broken', { cpus: 'many' }),
      ],
    });
    const before = await tableCounts();
    const outcome = await run(file, true);
    const after = await tableCounts();

    expect(after).toEqual(before);
    expect(outcome.dry_run).toBe(true);
    if (!outcome.dry_run) return;
    expect(outcome.sheet).toEqual({
      rows: 6,
      templates_skipped: 1,
      blank_rows: 1,
      disk_column: 'Total disk capacity MiB',
    });
    expect(outcome.plan).toMatchObject({
      source: 'rvtools-dc1',
      provider: 'rvtools-dc1',
      records_read: 4,
      new_count: 3,
      changed_count: 0,
      unchanged: 0,
      not_seen_count: 0,
      becomes_missing: 0,
      rejected_count: 1,
    });
    expect(outcome.plan.new).toEqual([
      {
        external_id: 'uuid-lic-web',
        name: 'lic-web',
        system_code: 'LIC',
        cpu: 2,
        memory_gb: '8',
        storage_gb: '100',
        status: 'running',
        location: 'vInfo row 2',
      },
      {
        external_id: 'uuid-ops-db',
        name: 'ops-db',
        system_code: 'OPS',
        cpu: 4,
        memory_gb: '3',
        storage_gb: '1.5',
        status: 'stopped',
        location: 'vInfo row 3',
      },
      {
        external_id: 'uuid-test-1',
        name: 'test-1',
        system_code: null,
        cpu: 2,
        memory_gb: '0.9765625',
        storage_gb: '0.9765625',
        status: 'running',
        location: 'vInfo row 6',
      },
    ]);
    expect(outcome.plan.rejected).toEqual([
      {
        record_number: 4,
        location: 'vInfo row 7',
        external_id: 'uuid-broken',
        field: 'cpu',
        code: 'invalid_cpu',
        parameters: { value: 'many', max: 4096 },
        reason: 'invalid cpu "many": use a whole number of cores from 0 to 4096',
      },
    ]);
  });

  it('applies the import as one sync', async () => {
    const file = path.join(folder, `first-${backend}.xlsx`);
    const outcome = await run(file, false);

    expect(outcome.dry_run).toBe(false);
    if (outcome.dry_run) return;
    expect(outcome.result).toMatchObject({
      status: 'succeeded',
      records_read: 4,
      created: 3,
      updated: 0,
      unchanged: 0,
      rejected_count: 1,
      not_seen: 0,
      marked_missing: 0,
    });
    expect(outcome.result.rejected[0]).toMatchObject({ location: 'vInfo row 7', code: 'invalid_cpu' });
    expect(await storedVms()).toEqual([
      {
        external_id: 'uuid-lic-web',
        name: 'lic-web',
        code: 'LIC',
        observed_cpu: 2,
        observed_memory: '8',
        observed_storage: '100',
        status: 'running',
        missed_syncs: 0,
      },
      {
        external_id: 'uuid-ops-db',
        name: 'ops-db',
        code: 'OPS',
        observed_cpu: 4,
        observed_memory: '3',
        observed_storage: '1.5',
        status: 'stopped',
        missed_syncs: 0,
      },
      {
        external_id: 'uuid-test-1',
        name: 'test-1',
        code: null,
        observed_cpu: 2,
        observed_memory: '0.9765625',
        observed_storage: '0.9765625',
        status: 'running',
        missed_syncs: 0,
      },
    ]);
  });

  it('plans changes with old and new values', async () => {
    const file = await writeCsv(path.join(folder, `second-${backend}.csv`), [
      HEADERS_4X,
      vm('lic-web', { memory: 16384, disk: 102400, power: 'poweredOff' }),
      vm('test-1', { cluster: 'TEST', memory: 1000, disk: 1000 }),
    ]);
    const before = await tableCounts();
    const storedBefore = await storedVms();
    const outcome = await run(file, true);

    expect(await tableCounts()).toEqual(before);
    expect(await storedVms()).toEqual(storedBefore);
    if (!outcome.dry_run) throw new Error('expected a dry run');
    expect(outcome.plan).toMatchObject({
      new_count: 0,
      changed_count: 1,
      unchanged: 1,
      not_seen_count: 1,
      becomes_missing: 0,
    });
    expect(outcome.plan.changed).toEqual([
      {
        external_id: 'uuid-lic-web',
        name: 'lic-web',
        location: 'vInfo row 2',
        changes: { memory_gb: { before: '8', after: '16' }, status: { before: 'running', after: 'stopped' } },
      },
    ]);
    expect(outcome.plan.not_seen).toEqual([
      {
        external_id: 'uuid-ops-db',
        name: 'ops-db',
        status: 'stopped',
        missed_syncs: 1,
        becomes_missing: false,
      },
    ]);
  });

  it('marks VMs missing after repeated absence', async () => {
    const file = path.join(folder, `second-${backend}.csv`);
    const first = await run(file, false);
    if (first.dry_run) throw new Error('expected an import');
    expect(first.result).toMatchObject({ updated: 1, unchanged: 1, not_seen: 1, marked_missing: 0 });

    const plan = await run(file, true);
    if (!plan.dry_run) throw new Error('expected a dry run');
    expect(plan.plan.not_seen).toEqual([
      {
        external_id: 'uuid-ops-db',
        name: 'ops-db',
        status: 'stopped',
        missed_syncs: 2,
        becomes_missing: true,
      },
    ]);

    const second = await run(file, false);
    if (second.dry_run) throw new Error('expected an import');
    expect(second.result).toMatchObject({ updated: 0, unchanged: 2, not_seen: 1, marked_missing: 1 });
    expect((await storedVms()).find((row) => row.external_id === 'uuid-ops-db')?.status).toBe('missing');
  });

  it('leaves VMs unchanged when the file is bad', async () => {
    const file = await writeWorkbook(path.join(folder, `bad-${backend}.xlsx`), {
      vInfo: [
        ['VM', 'Powerstate'],
        ['x', 'poweredOn'],
      ],
    });
    const before = await storedVms();
    const outcome = await run(file, false);

    if (outcome.dry_run) throw new Error('expected an import');
    expect(outcome.result.status).toBe('failed');
    expect(outcome.result.error_code).toBe('rvtools_columns_missing');
    expect(await storedVms()).toEqual(before);
    await expect(run(file, true)).rejects.toThrow(DomainError);
  });

  it('rejects unknown and non-rvtools sources', async () => {
    const call = (sourceName: string) =>
      importRvtoolsFile(database.db, settings, {
        file: 'x.xlsx',
        sourceName,
        dryRun: true,
        now: new Date(),
        logger: silent,
      });

    await expect(call('nope')).rejects.toMatchObject({
      code: 'inventory_source_not_found',
      parameters: { name: 'nope' },
    });
    await expect(call('other')).rejects.toMatchObject({
      code: 'inventory_source_not_rvtools',
      parameters: { name: 'other', type: 'proxmox' },
    });
  });

  it('syncs a configured path with sync_vm_status', async () => {
    const file = await writeWorkbook(path.join(folder, `scheduled-${backend}.xlsx`), {
      vInfo: [HEADERS_4X, vm('sched-1', { memory: 2048, disk: 2048 })],
    });
    const withPath = await settingsWith([
      { name: 'rvtools-sched', type: 'rvtools', path: file },
      { name: 'rvtools-manual', type: 'rvtools' },
    ]);
    const sources = await buildInventorySources(withPath, { db: database.db });
    const result = await syncVmStatus(database.db, sources, {
      now: beijing('2026-03-03T10:00:00'),
      taskRunId: null,
      missingAfterSyncs: 2,
      logger: silent,
    });

    const byName = new Map(result.sources.map((source) => [source.source, source]));
    expect(byName.get('rvtools-sched')).toMatchObject({
      status: 'succeeded',
      created: 1,
      own_database: false,
    });
    expect(byName.get('rvtools-manual')).toMatchObject({
      status: 'succeeded',
      own_database: true,
      records_read: 0,
    });
    const stored = await database.db
      .selectFrom('virtual_machines')
      .select(['external_id', 'observed_memory', 'observed_storage'])
      .where('provider', '=', 'rvtools-sched')
      .execute();
    expect(stored).toEqual([{ external_id: 'uuid-sched-1', observed_memory: '2', observed_storage: '2' }]);
  });
});

describe('rvtools source config', () => {
  it('reports bad mapping rules by field', async () => {
    await expect(
      settingsWith([
        {
          name: 'rv',
          type: 'rvtools',
          mapping: [
            { name: '/[/', system_code: 'A' },
            { cluster: 'x', folder: 'y', system_code: 'B' },
          ],
        },
      ]),
    ).rejects.toThrow(
      /sources\[0\] \(rv\): mapping\.0\.name: invalid regular expression \/\[\/.*\n.*mapping\.1: a mapping rule needs exactly one of cluster, folder or name; got cluster, folder/,
    );
  });

  it('rejects a path with another extension', async () => {
    await expect(settingsWith([{ name: 'rv', type: 'rvtools', path: 'export.xls' }])).rejects.toThrow(
      /path: must end in \.xlsx, or in \.csv/,
    );
  });
});
