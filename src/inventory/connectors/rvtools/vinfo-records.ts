import { Decimal } from 'decimal.js';

import type { VmStatus } from '../../../db/schema.js';
import { DomainError } from '../../../errors.js';
import { RejectedSourceRecord, type InventoryPageItem } from '../../source.js';
import type { SystemMapping } from '../mapping.js';
import { resolveColumns, type VinfoColumns, type VinfoField } from './columns.js';
import type { SheetRow } from './sheet-reader.js';

/** Turns vInfo rows into inventory records: one per VM, templates and blank rows left out. */

/** Counts of the rows that yielded no record, kept per read for the import summary. */
export interface VinfoReadStats {
  /** Data rows after the header, blank ones between data rows included. */
  rows: number;
  templates_skipped: number;
  blank_rows: number;
  /** Header text of the column that storage_gb was read from. */
  disk_column: string | null;
}

export function emptyReadStats(): VinfoReadStats {
  return { rows: 0, templates_skipped: 0, blank_rows: 0, disk_column: null };
}

// 1 MiB is exactly 1/1024 GiB, and precision 60 keeps every quotient of a
// spreadsheet number exact, so sizes are never rounded.
const Exact = Decimal.clone({ precision: 60 });
const MIB_PER_GIB = 1024;

/** RVTools power states (vSphere's VirtualMachinePowerState) and the product's statuses. */
const POWER_STATES: Record<string, VmStatus> = {
  poweredon: 'running',
  poweredoff: 'stopped',
  suspended: 'suspended',
};

/** Converts the rows of a vInfo sheet, header first, to records. `stats` is filled as rows are read. */
export async function* vinfoRecords(
  rows: AsyncIterable<SheetRow>,
  file: string,
  mapping: SystemMapping,
  stats: VinfoReadStats,
): AsyncGenerator<InventoryPageItem> {
  let columns: VinfoColumns | undefined;
  let previousRow = 0;
  for await (const row of rows) {
    if (columns === undefined) {
      // Rows above the header (none in RVTools' own exports) are skipped.
      previousRow = row.rowNumber;
      if (isBlank(row.cells)) continue;
      columns = resolveColumns(row.cells, file);
      stats.disk_column = columns.diskHeader;
      continue;
    }

    // The XLSX reader skips empty rows, which show as gaps in the row numbers.
    const skipped = Math.max(0, row.rowNumber - previousRow - 1);
    previousRow = row.rowNumber;
    stats.rows += 1 + skipped;
    stats.blank_rows += skipped;
    if (isBlank(row.cells)) {
      stats.blank_rows += 1;
      continue;
    }
    const item = convertRow(row, columns, mapping);
    if (item === 'template') {
      stats.templates_skipped += 1;
      continue;
    }
    yield item;
  }
  if (columns === undefined) throw new DomainError('rvtools_empty_sheet', { file });
}

function isBlank(cells: readonly string[]): boolean {
  return cells.every((cell) => cell === '');
}

/** Returns the record of one data row, `template` for a template, or the row's rejection. */
function convertRow(
  row: SheetRow,
  columns: VinfoColumns,
  mapping: SystemMapping,
): InventoryPageItem | 'template' {
  const cell = (field: VinfoField): string => {
    const position = columns.positions[field];
    return position === undefined ? '' : (row.cells[position] ?? '');
  };
  const header = (field: VinfoField): string => columns.headers[columns.positions[field]!]!;
  const location = `vInfo row ${row.rowNumber}`;
  const name = cell('name');
  const externalId = externalIdOf(cell, name);

  try {
    if (parseBoolean(cell('template'), header('template'))) return 'template';
    return {
      external_id: externalId,
      name,
      system_code: mapping.systemFor({ name, cluster: cell('cluster'), folder: cell('folder') }),
      cpu: cell('cpus'),
      memory_gb: mibToGb(cell('memory'), header('memory'), row.decimalComma),
      storage_gb: mibToGb(cell(columns.disk), columns.diskHeader, row.decimalComma),
      power_status: powerStatus(cell('powerstate')),
      source_location: location,
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return new RejectedSourceRecord(error, externalId === '' ? null : externalId, location);
  }
}

/** The VM UUID where the sheet has one, else VI SDK UUID/VM ID, else the VM name. */
function externalIdOf(cell: (field: VinfoField) => string, name: string): string {
  const uuid = cell('vm_uuid');
  if (uuid !== '') return uuid;
  const sdkUuid = cell('sdk_uuid');
  const vmId = cell('vm_id');
  if (sdkUuid !== '' && vmId !== '') return `${sdkUuid}/${vmId}`;
  return name;
}

function parseBoolean(text: string, column: string): boolean {
  const value = text.toLowerCase();
  if (value === 'true' || value === 'yes' || value === '1') return true;
  if (value === 'false' || value === 'no' || value === '0' || value === '') return false;
  throw new DomainError('rvtools_invalid_template', { column, value: text }, 'template');
}

/** An unrecognized or empty power state becomes `unknown`, so the VM still counts. */
function powerStatus(text: string): VmStatus {
  return POWER_STATES[text.toLowerCase().replace(/[^a-z]/g, '')] ?? 'unknown';
}

/**
 * Converts a size in MiB to GB (GiB) as exact decimal text. `decimalComma`
 * accepts `1,5` for 1.5, as CSV files separated by `;` write it. Thousands
 * separators are rejected, because `1,024` would be ambiguous.
 */
export function mibToGb(text: string, column: string, decimalComma = false): string {
  const value = decimalComma ? text.replace(/^(\d+),(\d+)$/, '$1.$2') : text;
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new DomainError('rvtools_invalid_number', { column, value: text });
  }
  return new Exact(value).dividedBy(MIB_PER_GIB).toFixed();
}
