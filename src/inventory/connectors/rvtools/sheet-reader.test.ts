import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { temporaryFolder, writeWorkbook } from '../../../../test/support/rvtools-files.js';
import { readVinfoRows, type SheetRow } from './sheet-reader.js';

async function collect(file: string): Promise<SheetRow[]> {
  const rows: SheetRow[] = [];
  for await (const row of readVinfoRows(file)) rows.push(row);
  return rows;
}

/** Rewrites the ZIP of `file` so that its worksheets come before xl/workbook.xml. */
async function moveWorksheetsFirst(file: string, target: string): Promise<void> {
  const source = await JSZip.loadAsync(await readFile(file));
  const names = Object.keys(source.files).filter((name) => !source.files[name]!.dir);
  const worksheets = names.filter((name) => name.startsWith('xl/worksheets/'));
  const others = names.filter((name) => !name.startsWith('xl/worksheets/'));
  const reordered = new JSZip();
  for (const name of [
    ...others.filter((name) => name !== 'xl/workbook.xml'),
    ...worksheets,
    'xl/workbook.xml',
  ]) {
    reordered.file(name, await source.files[name]!.async('nodebuffer'));
  }
  await writeFile(target, await reordered.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
}

describe('vInfo sheet reader', () => {
  let folder: string;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    ({ folder, remove } = await temporaryFolder());
  });

  afterAll(async () => {
    await remove();
  });

  it('reads worksheets stored before the workbook part', async () => {
    const original = await writeWorkbook(path.join(folder, 'ordered.xlsx'), {
      vHealth: [['Name'], ['x']],
      vInfo: [
        ['VM', 'CPUs'],
        ['web-01', 4],
        ['db-01', 8],
      ],
    });
    const reordered = path.join(folder, 'worksheets-first.xlsx');
    await moveWorksheetsFirst(original, reordered);

    const expected = [
      { rowNumber: 1, cells: ['VM', 'CPUs'], decimalComma: false },
      { rowNumber: 2, cells: ['web-01', '4'], decimalComma: false },
      { rowNumber: 3, cells: ['db-01', '8'], decimalComma: false },
    ];
    expect(await collect(original)).toEqual(expected);
    expect(await collect(reordered)).toEqual(expected);
  });
});
