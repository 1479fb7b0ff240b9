import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  HEADERS_3X,
  HEADERS_4X,
  temporaryFolder,
  writeCsv,
  writeWorkbook,
  type Cell,
} from '../../../../test/support/rvtools-files.js';
import { DomainError } from '../../../errors.js';
import { translate } from '../../../i18n/messages.js';
import { RejectedSourceRecord, type InventoryPageItem } from '../../source.js';
import type { MappingRuleConfig } from '../mapping.js';
import { normalizeHeader } from './columns.js';
import { RvtoolsInventorySource } from './rvtools-source.js';

let folder: string;
let remove: () => Promise<void>;

beforeAll(async () => {
  ({ folder, remove } = await temporaryFolder());
});

afterAll(async () => {
  await remove();
});

async function readAll(file: string, mapping: MappingRuleConfig[] = [], pageSize?: number) {
  const source = new RvtoolsInventorySource({ name: 'rvtools-dc1', path: file, mapping, pageSize });
  const pages: InventoryPageItem[][] = [];
  for await (const page of source.readPages()) pages.push(page);
  return { source, pages, items: pages.flat() };
}

async function readError(file: string): Promise<DomainError> {
  const error = await readAll(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

/** Builds a 4.x row from name, power state, template, cpus, memory MiB, total disk MiB, provisioned MiB, cluster, folder, uuid. */
function row4x(
  name: string,
  power: string,
  template: Cell,
  cpus: Cell,
  memory: Cell,
  totalDisk: Cell,
  provisioned: Cell,
  cluster: string,
  folderPath: string,
  uuid: string,
): Cell[] {
  return [
    name,
    power,
    template,
    cpus,
    memory,
    totalDisk,
    provisioned,
    1,
    'DC1',
    cluster,
    'esx01',
    folderPath,
    'vm-1',
    uuid,
    'sdk-1',
  ];
}

const ROWS_4X: Cell[][] = [
  HEADERS_4X,
  row4x('web-01', 'poweredOn', false, 4, 8192, 102400, 110000, 'PROD', 'DC1/vm/licensing', '4211-aaaa'),
  row4x('db-01', 'poweredOff', 'False', 2, 4100, 51200.5, 60000, 'PROD', 'DC1/vm/licensing', '4211-bbbb'),
  [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
  row4x('tmpl-centos', 'poweredOff', true, 2, 2048, 40960, 40960, 'PROD', 'DC1/vm/templates', '4211-cccc'),
  row4x('batch-01', 'suspended', 'FALSE', 1, 1, 1, 2, 'TEST', 'DC1/vm/other', '4211-dddd'),
];

describe('RVTools vInfo import', () => {
  it('reads the 4.x XLSX spelling exactly', async () => {
    const file = await writeWorkbook(path.join(folder, 'export-4x.xlsx'), {
      vHealth: [
        ['Name', 'Message'],
        ['x', 'y'],
      ],
      vInfo: ROWS_4X,
      vCPU: [['VM', 'CPUs']],
    });
    const { source, items } = await readAll(file);

    expect(items).toEqual([
      {
        external_id: '4211-aaaa',
        name: 'web-01',
        system_code: null,
        cpu: '4',
        memory_gb: '8',
        storage_gb: '100',
        power_status: 'running',
        source_location: 'vInfo row 2',
      },
      {
        external_id: '4211-bbbb',
        name: 'db-01',
        system_code: null,
        cpu: '2',
        memory_gb: '4.00390625',
        storage_gb: '50.00048828125',
        power_status: 'stopped',
        source_location: 'vInfo row 3',
      },
      {
        external_id: '4211-dddd',
        name: 'batch-01',
        system_code: null,
        cpu: '1',
        memory_gb: '0.0009765625',
        storage_gb: '0.0009765625',
        power_status: 'suspended',
        source_location: 'vInfo row 6',
      },
    ]);
    expect(source.lastReadStats).toEqual({
      rows: 5,
      templates_skipped: 1,
      blank_rows: 1,
      disk_column: 'Total disk capacity MiB',
    });
  });

  it('reads the older MB spelling with names as ids', async () => {
    const file = await writeWorkbook(path.join(folder, 'export-3x.xlsx'), {
      vInfo: [
        HEADERS_3X,
        ['app-01', 'poweredOn', 'False', 8, 16384, 204800, 1000, 'DC1', 'PROD', 'esx01'],
        ['app-02', 'poweredOff', 'True', 8, 16384, 204800, 1000, 'DC1', 'PROD', 'esx01'],
        ['app-03', 'poweredOff', 'False', 2, 3072, 1536, 1000, 'DC1', 'TEST', 'esx02'],
      ],
    });
    const { source, items } = await readAll(file);

    expect(items).toEqual([
      {
        external_id: 'app-01',
        name: 'app-01',
        system_code: null,
        cpu: '8',
        memory_gb: '16',
        storage_gb: '200',
        power_status: 'running',
        source_location: 'vInfo row 2',
      },
      {
        external_id: 'app-03',
        name: 'app-03',
        system_code: null,
        cpu: '2',
        memory_gb: '3',
        storage_gb: '1.5',
        power_status: 'stopped',
        source_location: 'vInfo row 4',
      },
    ]);
    expect(source.lastReadStats.disk_column).toBe('Provisioned MB');
    expect(source.lastReadStats.templates_skipped).toBe(1);
  });

  it('prefers Provisioned MiB when total capacity is absent', async () => {
    const file = await writeWorkbook(path.join(folder, 'provisioned.xlsx'), {
      vinfo: [
        ['VM', 'Powerstate', 'Template', 'CPUs', 'Memory', 'Provisioned MiB', 'VI SDK UUID', 'VM ID'],
        ['a', 'poweredOn', 'False', 1, 1024, 3072, 'sdk-9', 'vm-42'],
      ],
    });
    const { items } = await readAll(file);

    expect(items).toEqual([
      expect.objectContaining({ external_id: 'sdk-9/vm-42', storage_gb: '3', memory_gb: '1' }),
    ]);
  });

  it('reads a CSV with BOM, semicolons and quotes', async () => {
    const file = await writeCsv(
      path.join(folder, 'RVTools_tabvInfo.csv'),
      [
        [
          'vInfoVMName',
          'vInfoPowerstate',
          'vInfoTemplate',
          'vInfoCPUs',
          'vInfoMemory',
          'vInfoProvisioned',
          'vInfoCluster',
          'vInfoUUID',
        ],
        ['web; "primary"', 'poweredOn', 'False', '2', '2048', '10240,5', 'PROD', '4211-eeee'],
        ['', '', '', '', '', '', '', ''],
        ['tmpl', 'poweredOff', 'True', '1', '1024', '1024', 'PROD', '4211-ffff'],
        ['multi\nline', 'poweredOff', 'False', '1', '512', '1024', 'TEST', '4211-0000'],
      ],
      { separator: ';', bom: true },
    );
    const { source, items } = await readAll(file);

    expect(items).toEqual([
      {
        external_id: '4211-eeee',
        name: 'web; "primary"',
        system_code: null,
        cpu: '2',
        memory_gb: '2',
        storage_gb: '10.00048828125',
        power_status: 'running',
        source_location: 'vInfo row 2',
      },
      {
        external_id: '4211-0000',
        name: 'multi\nline',
        system_code: null,
        cpu: '1',
        memory_gb: '0.5',
        storage_gb: '1',
        power_status: 'stopped',
        source_location: 'vInfo row 5',
      },
    ]);
    expect(source.lastReadStats).toEqual({
      rows: 4,
      templates_skipped: 1,
      blank_rows: 1,
      disk_column: 'vInfoProvisioned',
    });
  });

  it('reads a comma-separated CSV with spaced headers', async () => {
    const file = await writeCsv(path.join(folder, 'vinfo-comma.csv'), [
      ['vm', 'POWER STATE', 'template', 'cpus', 'memory', 'Total Disk Capacity MB', 'VM UUID'],
      ['x, the first', 'poweredOn', 'no', '3', '3072', '30720', 'u-1'],
    ]);
    const { items } = await readAll(file);

    expect(items).toEqual([
      expect.objectContaining({ name: 'x, the first', cpu: '3', memory_gb: '3', storage_gb: '30' }),
    ]);
  });

  it('rejects rows with bad numbers by row', async () => {
    const file = await writeCsv(path.join(folder, 'bad-rows.csv'), [
      ['VM', 'Powerstate', 'Template', 'CPUs', 'Memory', 'Provisioned MiB', 'VM UUID'],
      ['ok', 'poweredOn', 'False', '1', '1024', '1024', 'u-1'],
      ['bad-memory', 'poweredOn', 'False', '1', '1,024', '1024', 'u-2'],
      ['bad-template', 'poweredOn', 'maybe', '1', '1024', '1024', 'u-3'],
      ['odd-power', 'poweredSideways', 'False', '1', '1024', '-5', 'u-4'],
    ]);
    const { items } = await readAll(file);

    expect(items).toHaveLength(4);
    expect(items[0]).toMatchObject({ external_id: 'u-1' });
    const badMemory = items[1] as RejectedSourceRecord;
    expect(badMemory).toBeInstanceOf(RejectedSourceRecord);
    expect(badMemory.location).toBe('vInfo row 3');
    expect(badMemory.externalId).toBe('u-2');
    expect(translate(badMemory.error.code, badMemory.error.parameters, 'en')).toBe(
      'column "Memory" has "1,024", which is not a number of MiB of at least 0',
    );
    const badTemplate = items[2] as RejectedSourceRecord;
    expect(translate(badTemplate.error.code, badTemplate.error.parameters, 'en')).toBe(
      'column "Template" has "maybe", which is not True or False',
    );
    const negative = items[3] as RejectedSourceRecord;
    expect(negative.error.parameters).toEqual({ column: 'Provisioned MiB', value: '-5' });
  });

  it('assigns systems by the first matching rule', async () => {
    const file = await writeWorkbook(path.join(folder, 'mapping.xlsx'), { vInfo: ROWS_4X });
    const { items } = await readAll(file, [
      { name: '/^db-\\d+$/', system_code: 'DATABASES' },
      { folder: 'DC1/vm/licensing', system_code: 'LICENSE-PORTAL' },
      { cluster: 'prod', system_code: 'NEVER-REACHED-FOR-LICENSING' },
      { cluster: 'TE?T', system_code: null },
      { name: '*', system_code: 'CATCH-ALL' },
    ]);

    expect(
      items.map((item) => [
        (item as Record<string, unknown>).name,
        (item as Record<string, unknown>).system_code,
      ]),
    ).toEqual([
      ['web-01', 'LICENSE-PORTAL'],
      ['db-01', 'DATABASES'],
      ['batch-01', null],
    ]);
  });

  it('yields pages of the configured size', async () => {
    const rows: Cell[][] = [HEADERS_3X];
    for (let index = 1; index <= 5; index += 1) {
      rows.push([`vm-${index}`, 'poweredOn', 'False', 1, 1024, 1024, 0, 'DC1', 'C', 'H']);
    }
    const file = await writeWorkbook(path.join(folder, 'pages.xlsx'), { vInfo: rows });
    const { pages } = await readAll(file, [], 2);

    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
  });
});

describe('RVTools file errors', () => {
  it('rejects a text file named .xlsx', async () => {
    const file = path.join(folder, 'not-a-workbook.xlsx');
    await writeFile(file, 'VM,Powerstate\nweb,poweredOn\n');
    const error = await readError(file);

    expect(error.code).toBe('rvtools_not_xlsx');
    expect(translate(error.code, error.parameters, 'en')).toBe(
      `file ${file} is not an XLSX workbook (not a ZIP archive); export it again from RVTools as Excel, or save the vInfo tab as .csv`,
    );
  });

  it('rejects a damaged workbook', async () => {
    const file = path.join(folder, 'damaged.xlsx');
    await writeFile(file, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64, 7)]));
    const error = await readError(file);

    expect(error.code).toBe('rvtools_xlsx_invalid');
  });

  it('rejects a workbook without vInfo', async () => {
    const file = await writeWorkbook(path.join(folder, 'no-vinfo.xlsx'), {
      vHost: [['Host'], ['esx01']],
      vCPU: [['VM'], ['a']],
    });
    const error = await readError(file);

    expect(error.code).toBe('rvtools_no_vinfo');
    expect(error.parameters.sheets).toBe('vHost, vCPU');
  });

  it('lists missing columns and the headers found', async () => {
    const file = await writeWorkbook(path.join(folder, 'missing-columns.xlsx'), {
      vInfo: [
        ['VM', 'Power', 'CPUs', 'Memory', 'Disks'],
        ['a', 'poweredOn', 1, 1024, 1],
      ],
    });
    const error = await readError(file);

    expect(translate(error.code, error.parameters, 'en')).toBe(
      `the vInfo sheet of ${file} is missing the column(s) Powerstate, Template, Total disk capacity MiB | Provisioned MiB | Provisioned MB. Headers found: VM, Power, CPUs, Memory, Disks`,
    );
  });

  it('rejects an empty vInfo sheet', async () => {
    const file = await writeCsv(path.join(folder, 'empty.csv'), []);
    const error = await readError(file);

    expect(error.code).toBe('rvtools_empty_sheet');
  });

  it('rejects a workbook named .csv', async () => {
    const file = await writeWorkbook(path.join(folder, 'really-xlsx.csv'), { vInfo: ROWS_4X });
    const error = await readError(file);

    expect(error.code).toBe('rvtools_csv_is_xlsx');
  });

  it('rejects other extensions', () => {
    expect(() => new RvtoolsInventorySource({ name: 'x', path: '/tmp/export.xls', mapping: [] })).toThrow(
      DomainError,
    );
  });

  it('rejects a missing file', async () => {
    const error = await readError(path.join(folder, 'absent.xlsx'));

    expect(error.code).toBe('rvtools_file_unreadable');
  });
});

describe('normalizeHeader', () => {
  it.each([
    ['vInfoVMName', 'vmname'],
    ['VM Name', 'vmname'],
    ['Provisioned MB', 'provisionedmib'],
    ['Provisioned MiB', 'provisionedmib'],
    ['vInfoTotalDiskCapacityMiB', 'totaldiskcapacitymib'],
    ['\uFEFFVM', 'vm'],
    ['VI SDK UUID', 'visdkuuid'],
  ])('normalizes %s', (header, key) => {
    expect(normalizeHeader(header)).toBe(key);
  });
});
