import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { beijing, createSystem, ZONE } from '../../test/support/fixtures.js';
import { LocalInventorySource } from '../inventory/local-source.js';
import type { InventoryRecordInput, InventorySource } from '../inventory/source.js';
import { decommissionSystem } from '../inventory/systems.js';
import { detectResourceChanges } from './detect-resource-changes.js';
import { MAX_LOGGED_REJECTIONS, MAX_REPORTED_REJECTIONS, syncVmStatus } from './sync-vm-status.js';

const backends = await availableBackends();
const silent = pino({ level: 'silent' });

/** An in-memory source that yields the given pages, then throws `failure` if one is given. */
class PagesSource implements InventorySource {
  readonly ownDatabase = false;
  readonly name: string;

  constructor(
    readonly provider: string,
    private readonly pages: unknown[][],
    private readonly failure?: Error,
  ) {
    this.name = `test:${provider}`;
  }

  async *readPages(): AsyncGenerator<InventoryRecordInput[]> {
    for (const page of this.pages) yield page as InventoryRecordInput[];
    if (this.failure) throw this.failure;
  }
}

/** Returns a valid record for `externalId`; `overrides` replace or (with undefined) remove fields. */
function record(externalId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    external_id: externalId,
    name: `name of ${externalId}`,
    system_code: null,
    cpu: 2,
    memory_gb: '4',
    storage_gb: '50',
    power_status: 'running',
    ...overrides,
  };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete base[key];
  return base;
}

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe.each(backends)('sync_vm_status on %s', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });

  afterAll(async () => {
    await database?.drop();
  });

  function sync(
    sources: InventorySource[],
    now: Date,
    overrides: { taskRunId?: string; missingAfterSyncs?: number } = {},
  ) {
    return syncVmStatus(database.db, sources, {
      now,
      taskRunId: overrides.taskRunId ?? null,
      missingAfterSyncs: overrides.missingAfterSyncs ?? 3,
      logger: silent,
    });
  }

  async function vmsOf(provider: string) {
    return database.db
      .selectFrom('virtual_machines')
      .selectAll()
      .where('provider', '=', provider)
      .orderBy('external_id')
      .execute();
  }

  async function vm(provider: string, externalId: string) {
    return database.db
      .selectFrom('virtual_machines')
      .selectAll()
      .where('provider', '=', provider)
      .where('external_id', '=', externalId)
      .executeTakeFirstOrThrow();
  }

  it('creates VMs, then counts updated and unchanged ones', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-07-01T09:00:00'),
      runMode: '7x24',
    });
    const first = beijing('2026-07-01T10:00:00');
    const second = beijing('2026-07-01T10:05:00');

    const created = await sync(
      [
        new PagesSource('basic', [
          [
            record('vm-1', { system_code: system.code, cpu: 2, memory_gb: 4, storage_gb: '50.25' }),
            record('vm-2', { cpu: '1', memory_gb: '0.5', storage_gb: 10, power_status: 'stopped' }),
          ],
        ]),
      ],
      first,
      { taskRunId: '101' },
    );

    expect(created).toEqual({
      synced_at: '2026-07-01T02:00:00.000Z',
      missing_after_syncs: 3,
      sources: [
        {
          source: 'test:basic',
          provider: 'basic',
          own_database: false,
          status: 'succeeded',
          records_read: 2,
          created: 2,
          updated: 0,
          unchanged: 0,
          rejected_count: 0,
          rejected: [],
          not_seen: 0,
          marked_missing: 0,
        },
      ],
      totals: {
        sources: 1,
        sources_failed: 0,
        records_read: 2,
        created: 2,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        not_seen: 0,
        marked_missing: 0,
      },
    });
    expect(await vm('basic', 'vm-1')).toMatchObject({
      name: 'name of vm-1',
      information_system_id: null,
      observed_system_id: system.id,
      observed_cpu: 2,
      observed_memory: '4',
      observed_storage: '50.25',
      recorded_cpu: 0,
      recorded_memory: '0',
      recorded_storage: '0',
      status: 'running',
      missed_syncs: 0,
      last_seen_task_run_id: '101',
      last_synced_at: first,
      created_at: first,
      updated_at: first,
    });
    expect(await vm('basic', 'vm-2')).toMatchObject({
      observed_system_id: null,
      observed_cpu: 1,
      observed_memory: '0.5',
      observed_storage: '10',
      status: 'stopped',
    });

    const updated = await sync(
      [
        new PagesSource('basic', [
          [
            record('vm-1', { system_code: system.code, cpu: 4, memory_gb: 4, storage_gb: '50.25' }),
            record('vm-2', { cpu: '1', memory_gb: '0.500', storage_gb: 10, power_status: 'stopped' }),
          ],
        ]),
      ],
      second,
      { taskRunId: '102' },
    );

    expect(updated.sources[0]).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(await vm('basic', 'vm-1')).toMatchObject({
      observed_cpu: 4,
      last_seen_task_run_id: '102',
      last_synced_at: second,
      created_at: first,
      updated_at: second,
    });
    expect(await vm('basic', 'vm-2')).toMatchObject({
      observed_memory: '0.5',
      last_seen_task_run_id: '102',
      last_synced_at: second,
      updated_at: first,
    });
  });

  it('upserts every page of a multi-page source', async () => {
    const pages = [[record('p-1'), record('p-2')], [record('p-3'), record('p-4')], [record('p-5')]];

    const result = await sync([new PagesSource('paged', pages)], beijing('2026-07-01T10:00:00'));

    expect(result.sources[0]).toMatchObject({ records_read: 5, created: 5 });
    expect((await vmsOf('paged')).map((row) => row.external_id)).toEqual(['p-1', 'p-2', 'p-3', 'p-4', 'p-5']);
  });

  it('rejects each kind of bad record and applies the good ones', async () => {
    const at = beijing('2026-07-01T09:00:00');
    const { system } = await createSystem(database.db, { at, runMode: '7x24' });
    const { system: retired } = await createSystem(database.db, { at, runMode: '5x8' });
    await decommissionSystem(
      database.db,
      { code: retired.code },
      { timezone: ZONE, now: beijing('2026-07-01T09:30:00') },
    );

    const result = await sync(
      [
        new PagesSource('bad', [
          [
            record('vm-ok', { system_code: system.code, cpu: 8 }),
            record('ignored', { external_id: undefined }),
            record('ignored', { external_id: 12 }),
            record('vm-no-name', { name: undefined }),
            record('vm-no-cpu', { cpu: null }),
            record('vm-half-cpu', { cpu: 2.5 }),
            record('vm-negative', { memory_gb: -1 }),
          ],
          [
            record('vm-text', { storage_gb: 'lots' }),
            record('vm-power', { power_status: 'on' }),
            record('vm-bad-code', { system_code: 'bad code!' }),
            record('vm-unknown-system', { system_code: 'NO-SUCH-SYSTEM' }),
            record('vm-retired', { system_code: retired.code }),
            'not a record',
            record('vm-ok', { cpu: 1 }),
          ],
        ]),
      ],
      beijing('2026-07-01T10:00:00'),
    );

    expect(result.sources[0]).toMatchObject({
      status: 'succeeded',
      records_read: 14,
      created: 1,
      rejected_count: 13,
    });
    expect(result.sources[0]?.rejected).toEqual([
      {
        record_number: 2,
        external_id: null,
        field: 'external_id',
        code: 'inventory_field_missing',
        parameters: { field: 'external_id' },
        reason: 'missing required field external_id',
      },
      {
        record_number: 3,
        external_id: null,
        field: 'external_id',
        code: 'inventory_field_not_text',
        parameters: { field: 'external_id', value: '12' },
        reason: 'external_id 12 is not a string; quote numeric values in YAML, e.g. "0012"',
      },
      {
        record_number: 4,
        external_id: 'vm-no-name',
        field: 'name',
        code: 'inventory_field_missing',
        parameters: { field: 'name' },
        reason: 'missing required field name',
      },
      {
        record_number: 5,
        external_id: 'vm-no-cpu',
        field: 'cpu',
        code: 'inventory_field_missing',
        parameters: { field: 'cpu' },
        reason: 'missing required field cpu',
      },
      {
        record_number: 6,
        external_id: 'vm-half-cpu',
        field: 'cpu',
        code: 'invalid_cpu',
        parameters: { value: '2.5', max: 4096 },
        reason: 'invalid cpu "2.5": use a whole number of cores from 0 to 4096',
      },
      {
        record_number: 7,
        external_id: 'vm-negative',
        field: 'memory_gb',
        code: 'invalid_size',
        parameters: { field: 'memory_gb', value: '-1', max: 1048576, decimals: 30 },
        reason: 'invalid memory_gb "-1": use a number of GB from 0 to 1048576 with up to 30 decimals',
      },
      {
        record_number: 8,
        external_id: 'vm-text',
        field: 'storage_gb',
        code: 'invalid_size',
        parameters: { field: 'storage_gb', value: 'lots', max: 1048576, decimals: 30 },
        reason: 'invalid storage_gb "lots": use a number of GB from 0 to 1048576 with up to 30 decimals',
      },
      {
        record_number: 9,
        external_id: 'vm-power',
        field: 'power_status',
        code: 'invalid_power_status',
        parameters: { value: 'on' },
        reason: 'invalid power_status "on": use running, stopped, suspended, error, deleted or unknown',
      },
      {
        record_number: 10,
        external_id: 'vm-bad-code',
        field: 'system_code',
        code: 'invalid_code',
        parameters: { field: 'system_code', value: 'bad code!' },
        reason:
          'invalid system_code "bad code!": use 1 to 64 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
      },
      {
        record_number: 11,
        external_id: 'vm-unknown-system',
        field: 'system_code',
        code: 'system_not_found',
        parameters: { code: 'NO-SUCH-SYSTEM' },
        reason:
          'information system "NO-SUCH-SYSTEM" not found; `cloud-platform system list` shows the existing systems',
      },
      {
        record_number: 12,
        external_id: 'vm-retired',
        field: 'system_code',
        code: 'inventory_system_decommissioned',
        parameters: { code: retired.code, at: '2026-07-01T01:30:00.000Z' },
        reason:
          `information system "${retired.code}" was decommissioned at 2026-07-01T01:30:00.000Z and cannot take VMs; ` +
          'use an active system or leave system_code empty',
      },
      {
        record_number: 13,
        external_id: null,
        field: null,
        code: 'inventory_record_not_object',
        parameters: {},
        reason:
          'invalid record: each record must be an object with external_id, name, cpu and the other fields',
      },
      {
        record_number: 14,
        external_id: 'vm-ok',
        field: 'external_id',
        code: 'duplicate_external_id',
        parameters: { external_id: 'vm-ok', first: 1 },
        reason:
          'external id "vm-ok" appears more than once in this sync: record 1 was used and this one is rejected',
      },
    ]);

    const rows = await vmsOf('bad');
    expect(rows.map((row) => row.external_id)).toEqual(['vm-ok']);
    expect(rows[0]).toMatchObject({ observed_system_id: system.id, observed_cpu: 8 });
  });

  it('counts a rejected record with a readable id as seen', async () => {
    await sync(
      [new PagesSource('kept', [[record('vm-kept', { memory_gb: '4' })]])],
      beijing('2026-07-01T10:00:00'),
    );

    const result = await sync(
      [new PagesSource('kept', [[record('vm-kept', { memory_gb: 'four' })]])],
      beijing('2026-07-01T10:05:00'),
      { missingAfterSyncs: 1 },
    );

    expect(result.sources[0]).toMatchObject({ rejected_count: 1, not_seen: 0, marked_missing: 0 });
    expect(await vm('kept', 'vm-kept')).toMatchObject({
      observed_memory: '4',
      status: 'running',
      missed_syncs: 0,
      last_synced_at: beijing('2026-07-01T10:00:00'),
    });
  });

  it('marks a VM missing only at the threshold', async () => {
    const everyone = [
      record('vm-stays'),
      record('vm-leaves'),
      record('vm-deleted', { power_status: 'deleted' }),
    ];
    await sync([new PagesSource('gone', [everyone])], beijing('2026-07-01T10:00:00'));
    await sync([new PagesSource('bystander', [[record('vm-other')]])], beijing('2026-07-01T10:00:00'));

    const expected = [
      { missed: 1, status: 'running', marked: 0 },
      { missed: 2, status: 'running', marked: 0 },
      { missed: 3, status: 'missing', marked: 1 },
      { missed: 4, status: 'missing', marked: 0 },
    ];
    for (const [index, step] of expected.entries()) {
      const now = new Date(beijing('2026-07-01T10:05:00').getTime() + index * 300_000);
      const result = await sync([new PagesSource('gone', [[record('vm-stays')]])], now, {
        missingAfterSyncs: 3,
      });

      const absent = `after ${index + 1} sync(s) without vm-leaves`;
      expect(result.sources[0]?.not_seen, absent).toBe(1);
      expect(result.sources[0]?.marked_missing, absent).toBe(step.marked);
      const leaves = await vm('gone', 'vm-leaves');
      expect(leaves.missed_syncs, absent).toBe(step.missed);
      expect(leaves.status, absent).toBe(step.status);
      expect(await vm('gone', 'vm-deleted'), absent).toMatchObject({ status: 'deleted', missed_syncs: 0 });
      expect(await vm('gone', 'vm-stays'), absent).toMatchObject({ status: 'running', missed_syncs: 0 });
    }
    expect(await vm('bystander', 'vm-other')).toMatchObject({ status: 'running', missed_syncs: 0 });

    const back = await sync(
      [new PagesSource('gone', [[record('vm-stays'), record('vm-leaves', { power_status: 'stopped' })]])],
      beijing('2026-07-01T11:00:00'),
    );

    expect(back.sources[0]).toMatchObject({ updated: 1, unchanged: 1, not_seen: 0, marked_missing: 0 });
    expect(await vm('gone', 'vm-leaves')).toMatchObject({ status: 'stopped', missed_syncs: 0 });
  });

  it('leaves every VM of a failing source as it was', async () => {
    await sync(
      [new PagesSource('flaky', [[record('vm-a'), record('vm-b')], [record('vm-c')]])],
      beijing('2026-07-01T10:00:00'),
      { taskRunId: '201' },
    );
    const before = await vmsOf('flaky');

    const result = await sync(
      [
        new PagesSource(
          'flaky',
          [[record('vm-a', { cpu: 16 }), record('vm-b', { power_status: 'error' }), record('vm-new')]],
          new Error('platform API timed out after 30 s'),
        ),
        new PagesSource('steady', [[record('vm-s')]]),
      ],
      beijing('2026-07-01T10:05:00'),
      { taskRunId: '202', missingAfterSyncs: 1 },
    );

    expect(result.sources[0]).toEqual({
      source: 'test:flaky',
      provider: 'flaky',
      own_database: false,
      status: 'failed',
      records_read: 3,
      created: 0,
      updated: 0,
      unchanged: 0,
      rejected_count: 0,
      rejected: [],
      not_seen: 0,
      marked_missing: 0,
      error: 'platform API timed out after 30 s',
    });
    expect(result.sources[1]).toMatchObject({ status: 'succeeded', created: 1 });
    expect(result.totals).toMatchObject({ sources: 2, sources_failed: 1, created: 1, marked_missing: 0 });
    expect(await vmsOf('flaky')).toEqual(before);
    expect((await vmsOf('steady')).map((row) => row.external_id)).toEqual(['vm-s']);
  });

  it('skips the own database and rejects a taken provider', async () => {
    const { vmExternalId } = await createSystem(database.db, {
      at: beijing('2026-07-01T09:00:00'),
      runMode: '7x24',
      cpu: 2,
    });
    const localBefore = await vm('local', vmExternalId!);

    const result = await sync(
      [
        new LocalInventorySource(),
        new PagesSource('local', [[record(vmExternalId!, { cpu: 64 })]]),
        new PagesSource('shared', [[record('vm-first')]]),
        new PagesSource('shared', [[record('vm-second')]]),
      ],
      beijing('2026-07-01T10:00:00'),
      { missingAfterSyncs: 1 },
    );

    expect(
      result.sources.map(({ source, status, own_database, records_read, error_code }) => ({
        source,
        status,
        own_database,
        records_read,
        error_code,
      })),
    ).toEqual([
      { source: 'local', status: 'succeeded', own_database: true, records_read: 0, error_code: undefined },
      {
        source: 'test:local',
        status: 'failed',
        own_database: false,
        records_read: 0,
        error_code: 'inventory_provider_conflict',
      },
      {
        source: 'test:shared',
        status: 'succeeded',
        own_database: false,
        records_read: 1,
        error_code: undefined,
      },
      {
        source: 'test:shared',
        status: 'failed',
        own_database: false,
        records_read: 0,
        error_code: 'inventory_provider_conflict',
      },
    ]);
    expect(result.sources[1]?.error).toBe(
      'provider "local" of inventory source test:local is already used by local; give each source its own provider',
    );
    expect(await vm('local', vmExternalId!)).toEqual(localBefore);
    expect((await vmsOf('shared')).map((row) => row.external_id)).toEqual(['vm-first']);
  });

  it('logs the first rejections one by one and counts the rest', async () => {
    const { logger, lines } = capturingLogger();
    const bad = Array.from({ length: MAX_REPORTED_REJECTIONS + 5 }, (_, index) =>
      record(`vm-${index}`, { cpu: 'many' }),
    );

    const result = await syncVmStatus(database.db, [new PagesSource('noisy', [bad])], {
      now: beijing('2026-07-01T10:00:00'),
      taskRunId: null,
      missingAfterSyncs: 3,
      logger,
    });

    expect(result.sources[0]?.rejected_count).toBe(1005);
    expect(result.sources[0]?.rejected).toHaveLength(1000);
    expect(result.sources[0]?.rejected.at(-1)?.external_id).toBe('vm-999');
    const rejectedLines = lines.filter((line) => line.msg === 'inventory record rejected');
    expect(rejectedLines).toHaveLength(MAX_LOGGED_REJECTIONS);
    expect(rejectedLines[0]).toMatchObject({
      level: 40,
      source: 'test:noisy',
      external_id: 'vm-0',
      code: 'invalid_cpu',
    });
    const summary = lines.filter((line) => String(line.msg).startsWith('more inventory records rejected'));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ level: 40, rejected: 1005, not_logged: 985 });
  });

  it('never changes the billing baseline', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-07-01T09:00:00'),
      runMode: '7x24',
    });
    const first = [
      record('vm-billed', { system_code: system.code, cpu: 2, memory_gb: '4', storage_gb: '50' }),
    ];
    await sync([new PagesSource('baseline', [first])], beijing('2026-07-01T10:00:00'));
    await detectResourceChanges(database.db, { timezone: ZONE, now: beijing('2026-07-01T10:30:00') });
    const logCount = async () =>
      (
        await database.db
          .selectFrom('resource_adjustment_logs')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .executeTakeFirstOrThrow()
      ).count;
    const logsBefore = await logCount();

    await sync(
      [new PagesSource('baseline', [[record('vm-billed', { cpu: 32, memory_gb: '64', storage_gb: '500' })]])],
      beijing('2026-07-01T11:00:00'),
    );

    expect(await vm('baseline', 'vm-billed')).toMatchObject({
      information_system_id: system.id,
      recorded_cpu: 2,
      recorded_memory: '4',
      recorded_storage: '50',
      observed_system_id: null,
      observed_cpu: 32,
    });
    const totals = await database.db
      .selectFrom('information_systems')
      .select(['total_cpu', 'total_memory', 'total_storage'])
      .where('id', '=', system.id)
      .executeTakeFirstOrThrow();
    expect(totals).toEqual({ total_cpu: 2, total_memory: '4', total_storage: '50' });
    expect(await logCount()).toBe(logsBefore);
  });
});

describe.each(backends)('detect_resource_changes after sync on %s', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });

  afterAll(async () => {
    await database?.drop();
  });

  function sync(provider: string, records: unknown[], now: Date) {
    return syncVmStatus(database.db, [new PagesSource(provider, [records])], {
      now,
      taskRunId: null,
      missingAfterSyncs: 3,
      logger: silent,
    });
  }

  function detect(now: Date) {
    return detectResourceChanges(database.db, { timezone: ZONE, now });
  }

  /** Returns the logs detected at `detectedAt` as compact rows: sizes are [cpu, memory, storage]. */
  async function logsAt(detectedAt: Date, systemNames: Map<number, string>) {
    const logs = await database.db
      .selectFrom('resource_adjustment_logs as log')
      .innerJoin('virtual_machines as vm', 'vm.id', 'log.virtual_machine_id')
      .selectAll('log')
      .select('vm.external_id')
      .where('log.detected_at', '=', detectedAt)
      .orderBy('log.information_system_id')
      .orderBy('log.virtual_machine_id')
      .execute();
    return logs.map((log) => ({
      system: systemNames.get(log.information_system_id),
      vm: log.external_id,
      change: log.change_type,
      before: log.cpu_before === null ? null : [log.cpu_before, log.memory_before, log.storage_before],
      after: log.cpu_after === null ? null : [log.cpu_after, log.memory_after, log.storage_after],
      totals_before: [log.total_cpu_before, log.total_memory_before, log.total_storage_before],
      totals_after: [log.total_cpu_after, log.total_memory_after, log.total_storage_after],
      effective_date: log.effective_date,
    }));
  }

  async function totalsOf(systemId: number) {
    const system = await database.db
      .selectFrom('information_systems')
      .select(['total_cpu', 'total_memory', 'total_storage'])
      .where('id', '=', systemId)
      .executeTakeFirstOrThrow();
    return [system.total_cpu, system.total_memory, system.total_storage];
  }

  it('logs added, resized, reassigned and deleted VMs once each', async () => {
    const created = beijing('2026-07-01T09:00:00');
    const { system: a } = await createSystem(database.db, { at: created, runMode: '7x24' });
    const { system: b } = await createSystem(database.db, { at: created, runMode: '5x8' });
    const names = new Map([
      [a.id, 'A'],
      [b.id, 'B'],
    ]);

    await sync(
      'changes',
      [
        record('vm-1', { system_code: a.code, cpu: 2, memory_gb: '4', storage_gb: '50' }),
        record('vm-2', { system_code: a.code, cpu: 4, memory_gb: '8', storage_gb: '100' }),
        record('vm-3', { system_code: b.code, cpu: 1, memory_gb: '2.5', storage_gb: '20' }),
        record('vm-4', { cpu: 8, memory_gb: '16', storage_gb: '0' }),
      ],
      beijing('2026-07-01T10:00:00'),
    );
    const firstDetection = beijing('2026-07-01T10:30:00');
    const added = await detect(firstDetection);

    expect(added).toMatchObject({ changes: 3, by_type: { vm_added: 3 }, effective_date: '2026-07-02' });
    expect(await logsAt(firstDetection, names)).toEqual([
      {
        system: 'A',
        vm: 'vm-1',
        change: 'vm_added',
        before: null,
        after: [2, '4', '50'],
        totals_before: [0, '0', '0'],
        totals_after: [2, '4', '50'],
        effective_date: '2026-07-02',
      },
      {
        system: 'A',
        vm: 'vm-2',
        change: 'vm_added',
        before: null,
        after: [4, '8', '100'],
        totals_before: [2, '4', '50'],
        totals_after: [6, '12', '150'],
        effective_date: '2026-07-02',
      },
      {
        system: 'B',
        vm: 'vm-3',
        change: 'vm_added',
        before: null,
        after: [1, '2.5', '20'],
        totals_before: [0, '0', '0'],
        totals_after: [1, '2.5', '20'],
        effective_date: '2026-07-02',
      },
    ]);
    expect((await detect(beijing('2026-07-01T10:40:00'))).changes).toBe(0);

    await sync(
      'changes',
      [
        record('vm-1', { system_code: a.code, cpu: 4, memory_gb: '8', storage_gb: '50' }),
        record('vm-2', { system_code: b.code, cpu: 4, memory_gb: '8', storage_gb: '100' }),
        record('vm-3', {
          system_code: b.code,
          cpu: 1,
          memory_gb: '2.5',
          storage_gb: '20',
          power_status: 'deleted',
        }),
        record('vm-4', { cpu: 8, memory_gb: '16', storage_gb: '0' }),
      ],
      beijing('2026-07-02T10:00:00'),
    );
    const secondDetection = beijing('2026-07-02T10:30:00');
    const changed = await detect(secondDetection);

    expect(changed).toMatchObject({
      changes: 4,
      by_type: { vm_resized: 1, vm_reassigned: 2, vm_removed: 1 },
      vms_changed: 3,
      systems_changed: 2,
      effective_date: '2026-07-03',
    });
    expect(await logsAt(secondDetection, names)).toEqual([
      {
        system: 'A',
        vm: 'vm-1',
        change: 'vm_resized',
        before: [2, '4', '50'],
        after: [4, '8', '50'],
        totals_before: [6, '12', '150'],
        totals_after: [8, '16', '150'],
        effective_date: '2026-07-03',
      },
      {
        system: 'A',
        vm: 'vm-2',
        change: 'vm_reassigned',
        before: [4, '8', '100'],
        after: [4, '8', '100'],
        totals_before: [8, '16', '150'],
        totals_after: [4, '8', '50'],
        effective_date: '2026-07-03',
      },
      {
        system: 'B',
        vm: 'vm-2',
        change: 'vm_reassigned',
        before: [4, '8', '100'],
        after: [4, '8', '100'],
        totals_before: [1, '2.5', '20'],
        totals_after: [5, '10.5', '120'],
        effective_date: '2026-07-03',
      },
      {
        system: 'B',
        vm: 'vm-3',
        change: 'vm_removed',
        before: [1, '2.5', '20'],
        after: null,
        totals_before: [5, '10.5', '120'],
        totals_after: [4, '8', '100'],
        effective_date: '2026-07-03',
      },
    ]);
    expect(await totalsOf(a.id)).toEqual([4, '8', '50']);
    expect(await totalsOf(b.id)).toEqual([4, '8', '100']);

    const again = beijing('2026-07-02T10:40:00');
    expect((await detect(again)).changes).toBe(0);
    expect(await logsAt(again, names)).toEqual([]);
  });

  it('makes detection wait until a running sync commits', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-07-05T09:00:00'),
      runMode: '7x24',
    });
    let releaseSource!: () => void;
    const sourceReleased = new Promise<void>((resolve) => (releaseSource = resolve));
    let signalFirstPage!: () => void;
    const firstPageApplied = new Promise<void>((resolve) => (signalFirstPage = resolve));
    const gated: InventorySource = {
      name: 'test:gated',
      provider: 'gated',
      ownDatabase: false,
      async *readPages() {
        yield [record('vm-g1', { system_code: system.code, cpu: 1, memory_gb: '1', storage_gb: '1' })];
        // The sync requests the next page only after it has upserted the first.
        signalFirstPage();
        await sourceReleased;
        yield [record('vm-g2', { system_code: system.code, cpu: 2, memory_gb: '2', storage_gb: '2' })];
      },
    };

    const syncing = syncVmStatus(database.db, [gated], {
      now: beijing('2026-07-05T10:00:00'),
      taskRunId: null,
      missingAfterSyncs: 3,
      logger: silent,
    });
    await firstPageApplied;
    let detectionDone = false;
    const detecting = detect(beijing('2026-07-05T10:00:01')).then((result) => {
      detectionDone = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(detectionDone).toBe(false);
    releaseSource();
    expect((await syncing).sources[0]).toMatchObject({ status: 'succeeded', created: 2 });
    expect((await detecting).by_type).toEqual({ vm_added: 2 });
    expect(await totalsOf(system.id)).toEqual([3, '3', '3']);
  });

  it('logs a missing VM removed at the threshold and added on return', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-07-01T09:00:00'),
      runMode: '7x24',
    });
    const names = new Map([[system.id, 'S']]);
    const wanderer = record('vm-wanderer', {
      system_code: system.code,
      cpu: 4,
      memory_gb: '8',
      storage_gb: '50',
    });
    const anchor = record('vm-anchor', {
      system_code: system.code,
      cpu: 1,
      memory_gb: '1',
      storage_gb: '10',
    });

    await sync('missing', [anchor, wanderer], beijing('2026-07-03T09:00:00'));
    await detect(beijing('2026-07-03T09:30:00'));
    expect(await totalsOf(system.id)).toEqual([5, '9', '60']);

    await sync('missing', [anchor], beijing('2026-07-03T10:00:00'));
    await sync('missing', [anchor], beijing('2026-07-03T10:05:00'));
    const beforeThreshold = beijing('2026-07-03T10:07:00');

    expect((await detect(beforeThreshold)).changes).toBe(0);
    expect(await totalsOf(system.id)).toEqual([5, '9', '60']);

    const third = await sync('missing', [anchor], beijing('2026-07-03T10:10:00'));
    expect(third.sources[0]?.marked_missing).toBe(1);
    const removal = beijing('2026-07-03T10:30:00');
    const removed = await detect(removal);

    expect(removed).toMatchObject({ changes: 1, by_type: { vm_removed: 1 } });
    expect(await logsAt(removal, names)).toEqual([
      {
        system: 'S',
        vm: 'vm-wanderer',
        change: 'vm_removed',
        before: [4, '8', '50'],
        after: null,
        totals_before: [5, '9', '60'],
        totals_after: [1, '1', '10'],
        effective_date: '2026-07-04',
      },
    ]);
    expect((await detect(beijing('2026-07-03T10:40:00'))).changes).toBe(0);

    await sync('missing', [anchor, wanderer], beijing('2026-07-04T10:00:00'));
    const comeback = beijing('2026-07-04T10:30:00');

    expect((await detect(comeback)).by_type).toEqual({ vm_added: 1 });
    expect(await logsAt(comeback, names)).toEqual([
      {
        system: 'S',
        vm: 'vm-wanderer',
        change: 'vm_added',
        before: null,
        after: [4, '8', '50'],
        totals_before: [1, '1', '10'],
        totals_after: [5, '9', '60'],
        effective_date: '2026-07-05',
      },
    ]);
  });
});
