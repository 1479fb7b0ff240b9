import type { VmStatus } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { RejectedSourceRecord, type InventoryRecord } from './source.js';
import { parseCode, parseCpu, parseExternalId, parseName, parseSize } from './validation.js';

/** Validation of one VM record as an inventory source reports it. */

/**
 * Decimals accepted in a record's sizes. Connectors convert MiB and bytes to GB
 * (GiB) exactly, and one byte is 2^-30 GB, which takes 30 decimals.
 */
export const RECORD_SIZE_DECIMALS = 30;

const REPORTED_STATUSES: readonly VmStatus[] = [
  'running',
  'stopped',
  'suspended',
  'error',
  'deleted',
  'unknown',
];

/** Returns the record's external id when it is a valid one, else null. */
export function readExternalId(input: unknown): string | null {
  if (input instanceof RejectedSourceRecord) return input.externalId;
  if (!isObject(input) || typeof input.external_id !== 'string') return null;
  try {
    return parseExternalId(input.external_id);
  } catch {
    return null;
  }
}

/** Validates one record as documented in docs/inventory-file.md. Throws DomainError naming the first bad field. */
export function validateRecord(input: unknown): InventoryRecord {
  // A record that its source already rejected keeps the source's reason.
  if (input instanceof RejectedSourceRecord) throw input.error;
  if (!isObject(input)) throw new DomainError('inventory_record_not_object');

  const externalId = parseExternalId(requireText(input, 'external_id'), 'external_id');
  const name = parseName(requireText(input, 'name'), 'name', 255);
  const systemCode =
    input.system_code === undefined || input.system_code === null
      ? null
      : parseCode(requireText(input, 'system_code'), 'system_code');
  const cpu = parseCpu(requireValue(input, 'cpu'), 'cpu');
  const memory = parseSize(requireValue(input, 'memory_gb'), 'memory_gb', RECORD_SIZE_DECIMALS);
  const storage = parseSize(requireValue(input, 'storage_gb'), 'storage_gb', RECORD_SIZE_DECIMALS);
  const powerStatus = parsePowerStatus(requireText(input, 'power_status'));

  return {
    external_id: externalId,
    name,
    system_code: systemCode,
    cpu,
    memory_gb: memory,
    storage_gb: storage,
    power_status: powerStatus,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireValue(input: Record<string, unknown>, field: string): unknown {
  const value = input[field];
  if (value === undefined || value === null)
    throw new DomainError('inventory_field_missing', { field }, field);
  return value;
}

function requireText(input: Record<string, unknown>, field: string): string {
  const value = requireValue(input, field);
  if (typeof value !== 'string') {
    throw new DomainError('inventory_field_not_text', { field, value: JSON.stringify(value) }, field);
  }
  return value;
}

/** Parses a power state that a platform reports, in any letter case. Only sync itself sets `missing`. */
function parsePowerStatus(value: string): VmStatus {
  const status = value.trim().toLowerCase();
  const known = REPORTED_STATUSES.find((candidate) => candidate === status);
  if (known === undefined) throw new DomainError('invalid_power_status', { value }, 'power_status');
  return known;
}
