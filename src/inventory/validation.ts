import { Decimal } from 'decimal.js';

import { InvalidDateError, parseDay } from '../billing/days.js';
import type { RunMode } from '../db/schema.js';
import { DomainError } from '../errors.js';

/**
 * Parsers for user input (CLI arguments, API bodies, inventory records). Each
 * returns the normalized value or throws a DomainError that names the value.
 */

export const MAX_CPU = 4096;
/** Largest memory or storage size in GB accepted for one VM (1 PiB). */
export const MAX_SIZE_GB = 1_048_576;
const DECIMAL_TEXT = /^\d+(\.\d+)?$/;

/**
 * Returns a value as text for an error message. A NUL character (U+0000) is
 * spelled `\u0000`, because messages and their parameters are stored in
 * PostgreSQL (task run results), whose text and jsonb cannot hold it.
 */
function toText(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value.trim()
      : typeof value === 'number'
        ? String(value)
        : JSON.stringify(value);
  return text.replaceAll('\0', '\\u0000');
}

/** Throws when `text` contains U+0000, which PostgreSQL text cannot store. */
function rejectNul(text: string, field: string): void {
  if (text.includes('\0')) throw new DomainError('text_has_nul', { field }, field);
}

export function parseDiscountRate(value: unknown, field = 'discount_rate'): string {
  const text = toText(value);
  if (!DECIMAL_TEXT.test(text)) throw new DomainError('invalid_discount_rate', { value: text }, field);
  const rate = new Decimal(text);
  if (rate.lte(0) || rate.gt(1) || rate.decimalPlaces() > 4) {
    throw new DomainError('invalid_discount_rate', { value: text }, field);
  }
  return rate.toFixed(4);
}

export function parseRunMode(value: unknown, field = 'run_mode'): RunMode {
  if (value === '7x24' || value === '5x8') return value;
  throw new DomainError('invalid_run_mode', { value: toText(value) }, field);
}

const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseCode(value: unknown, field: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!CODE.test(text)) throw new DomainError('invalid_code', { field, value: toText(value) }, field);
  return text;
}

export function parseName(value: unknown, field: string, max = 200): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0 || text.length > max) throw new DomainError('invalid_name', { field, max }, field);
  rejectNul(text, field);
  return text;
}

export function parseExternalId(value: unknown, field = 'external_id'): string {
  let text = '';
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number') text = String(value);
  if (text.length === 0 || text.length > 255) {
    throw new DomainError('invalid_external_id', { value: toText(value) }, field);
  }
  rejectNul(text, field);
  return text;
}

export function parseCpu(value: unknown, field = 'cpu'): number {
  const text = toText(value);
  if (!/^\d+$/.test(text) || Number(text) > MAX_CPU) {
    throw new DomainError('invalid_cpu', { value: text, max: MAX_CPU }, field);
  }
  return Number(text);
}

/** Parses a size in GB with at most `maxDecimals` decimals (six for sizes people type). */
export function parseSize(value: unknown, field: string, maxDecimals = 6): string {
  const text = toText(value);
  const invalid = () =>
    new DomainError('invalid_size', { field, value: text, max: MAX_SIZE_GB, decimals: maxDecimals }, field);
  if (!DECIMAL_TEXT.test(text)) throw invalid();
  const size = new Decimal(text);
  if (size.gt(MAX_SIZE_GB) || size.decimalPlaces() > maxDecimals) throw invalid();
  return size.toFixed();
}

/** Parses a unit price in CNY with at most six decimals. */
export function parsePrice(value: unknown, field: string): string {
  const text = toText(value);
  if (!DECIMAL_TEXT.test(text) || new Decimal(text).decimalPlaces() > 6 || new Decimal(text).gte(1_000_000)) {
    throw new DomainError('invalid_price', { field, value: text }, field);
  }
  return new Decimal(text).toFixed();
}

export function parseDate(value: unknown, field = 'date'): string {
  try {
    return parseDay(toText(value).replace(/^"|"$/g, ''));
  } catch (error) {
    if (error instanceof InvalidDateError)
      throw new DomainError('invalid_date', { value: error.value }, field);
    throw error;
  }
}
