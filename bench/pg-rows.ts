import { createRequire } from 'node:module';

import { Command } from 'commander';
import pg from 'pg';

import { compileRowBuilder } from '../src/db/row-builder.js';
import { parseTimestamptz } from '../src/db/timestamptz.js';
import { parsePositiveInteger } from './support.js';

/**
 * Micro-benchmark of the client side of a billing-records page, without a
 * database. It times how long pg takes to turn one data row of 24 columns into
 * an object, both as pg's object row and as an array row with a compiled row
 * builder (src/db/row-builder.ts). It also times one `timestamptz` value with
 * pg's parser and with parseTimestamptz. The row is the text that PostgreSQL
 * sends, given to pg's Result class, an internal of pg 8.
 */

interface FieldDef {
  name: string;
  dataTypeID: number;
  format: 'text';
}

interface PgResult {
  addFields(fields: FieldDef[]): void;
  parseRow(values: (string | null)[]): unknown;
}

type PgResultClass = new (rowMode?: 'array', types?: unknown) => PgResult;

const Result = createRequire(import.meta.url)('pg/lib/result.js') as PgResultClass;

const { INT8, DATE, TEXT, NUMERIC, TIMESTAMPTZ } = pg.types.builtins;

/** The columns of a page row (billing_records and its total count) with one record's values. */
const COLUMNS: [name: string, type: number, value: string | null][] = [
  ['id', INT8, '1234567'],
  ['information_system_id', INT8, '777'],
  ['tenant_id', INT8, '12'],
  ['billing_date', DATE, '2026-01-03'],
  ['run_mode', TEXT, 'production'],
  ['billed_hours', NUMERIC, '24'],
  ['cpu', NUMERIC, '4'],
  ['memory', NUMERIC, '8'],
  ['storage', NUMERIC, '100'],
  ['price_version_id', INT8, '3'],
  ['cpu_price', NUMERIC, '0.0500'],
  ['memory_price', NUMERIC, '0.0200'],
  ['storage_price', NUMERIC, '0.0010'],
  ['cpu_amount', NUMERIC, '4.80'],
  ['memory_amount', NUMERIC, '3.84'],
  ['storage_amount', NUMERIC, '2.40'],
  ['gross_amount', NUMERIC, '11.04'],
  ['discount_rate', NUMERIC, '0.9000'],
  ['amount', NUMERIC, '9.94'],
  ['currency', TEXT, 'CNY'],
  ['task_run_id', INT8, '55'],
  ['created_at', TIMESTAMPTZ, '2026-01-04 00:10:00.123456+08'],
  ['rerated_at', TIMESTAMPTZ, null],
  ['total_count', INT8, '365'],
];

/** Returns the mean nanoseconds of one call of `run`, after as many calls to warm up. */
function timePerCall(calls: number, run: () => unknown): number {
  for (let index = 0; index < calls; index += 1) run();
  const start = process.hrtime.bigint();
  for (let index = 0; index < calls; index += 1) run();
  return Number(process.hrtime.bigint() - start) / calls;
}

const program = new Command()
  .name('bench:pg-rows')
  .description('Time pg row parsing and timestamptz parsing per row, without a database.')
  .option('--calls <n>', 'calls per measurement', parsePositiveInteger, 300_000)
  .option('--rounds <n>', 'measurements of each case, printed one per line', parsePositiveInteger, 5)
  .parse();
const { calls, rounds } = program.opts<{ calls: number; rounds: number }>();

// This script does not load database.ts, so it sets INT8, NUMERIC and DATE
// to text as the server does.
const keepText = (value: string) => value;
for (const type of [INT8, NUMERIC, DATE]) pg.types.setTypeParser(type, keepText);
const pgTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ, 'text');
const withTimestamptz = (parser: (text: string) => unknown) => ({
  getTypeParser: (type: number, format: 'text' | 'binary') =>
    type === TIMESTAMPTZ ? parser : pg.types.getTypeParser(type, format),
});

const fields: FieldDef[] = COLUMNS.map(([name, type]) => ({ name, dataTypeID: type, format: 'text' }));
const row = COLUMNS.map(([, , value]) => value);
const objectRows = new Result(undefined, withTimestamptz(pgTimestamptz));
objectRows.addFields(fields);
const objectRowsFastDate = new Result(undefined, withTimestamptz(parseTimestamptz));
objectRowsFastDate.addFields(fields);
const arrayRows = new Result('array', withTimestamptz(parseTimestamptz));
arrayRows.addFields(fields);
const build = compileRowBuilder(fields.map((field) => field.name));
const timestamp = COLUMNS.find(([name]) => name === 'created_at')![2]!;

console.log(
  'ns per call: pg object row | same, parseTimestamptz | array row + builder, parseTimestamptz | pg timestamptz | parseTimestamptz',
);
for (let round = 1; round <= rounds; round += 1) {
  const figures = [
    timePerCall(calls, () => objectRows.parseRow(row)),
    timePerCall(calls, () => objectRowsFastDate.parseRow(row)),
    timePerCall(calls, () => build(arrayRows.parseRow(row) as unknown[])),
    timePerCall(calls, () => pgTimestamptz(timestamp)),
    timePerCall(calls, () => parseTimestamptz(timestamp)),
  ];
  console.log(figures.map((figure) => figure.toFixed(0)).join(' | '));
}
