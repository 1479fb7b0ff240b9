import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { beijing, createSystem } from '../../test/support/fixtures.js';
import { DomainError } from '../errors.js';
import { syncVmStatus } from '../monitoring/sync-vm-status.js';
import { FileInventorySource, inventoryFileFormat } from './file-source.js';
import type { InventoryRecordInput } from './source.js';

const backends = await availableBackends();
const silent = pino({ level: 'silent' });

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'inventory-file-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function writeInventory(name: string, text: string): Promise<string> {
  const file = path.join(folder, name);
  await writeFile(file, text, 'utf8');
  return file;
}

async function readAll(source: FileInventorySource): Promise<InventoryRecordInput[][]> {
  const pages: InventoryRecordInput[][] = [];
  for await (const page of source.readPages()) pages.push(page);
  return pages;
}

/** Returns the DomainError that reading `source` throws. */
async function readError(source: FileInventorySource): Promise<DomainError> {
  try {
    await readAll(source);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`reading ${source.path} did not fail`);
}

const VM_A = {
  external_id: 'vm-a',
  name: 'web-01',
  system_code: 'OA',
  cpu: 4,
  memory_gb: 8,
  storage_gb: '100.5',
  power_status: 'running',
};

describe('file inventory source', () => {
  it('reads a top-level JSON list', async () => {
    const file = await writeInventory('list.json', JSON.stringify([VM_A]));

    const pages = await readAll(new FileInventorySource({ path: file, provider: 'file' }));

    expect(pages).toEqual([[VM_A]]);
  });

  it('reads a JSON object with a vms list', async () => {
    const file = await writeInventory(
      'object.json',
      JSON.stringify({ generated_at: '2026-07-01', vms: [VM_A] }),
    );

    const pages = await readAll(new FileInventorySource({ path: file, provider: 'file' }));

    expect(pages).toEqual([[VM_A]]);
  });

  it('reads YAML with .yaml and .yml extensions', async () => {
    const text = [
      'vms:',
      '  - external_id: "0012"',
      '    name: db-01',
      '    system_code: OA',
      '    cpu: 2',
      '    memory_gb: 3.5',
      '    storage_gb: "50"',
      '    power_status: stopped',
      '  - external_id: vm-b',
      '    name: spare',
      '    system_code:',
      '    cpu: 1',
      '    memory_gb: 1',
      '    storage_gb: 0',
      '    power_status: unknown',
      '',
    ].join('\n');
    const expected = [
      [
        {
          external_id: '0012',
          name: 'db-01',
          system_code: 'OA',
          cpu: 2,
          memory_gb: 3.5,
          storage_gb: '50',
          power_status: 'stopped',
        },
        {
          external_id: 'vm-b',
          name: 'spare',
          system_code: null,
          cpu: 1,
          memory_gb: 1,
          storage_gb: 0,
          power_status: 'unknown',
        },
      ],
    ];

    for (const name of ['inventory.yaml', 'inventory.yml']) {
      const file = await writeInventory(name, text);
      expect(await readAll(new FileInventorySource({ path: file, provider: 'file' })), name).toEqual(
        expected,
      );
    }
  });

  it('yields records in pages of pageSize', async () => {
    const records = Array.from({ length: 5 }, (_, index) => ({ ...VM_A, external_id: `vm-${index}` }));
    const file = await writeInventory('pages.json', JSON.stringify(records));

    const pages = await readAll(new FileInventorySource({ path: file, provider: 'file', pageSize: 2 }));

    expect(pages.map((page) => page.map((record) => record.external_id))).toEqual([
      ['vm-0', 'vm-1'],
      ['vm-2', 'vm-3'],
      ['vm-4'],
    ]);
  });

  it('reads the file again at each sync', async () => {
    const file = await writeInventory('changing.json', JSON.stringify([VM_A]));
    const source = new FileInventorySource({ path: file, provider: 'file' });
    expect(await readAll(source)).toEqual([[VM_A]]);

    await writeFile(file, JSON.stringify([]), 'utf8');

    expect(await readAll(source)).toEqual([]);
  });

  it('accepts a UTF-8 byte order mark', async () => {
    const file = await writeInventory('bom.json', `\uFEFF${JSON.stringify([VM_A])}`);

    expect(await readAll(new FileInventorySource({ path: file, provider: 'file' }))).toEqual([[VM_A]]);
  });

  it('names the file source after its path', async () => {
    const source = new FileInventorySource({ path: '/etc/cloud/inventory.yaml', provider: 'vmware' });

    expect(source.name).toBe('file:/etc/cloud/inventory.yaml');
    expect(source.provider).toBe('vmware');
    expect(source.ownDatabase).toBe(false);
  });

  it('rejects an unsupported extension at construction', () => {
    expect(inventoryFileFormat('a.JSON')).toBe('JSON');
    expect(inventoryFileFormat('a.Yml')).toBe('YAML');
    expect(() => new FileInventorySource({ path: '/tmp/inventory.csv', provider: 'file' })).toThrow(
      expect.objectContaining({
        code: 'inventory_file_extension',
        parameters: { file: '/tmp/inventory.csv' },
      }),
    );
  });

  it('throws when the file cannot be read', async () => {
    const file = path.join(folder, 'absent.json');

    const error = await readError(new FileInventorySource({ path: file, provider: 'file' }));

    expect(error.code).toBe('inventory_file_unreadable');
    expect(error.parameters.file).toBe(file);
    expect(error.parameters.error).toContain('ENOENT');
  });

  it('throws on invalid JSON', async () => {
    const file = await writeInventory('broken.json', '[{"external_id": "vm-a",');

    const error = await readError(new FileInventorySource({ path: file, provider: 'file' }));

    expect(error.code).toBe('inventory_file_invalid');
    expect(error.parameters.file).toBe(file);
    expect(error.parameters.format).toBe('JSON');
  });

  it('throws on invalid YAML', async () => {
    const file = await writeInventory('broken.yaml', 'vms:\n  - external_id: vm-a\n    name: [unclosed\n');

    const error = await readError(new FileInventorySource({ path: file, provider: 'file' }));

    expect(error.code).toBe('inventory_file_invalid');
    expect(error.parameters.format).toBe('YAML');
  });

  it('throws on a YAML mapping with a duplicate key', async () => {
    const file = await writeInventory('duplicate-key.yaml', 'vms: []\nvms: []\n');

    const error = await readError(new FileInventorySource({ path: file, provider: 'file' }));

    expect(error.code).toBe('inventory_file_invalid');
  });

  it('throws on content of the wrong shape', async () => {
    const cases = [
      ['empty.yaml', ''],
      ['comment-only.yaml', '# no records yet\n'],
      ['scalar.json', '42'],
      ['no-vms.json', '{"machines": []}'],
      ['vms-not-list.yaml', 'vms:\n  external_id: vm-a\n'],
    ] as const;

    for (const [name, text] of cases) {
      const file = await writeInventory(name, text);
      const error = await readError(new FileInventorySource({ path: file, provider: 'file' }));
      expect(error.code, name).toBe('inventory_file_shape');
    }
  });
});

describe.each(backends)('file inventory sync on %s', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function vmsOf(provider: string) {
    return database.db
      .selectFrom('virtual_machines')
      .select([
        'external_id',
        'name',
        'observed_system_id',
        'observed_cpu',
        'observed_memory',
        'observed_storage',
        'status',
      ])
      .where('provider', '=', provider)
      .orderBy('external_id')
      .execute();
  }

  it('syncs a JSON file and a YAML file', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-07-01T09:00:00'),
      runMode: '7x24',
    });
    const json = await writeInventory(
      `sync-${backend}.json`,
      JSON.stringify({
        vms: [
          { ...VM_A, system_code: system.code, memory_gb: '0.5' },
          { ...VM_A, external_id: 'vm-bad', cpu: -1 },
        ],
      }),
    );
    const yaml = await writeInventory(
      `sync-${backend}.yaml`,
      [
        `- external_id: vm-y`,
        `  name: yaml-01`,
        `  cpu: "8"`,
        `  memory_gb: 16`,
        `  storage_gb: 200.25`,
        `  power_status: Suspended`,
        '',
      ].join('\n'),
    );

    const result = await syncVmStatus(
      database.db,
      [
        new FileInventorySource({ path: json, provider: `json-${backend}` }),
        new FileInventorySource({ path: yaml, provider: `yaml-${backend}` }),
      ],
      { now: beijing('2026-07-01T10:00:00'), taskRunId: null, missingAfterSyncs: 3, logger: silent },
    );

    expect(result.totals).toEqual({
      sources: 2,
      sources_failed: 0,
      records_read: 3,
      created: 2,
      updated: 0,
      unchanged: 0,
      rejected: 1,
      not_seen: 0,
      marked_missing: 0,
    });
    expect(result.sources[0]?.rejected).toEqual([
      {
        record_number: 2,
        external_id: 'vm-bad',
        field: 'cpu',
        code: 'invalid_cpu',
        parameters: { value: '-1', max: 4096 },
        reason: 'invalid cpu "-1": use a whole number of cores from 0 to 4096',
      },
    ]);
    expect(await vmsOf(`json-${backend}`)).toEqual([
      {
        external_id: 'vm-a',
        name: 'web-01',
        observed_system_id: system.id,
        observed_cpu: 4,
        observed_memory: '0.5',
        observed_storage: '100.5',
        status: 'running',
      },
    ]);
    expect(await vmsOf(`yaml-${backend}`)).toEqual([
      {
        external_id: 'vm-y',
        name: 'yaml-01',
        observed_system_id: null,
        observed_cpu: 8,
        observed_memory: '16',
        observed_storage: '200.25',
        status: 'suspended',
      },
    ]);
  });

  it('rejects records with U+0000 by field', async () => {
    const json = await writeInventory(
      `nul-${backend}.json`,
      JSON.stringify(
        [
          { external_id: 'vm-nul-name', name: 'web\u0000' },
          { external_id: 'vm-nul\u0000' },
          { external_id: 'vm-nul-cpu', cpu: '4\u0000' },
          { external_id: 'vm-clean' },
        ].map((record) => ({ ...VM_A, system_code: null, ...record })),
      ),
    );

    const result = await syncVmStatus(
      database.db,
      [new FileInventorySource({ path: json, provider: `nul-${backend}` })],
      { now: beijing('2026-07-01T10:00:00'), taskRunId: null, missingAfterSyncs: 3, logger: silent },
    );

    expect(
      result.sources[0]?.rejected.map(({ external_id, field, code }) => [external_id, field, code]),
    ).toEqual([
      ['vm-nul-name', 'name', 'text_has_nul'],
      [null, 'external_id', 'text_has_nul'],
      ['vm-nul-cpu', 'cpu', 'invalid_cpu'],
    ]);
    expect(result.sources[0]?.rejected[2]?.reason).toBe(
      'invalid cpu "4\\u0000": use a whole number of cores from 0 to 4096',
    );
    expect((await vmsOf(`nul-${backend}`)).map((vm) => vm.external_id)).toEqual(['vm-clean']);
  });

  it('fails the source on an unreadable file and keeps its VMs', async () => {
    const provider = `gone-${backend}`;
    const file = await writeInventory(
      `gone-${backend}.json`,
      JSON.stringify([{ ...VM_A, system_code: null }]),
    );
    const source = new FileInventorySource({ path: file, provider });
    const options = { taskRunId: null, missingAfterSyncs: 1, logger: silent };
    const first = await syncVmStatus(database.db, [source], {
      ...options,
      now: beijing('2026-07-01T10:00:00'),
    });
    expect(first.totals.created).toBe(1);
    await rm(file);

    const result = await syncVmStatus(database.db, [source], {
      ...options,
      now: beijing('2026-07-01T10:05:00'),
    });

    expect(result.sources[0]?.status).toBe('failed');
    expect(result.sources[0]?.error_code).toBe('inventory_file_unreadable');
    expect(result.sources[0]?.error).toContain(`cannot read inventory file ${file}: ENOENT`);
    expect(result.sources[0]?.marked_missing).toBe(0);
    expect((await vmsOf(provider)).map((vm) => vm.status)).toEqual(['running']);
  });
});
