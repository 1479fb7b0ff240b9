import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

import { parse as parseCsv } from 'csv-parse';
import ExcelJS from 'exceljs';

import { DomainError } from '../../../errors.js';

/**
 * Streams the rows of the vInfo sheet of an RVTools export, as cell texts.
 * XLSX files are read with exceljs' streaming WorkbookReader and CSV files
 * (the vInfo tab saved as CSV) with csv-parse, so rows are never all in
 * memory at once.
 * NOTE: exceljs keeps an XLSX file's shared strings table in memory, so memory
 * still grows with the unique strings of the file (see docs/benchmarks.md).
 */

export type RvtoolsFileFormat = 'xlsx' | 'csv';

/** One row of the sheet: its 1-based row number and its cells as trimmed text. */
export interface SheetRow {
  rowNumber: number;
  cells: string[];
  /** Whether numbers may use a decimal comma, as in CSV files separated by `;`. */
  decimalComma: boolean;
}

/** Returns the format of an RVTools export from its extension. Throws DomainError for any other. */
export function rvtoolsFileFormat(file: string): RvtoolsFileFormat {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.xlsx') return 'xlsx';
  if (extension === '.csv') return 'csv';
  throw new DomainError('rvtools_file_extension', { file }, 'path');
}

/** Yields every row of the vInfo sheet of `file`, the header row included. */
export async function* readVinfoRows(file: string): AsyncGenerator<SheetRow> {
  const format = rvtoolsFileFormat(file);
  const head = await readHead(file);
  if (format === 'xlsx') yield* readXlsx(file, head);
  else yield* readCsv(file, head);
}

/** Size of the file's first chunk used to recognize its format and its CSV separator. */
const HEAD_BYTES = 64 * 1024;

async function readHead(file: string): Promise<Buffer> {
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new DomainError('rvtools_file_unreadable', { file, error: (error as Error).message });
  }
}

/** Local file header signature of a ZIP archive, which every XLSX file is. */
const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

async function* readXlsx(file: string, head: Buffer): AsyncGenerator<SheetRow> {
  if (!head.subarray(0, 4).equals(ZIP_SIGNATURE)) {
    throw new DomainError('rvtools_not_xlsx', { file });
  }

  const input = createReadStream(file);
  // Shared strings are cached because cells refer to them by index. Styles are
  // ignored, so dates arrive as serial numbers, which the import does not read.
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });

  const sheetNames: string[] = [];
  let rowsYielded = false;
  try {
    for await (const worksheet of workbook) {
      const reader = worksheet as typeof worksheet & { name?: string; id?: number | string };
      const name = reader.name ?? `sheet${String(reader.id ?? sheetNames.length + 1)}`;
      sheetNames.push(name);
      if (name.trim().toLowerCase() !== 'vinfo') continue;

      for await (const row of worksheet) {
        rowsYielded = true;
        yield { rowNumber: row.number, cells: rowCells(row.values), decimalComma: false };
      }
      return;
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    // NOTE: exceljs 4.4's streaming reader fails ("reading 'sheets'") when a
    // worksheet comes before xl/workbook.xml in the ZIP, an order that ZIP
    // writers may choose. Such a file is read again whole, in memory.
    if (!rowsYielded) {
      yield* readXlsxInMemory(file, error as Error);
      return;
    }
    throw new DomainError('rvtools_xlsx_invalid', { file, error: (error as Error).message });
  } finally {
    input.destroy();
  }
  throw new DomainError('rvtools_no_vinfo', { file, sheets: sheetNames.join(', ') || '-' });
}

/** Reads the vInfo sheet with exceljs' in-memory reader; `streamingError` is reported if that fails too. */
async function* readXlsxInMemory(file: string, streamingError: Error): AsyncGenerator<SheetRow> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.readFile(file);
  } catch {
    throw new DomainError('rvtools_xlsx_invalid', { file, error: streamingError.message });
  }

  const sheet = workbook.worksheets.find((worksheet) => worksheet.name.trim().toLowerCase() === 'vinfo');
  if (!sheet) {
    const sheets = workbook.worksheets.map((worksheet) => worksheet.name).join(', ');
    throw new DomainError('rvtools_no_vinfo', { file, sheets: sheets || '-' });
  }
  const rows: SheetRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    rows.push({ rowNumber: row.number, cells: rowCells(row.values), decimalComma: false });
  });
  yield* rows;
}

/** Converts exceljs row values (1-based, sparse) to cell texts. */
function rowCells(values: ExcelJS.CellValue[] | { [key: string]: ExcelJS.CellValue }): string[] {
  const list = Array.isArray(values) ? values : Object.values(values);
  const cells: string[] = [];
  for (let column = 1; column < list.length; column += 1) cells.push(cellText(list[column]));
  return cells;
}

/** Returns the text of one cell value; numbers keep their shortest round-trip form. */
export function cellText(value: ExcelJS.CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value instanceof Date) return value.toISOString();
  if ('richText' in value)
    return value.richText
      .map((part) => part.text)
      .join('')
      .trim();
  if ('formula' in value || 'sharedFormula' in value) {
    const result = (value as { result?: unknown }).result;
    return typeof result === 'object' && result !== null ? '' : cellText(result as ExcelJS.CellValue);
  }
  if ('text' in value && typeof value.text === 'string') return value.text.trim();
  // Error values such as #N/A carry no usable content.
  return '';
}

/** Returns the CSV separator of a header line: `;` when it has more semicolons than commas outside quotes. */
export function detectSeparator(headerLine: string): ',' | ';' {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const character of headerLine) {
    if (character === '"') quoted = !quoted;
    else if (!quoted && character === ',') commas += 1;
    else if (!quoted && character === ';') semicolons += 1;
  }
  return semicolons > commas ? ';' : ',';
}

async function* readCsv(file: string, head: Buffer): AsyncGenerator<SheetRow> {
  if (head.subarray(0, 4).equals(ZIP_SIGNATURE)) {
    throw new DomainError('rvtools_csv_is_xlsx', { file });
  }
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const separator = detectSeparator(text.split(/\r?\n/, 1)[0] ?? '');

  const input = createReadStream(file);
  const parser = input.pipe(
    parseCsv({ delimiter: separator, bom: true, relax_column_count: true, skip_empty_lines: false }),
  );
  let rowNumber = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      rowNumber += 1;
      yield { rowNumber, cells: record.map((cell) => cell.trim()), decimalComma: separator === ';' };
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError('rvtools_csv_invalid', {
      file,
      row: rowNumber + 1,
      error: (error as Error).message,
    });
  } finally {
    input.destroy();
  }
}
