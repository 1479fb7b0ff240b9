import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

import { parse as parseCsv } from 'csv-parse';
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';

import { DomainError } from '../../../errors.js';

/**
 * Streams the rows of the vInfo sheet of an RVTools export, as cell texts.
 * XLSX files are opened with yauzl and their vInfo sheet parsed by exceljs'
 * streaming reader; CSV files (the vInfo tab saved as CSV) are read with
 * csv-parse. Rows are never all in memory at once.
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

  const zip = await openZip(file);
  try {
    const workbook = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([]), {
      worksheets: 'emit',
      // Cells refer to shared strings by index, so the table stays in memory.
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      // Styles are ignored, so dates arrive as serial numbers, which the import does not read.
      styles: 'ignore',
      entries: 'ignore',
    }) as unknown as WorkbookParts;

    await workbook._parseRels(await zip.open('xl/_rels/workbook.xml.rels'));
    await workbook._parseWorkbook(await zip.open('xl/workbook.xml'));
    if (zip.has(SHARED_STRINGS)) {
      for await (const event of workbook._parseSharedStrings(await zip.open(SHARED_STRINGS))) void event;
    }

    const sheets = workbook.model?.sheets ?? [];
    const vinfo = sheets.find((sheet) => sheet.name.trim().toLowerCase() === 'vinfo');
    if (!vinfo) {
      const names = sheets.map((sheet) => sheet.name).join(', ');
      throw new DomainError('rvtools_no_vinfo', { file, sheets: names || '-' });
    }
    const target = (workbook.workbookRels ?? []).find((relation) => relation.Id === vinfo.rId)?.Target;
    if (!target) throw new Error(`xl/workbook.xml names no part for the sheet "${vinfo.name}"`);

    const sheetStream = await zip.open(partPath(target));
    const [event] = [...workbook._parseWorksheet(sheetStream, String(vinfo.id))];
    if (!event) throw new Error('exceljs returned no reader for the vInfo sheet');

    for await (const row of event.value) {
      yield { rowNumber: row.number, cells: rowCells(row.values), decimalComma: false };
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError('rvtools_xlsx_invalid', { file, error: (error as Error).message });
  } finally {
    zip.close();
  }
}

const SHARED_STRINGS = 'xl/sharedStrings.xml';

/**
 * Steps of exceljs' streaming WorkbookReader (4.4) that each parse one part.
 * Its public iterator reads parts in ZIP order and copies every worksheet
 * stored before the shared strings (exceljs' own writer stores them so) to a
 * temporary file, removed only if the caller iterates past that worksheet.
 * Feeding the steps parts by name needs no temporary files and skips the
 * other sheets. These methods are private to exceljs 4.4, which
 * package-lock.json pins, and the tests of this reader run each of them.
 */
interface WorkbookParts {
  model?: { sheets?: { id: number; name: string; rId: string }[] };
  workbookRels?: { Id: string; Target: string }[];
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseWorksheet(
    entry: Readable,
    sheetNo: string,
  ): Generator<{ eventType: 'worksheet'; value: ExcelJS.stream.xlsx.WorksheetReader }>;
}

/** Returns the ZIP path of a workbook relationship target, which is relative to xl/ unless it starts with /. */
function partPath(target: string): string {
  return target.startsWith('/') ? target.slice(1) : path.posix.join('xl', target);
}

/** The parts of an XLSX file, opened by name through the ZIP's central directory. */
interface XlsxZip {
  has(name: string): boolean;
  /** Streams one part, inflated. Throws when the ZIP has no such part. */
  open(name: string): Promise<Readable>;
  /** Destroys the streams still open, for a read that stopped early, and closes the file. */
  close(): void;
}

async function openZip(file: string): Promise<XlsxZip> {
  let zipfile: yauzl.ZipFile | undefined;
  const entries = new Map<string, yauzl.Entry>();
  try {
    zipfile = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(file, {
      lazyEntries: true,
      autoClose: false,
    });
    const opened = zipfile;
    await new Promise<void>((resolve, reject) => {
      opened.on('entry', (entry: yauzl.Entry) => {
        entries.set(entry.fileName, entry);
        opened.readEntry();
      });
      opened.once('end', resolve);
      opened.once('error', reject);
      opened.readEntry();
    });
  } catch (error) {
    zipfile?.close();
    throw new DomainError('rvtools_xlsx_invalid', { file, error: (error as Error).message });
  }

  // With autoClose off, yauzl closes the file only after every stream has
  // ended or been destroyed, so close() destroys the ones a failed parse left.
  const zip = zipfile;
  const openReadStream = promisify<yauzl.Entry, Readable>(zip.openReadStream.bind(zip));
  const streams = new Set<Readable>();
  return {
    has: (name) => entries.has(name),
    open: async (name) => {
      const entry = entries.get(name);
      if (!entry) throw new Error(`the file has no part ${name}`);
      const stream = await openReadStream(entry);
      streams.add(stream);
      return stream;
    },
    close: () => {
      for (const stream of streams) stream.destroy();
      zip.close();
    },
  };
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
