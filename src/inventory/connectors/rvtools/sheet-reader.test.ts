import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { temporaryFolder, writeWorkbook } from '../../../../test/support/rvtools-files.js';
import { DomainError } from '../../../errors.js';
import { translate } from '../../../i18n/messages.js';
import { readVinfoRows, type SheetRow } from './sheet-reader.js';

async function collect(file: string): Promise<SheetRow[]> {
  const rows: SheetRow[] = [];
  for await (const row of readVinfoRows(file)) rows.push(row);
  return rows;
}

async function readError(file: string): Promise<DomainError> {
  try {
    await collect(file);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`reading ${file} did not fail`);
}

/** Rewrites one part of the ZIP of `file` into `target`. */
async function rewritePart(
  file: string,
  target: string,
  part: string,
  edit: (text: string) => string,
): Promise<void> {
  const zip = await JSZip.loadAsync(await readFile(file));
  zip.file(part, edit(await zip.file(part)!.async('string')));
  await writeFile(target, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
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

  it('leaves no temporary files', async () => {
    // exceljs writes worksheets before the shared strings, the order in which
    // its streaming iterator copies worksheets to temporary files. The second
    // read stops at the header, as an import with missing columns does.
    const file = await writeWorkbook(path.join(folder, 'many-sheets.xlsx'), {
      vHealth: [['Name'], ['x']],
      vInfo: [
        ['VM', 'CPUs'],
        ['web-01', 4],
      ],
      vCPU: [['VM'], ['web-01']],
    });
    const temporary = path.join(folder, 'tmp');
    await mkdir(temporary);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = temporary;
    try {
      expect(await collect(file)).toHaveLength(2);
      for await (const row of readVinfoRows(file)) {
        expect(row.rowNumber).toBe(1);
        break;
      }
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }

    expect(await readdir(temporary)).toEqual([]);
  });

  it('reads an absolute relationship target', async () => {
    const original = await writeWorkbook(path.join(folder, 'relative.xlsx'), {
      vHealth: [['Name'], ['x']],
      vInfo: [['VM'], ['web-01']],
    });
    const absolute = path.join(folder, 'absolute.xlsx');
    await rewritePart(original, absolute, 'xl/_rels/workbook.xml.rels', (text) =>
      text.replaceAll('Target="worksheets/', 'Target="/xl/worksheets/'),
    );

    expect((await collect(absolute)).map((row) => row.cells)).toEqual([['VM'], ['web-01']]);
  });

  it('names a missing sheet part', async () => {
    const original = await writeWorkbook(path.join(folder, 'pointing.xlsx'), { vInfo: [['VM'], ['web-01']] });
    const broken = path.join(folder, 'pointing-nowhere.xlsx');
    await rewritePart(original, broken, 'xl/_rels/workbook.xml.rels', (text) =>
      text.replace('worksheets/sheet1.xml', 'worksheets/sheet9.xml'),
    );
    const error = await readError(broken);

    expect(error.code).toBe('rvtools_xlsx_invalid');
    expect(translate(error.code, error.parameters, 'en')).toBe(
      `cannot read XLSX workbook ${broken}: the file has no part xl/worksheets/sheet9.xml; the file may be damaged or only partly copied`,
    );
  });

  it('rejects a truncated workbook', async () => {
    const original = await writeWorkbook(path.join(folder, 'whole.xlsx'), { vInfo: [['VM'], ['web-01']] });
    const bytes = await readFile(original);
    const truncated = path.join(folder, 'truncated.xlsx');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 200));
    const error = await readError(truncated);

    expect(error.code).toBe('rvtools_xlsx_invalid');
  });
});
