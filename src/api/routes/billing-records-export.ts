import { Readable, PassThrough } from 'node:stream';

import { Decimal } from 'decimal.js';
import ExcelJS from 'exceljs';
import type { FastifyBaseLogger } from 'fastify';

import type {
  BillingRecordCursor,
  BillingRecordOrder,
  BillingRecordQuery,
  BillingRecordRepository,
} from '../../db/repositories/billing-record.repository.js';
import { serializeBillingRecordWithNames } from './serializers.js';

/**
 * CSV and XLSX exports of billing records. Both read the records in keyset
 * batches and stream them, so memory stays at about one batch whatever the
 * number of rows. Each cell contains the value of the same field in the JSON list.
 */

export type ExportFormat = 'csv' | 'xlsx';

/** A billing record as the JSON list returns it. */
type ExportRow = ReturnType<typeof serializeBillingRecordWithNames>;

interface ExportColumn {
  field: keyof ExportRow;
  header: string;
  kind: 'integer' | 'date' | 'text' | 'user_text' | 'decimal';
  /** Excel number format, which changes only how a value is shown, not the stored value. */
  numFmt?: string;
  width: number;
}

const AMOUNT_DETAIL = '0.00########';

export const EXPORT_COLUMNS: readonly ExportColumn[] = [
  { field: 'id', header: '记录 ID / id', kind: 'integer', width: 10 },
  { field: 'billing_date', header: '计费日期 / billing_date', kind: 'date', numFmt: 'yyyy-mm-dd', width: 12 },
  { field: 'tenant_code', header: '租户编码 / tenant_code', kind: 'text', width: 14 },
  { field: 'tenant_name', header: '租户名称 / tenant_name', kind: 'user_text', width: 24 },
  {
    field: 'information_system_code',
    header: '信息系统编码 / information_system_code',
    kind: 'text',
    width: 18,
  },
  {
    field: 'information_system_name',
    header: '信息系统名称 / information_system_name',
    kind: 'user_text',
    width: 28,
  },
  { field: 'run_mode', header: '运行模式 / run_mode', kind: 'text', width: 10 },
  { field: 'billed_hours', header: '计费小时数 / billed_hours', kind: 'integer', width: 10 },
  { field: 'cpu', header: 'vCPU 核数 / cpu', kind: 'integer', width: 8 },
  { field: 'memory', header: '内存 GB / memory', kind: 'decimal', width: 10 },
  { field: 'storage', header: '存储 GB / storage', kind: 'decimal', width: 10 },
  {
    field: 'cpu_price',
    header: 'CPU 单价 元/核·时 / cpu_price',
    kind: 'decimal',
    numFmt: '0.000000',
    width: 12,
  },
  {
    field: 'memory_price',
    header: '内存单价 元/GB·时 / memory_price',
    kind: 'decimal',
    numFmt: '0.000000',
    width: 12,
  },
  {
    field: 'storage_price',
    header: '存储单价 元/GB·时 / storage_price',
    kind: 'decimal',
    numFmt: '0.000000',
    width: 12,
  },
  {
    field: 'cpu_amount',
    header: 'CPU 费用 元 / cpu_amount',
    kind: 'decimal',
    numFmt: AMOUNT_DETAIL,
    width: 12,
  },
  {
    field: 'memory_amount',
    header: '内存费用 元 / memory_amount',
    kind: 'decimal',
    numFmt: AMOUNT_DETAIL,
    width: 12,
  },
  {
    field: 'storage_amount',
    header: '存储费用 元 / storage_amount',
    kind: 'decimal',
    numFmt: AMOUNT_DETAIL,
    width: 12,
  },
  {
    field: 'gross_amount',
    header: '折前金额 元 / gross_amount',
    kind: 'decimal',
    numFmt: AMOUNT_DETAIL,
    width: 12,
  },
  { field: 'discount_rate', header: '折扣率 / discount_rate', kind: 'decimal', numFmt: '0.0000', width: 10 },
  { field: 'amount', header: '应付金额 元 / amount', kind: 'decimal', numFmt: '0.00', width: 12 },
  { field: 'currency', header: '币种 / currency', kind: 'text', width: 8 },
];

/** Media types of the export formats, as the OpenAPI document lists them. */
export const MEDIA_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** Content-Type headers of the export formats. */
export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: `${MEDIA_TYPES.csv}; charset=utf-8`,
  xlsx: MEDIA_TYPES.xlsx,
};

/** Rows per database query while exporting. */
export const EXPORT_BATCH_SIZE = 5000;

/**
 * Reads the matching records in `order`, one keyset batch at a time.
 *
 * NOTE: each batch is its own statement, not one snapshot, so records that
 * billing or re-rating writes during a long export may or may not appear. A
 * transaction across the whole download would hold PGlite's only connection
 * for as long as the client takes to read.
 */
export async function* readBatches(
  records: BillingRecordRepository,
  filter: BillingRecordQuery,
  order: BillingRecordOrder,
  batchSize = EXPORT_BATCH_SIZE,
): AsyncGenerator<ExportRow[]> {
  let after: BillingRecordCursor | null = null;
  for (;;) {
    const rows = await records.getBatchAfter(filter, order, after, batchSize);
    if (rows.length > 0) yield rows.map(serializeBillingRecordWithNames);
    if (rows.length < batchSize) return;

    const last = rows.at(-1)!;
    after = { value: String(last[order.orderBy]), id: last.id };
  }
}

/** Builds an ASCII file name from the date range, e.g. billing-records_2026-01-01_2026-01-31.csv. */
export function exportFileName(filter: BillingRecordQuery, format: ExportFormat): string {
  const range =
    filter.from && filter.to
      ? `_${filter.from}_${filter.to}`
      : filter.from
        ? `_from-${filter.from}`
        : filter.to
          ? `_to-${filter.to}`
          : '';
  return `billing-records${range}.${format}`;
}

/**
 * Quotes a CSV field after RFC 4180. Text typed by users that starts like a
 * formula (= + - @, tab or carriage return) gets a leading apostrophe, as
 * OWASP advises against CSV injection, so Excel shows it instead of running it.
 */
function csvField(value: string, kind: ExportColumn['kind']): string {
  const text = kind === 'user_text' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvLine(values: string[]): string {
  return `${values.join(',')}\r\n`;
}

async function* csvChunks(batches: AsyncIterable<ExportRow[]>): AsyncGenerator<Buffer> {
  // The byte order mark makes Excel read the file as UTF-8, so Chinese text shows correctly.
  const header = csvLine(EXPORT_COLUMNS.map((column) => csvField(column.header, 'text')));
  yield Buffer.from(`\uFEFF${header}`, 'utf8');

  for await (const batch of batches) {
    const lines = batch.map((row) =>
      csvLine(EXPORT_COLUMNS.map((column) => csvField(String(row[column.field] ?? ''), column.kind))),
    );
    yield Buffer.from(lines.join(''), 'utf8');
  }
}

/** Streams the rows as CSV: UTF-8 with a byte order mark, CRLF line ends, decimals as exact text. */
export function csvStream(batches: AsyncIterable<ExportRow[]>): Readable {
  return Readable.from(csvChunks(batches));
}

/**
 * Converts exact decimal text to an Excel number when the number keeps every
 * digit, else keeps the text. Any decimal of at most 15 significant digits
 * reads back unchanged from the nearest double (DBL_DIG is 15 for IEEE 754
 * doubles), and Excel keeps 15 significant digits, so amounts below 10^13 CNY
 * stay exact to the cent and remain summable. A longer value stays text.
 */
export function decimalCell(text: string): number | string {
  const value = new Decimal(text);
  return value.sd() <= 15 ? value.toNumber() : text;
}

function xlsxCell(row: ExportRow, column: ExportColumn): ExcelJS.CellValue {
  const value = row[column.field];
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case 'integer':
      return Number(value);
    case 'date':
      // exceljs turns a Date into an Excel serial day by its UTC fields, so UTC midnight keeps the day.
      return new Date(`${String(value)}T00:00:00Z`);
    case 'decimal':
      return decimalCell(String(value));
    default:
      return String(value);
  }
}

/** Resolves when `stream` can take more data or has closed. */
function drained(stream: PassThrough): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * Streams the rows as an XLSX workbook with exceljs's streaming writer, one
 * sheet with a frozen header row. After each batch it waits until the client
 * has read the buffered output, so a slow download does not pile up rows in memory.
 */
export function xlsxStream(batches: AsyncIterable<ExportRow[]>, log: FastifyBaseLogger): Readable {
  const output = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: output,
    useStyles: true,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('计费记录 billing records', {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  sheet.columns = EXPORT_COLUMNS.map((column) => ({
    header: column.header,
    key: column.field,
    width: column.width,
    ...(column.numFmt ? { style: { numFmt: column.numFmt } } : {}),
  }));

  const write = async () => {
    for await (const batch of batches) {
      for (const row of batch) {
        sheet.addRow(EXPORT_COLUMNS.map((column) => xlsxCell(row, column))).commit();
      }
      await drained(output);
      if (output.destroyed) return;
    }
    sheet.commit();
    await workbook.commit();
  };

  write().catch((error: unknown) => {
    // The status line has gone out already, so the client sees a cut-off download.
    log.error({ err: error }, 'billing record XLSX export failed');
    output.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return output;
}
