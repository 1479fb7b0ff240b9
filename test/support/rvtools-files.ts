import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import ExcelJS from 'exceljs';

/** Writers of RVTools-like exports for tests: XLSX through exceljs, CSV as text. */

export type Cell = string | number | boolean | null;

/** Headers of a vInfo sheet as RVTools 4.x writes them (a subset of its 90-odd columns). */
export const HEADERS_4X = [
  'VM',
  'Powerstate',
  'Template',
  'CPUs',
  'Memory',
  'Total disk capacity MiB',
  'Provisioned MiB',
  'In Use MiB',
  'Datacenter',
  'Cluster',
  'Host',
  'Folder',
  'VM ID',
  'VM UUID',
  'VI SDK UUID',
];

/** Headers of an older export: MB labels, no total disk capacity and no VM UUID column. */
export const HEADERS_3X = [
  'VM',
  'Powerstate',
  'Template',
  'CPUs',
  'Memory',
  'Provisioned MB',
  'In Use MB',
  'Datacenter',
  'Cluster',
  'Host',
];

export async function temporaryFolder(): Promise<{ folder: string; remove: () => Promise<void> }> {
  const folder = await mkdtemp(path.join(tmpdir(), 'rvtools-test-'));
  return { folder, remove: () => rm(folder, { recursive: true, force: true }) };
}

/** Writes an XLSX workbook with the given sheets, in order; null cells stay empty. */
export async function writeWorkbook(file: string, sheets: Record<string, Cell[][]>): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = workbook.addWorksheet(name);
    rows.forEach((row, index) => {
      // An all-empty row is written as a row with no cells, as Excel leaves it.
      if (row.every((cell) => cell === null || cell === '')) return;
      sheet.getRow(index + 1).values = row.map((cell) =>
        cell === null ? undefined : cell,
      ) as ExcelJS.CellValue[];
    });
  }
  await workbook.xlsx.writeFile(file);
  return file;
}

/** Writes CSV text, quoting every field that needs it; `bom` prefixes a UTF-8 byte order mark. */
export async function writeCsv(
  file: string,
  rows: Cell[][],
  options: { separator?: ',' | ';'; bom?: boolean } = {},
): Promise<string> {
  const separator = options.separator ?? ',';
  const quote = (cell: Cell): string => {
    const text = cell === null ? '' : String(cell);
    return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const text = rows.map((row) => row.map(quote).join(separator)).join('\r\n') + '\r\n';
  await writeFile(file, (options.bom ? '\uFEFF' : '') + text, 'utf8');
  return file;
}
