import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';
import ExcelJS from 'exceljs';

import { RvtoolsInventorySource } from '../src/inventory/connectors/rvtools/rvtools-source.js';
import { RejectedSourceRecord } from '../src/inventory/source.js';
// The headers of an RVTools 4.x vInfo sheet, as the connector's tests write them.
import { HEADERS_4X as HEADERS } from '../test/support/rvtools-files.js';
import { measure } from './measure.js';
import { parsePositiveInteger } from './support.js';

/**
 * Benchmark of reading an RVTools export. A child process writes a vInfo
 * sheet of --rows VMs (RVTools 4.x headers, unique names, UUIDs and folder
 * paths, one template in 50) with exceljs' streaming writer. Writing in a
 * child keeps the writer's memory out of the figures. This process then reads the file through
 * the rvtools source as a sync would, without a database, and prints wall
 * time and peak RSS of the read.
 */

interface BenchOptions {
  rows: number;
  /** Set in the child process: write the export to this file and exit. */
  writeTo?: string;
}

function parseOptions(): BenchOptions {
  const program = new Command('bench:rvtools-read')
    .description('write an RVTools XLSX export of --rows VMs and measure reading it')
    .option('--rows <count>', 'VM rows in the vInfo sheet', parsePositiveInteger, 100_000)
    .option('--write-to <file>', 'only write the export to this file (used by the benchmark itself)')
    .parse();
  return program.opts<BenchOptions>();
}

async function writeExport(file: string, rows: number): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const sheet = workbook.addWorksheet('vInfo');
  sheet.addRow(HEADERS).commit();
  for (let index = 0; index < rows; index += 1) {
    sheet
      .addRow([
        `vm-${index}-licensing-portal`,
        index % 3 === 0 ? 'poweredOff' : 'poweredOn',
        index % 50 === 0 ? 'True' : 'False',
        2 + (index % 8),
        4096 + (index % 4) * 1024,
        40960 + index,
        40960 + index,
        20480,
        'DC1',
        `CLUSTER-${index % 20}`,
        `esx${index % 200}.example.gov.cn`,
        `DC1/vm/department-${index % 300}`,
        `vm-${index}`,
        `4211${index.toString(16).padStart(28, '0')}`,
        'a1b2c3d4-0000-0000-0000-000000000000',
      ])
      .commit();
  }
  await workbook.commit();
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.writeTo !== undefined) {
    await writeExport(options.writeTo, options.rows);
    return;
  }

  const folder = await mkdtemp(path.join(tmpdir(), 'bench-rvtools-'));
  try {
    const file = path.join(folder, 'RVTools_export_all.xlsx');
    execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--rows',
        String(options.rows),
        '--write-to',
        file,
      ],
      { stdio: 'inherit' },
    );
    const size = (await stat(file)).size;

    const source = new RvtoolsInventorySource({
      name: 'rvtools-bench',
      path: file,
      mapping: [{ folder: 'DC1/vm/department-1*', system_code: 'DEPT-1' }],
    });
    const { result, measurement } = await measure(async () => {
      let records = 0;
      let rejected = 0;
      for await (const page of source.readPages()) {
        for (const item of page) {
          if (item instanceof RejectedSourceRecord) rejected += 1;
          else records += 1;
        }
      }
      return { records, rejected };
    });

    const expectedRecords = options.rows - Math.ceil(options.rows / 50);
    if (result.records !== expectedRecords || result.rejected !== 0) {
      throw new Error(
        `read ${result.records} records and ${result.rejected} rejections, expected ${expectedRecords} and 0`,
      );
    }
    console.log(
      JSON.stringify(
        {
          rows: options.rows,
          file_mib: Number((size / 1024 / 1024).toFixed(1)),
          records: result.records,
          templates_skipped: source.lastReadStats.templates_skipped,
          seconds: Number(measurement.seconds.toFixed(2)),
          peak_rss_mib: Math.round(measurement.peakRssMiB),
          peak_is_per_phase: measurement.peakIsPerPhase,
          load_average: measurement.loadAverage,
        },
        null,
        2,
      ),
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

await main();
