import { DateTime } from 'luxon';

/**
 * Billing days. Day D is [D 00:00, D+1 00:00) in the billing time zone, given
 * as an IANA zone name; days are ISO `YYYY-MM-DD` strings.
 */

export class InvalidDateError extends Error {
  override name = 'InvalidDateError';

  constructor(readonly value: string) {
    super(`invalid date "${value}": use a calendar date in the form YYYY-MM-DD, e.g. 2026-01-31`);
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Returns `value` if it is a real calendar date in `YYYY-MM-DD` form; throws InvalidDateError otherwise. */
export function parseDay(value: string): string {
  if (!ISO_DATE.test(value) || !DateTime.fromISO(value, { zone: 'UTC' }).isValid)
    throw new InvalidDateError(value);
  return value;
}

/** Returns the instant at which `day` starts in `zone` (local midnight, or the first valid instant on a DST gap). */
export function dayStart(day: string, zone: string): Date {
  return DateTime.fromISO(day, { zone }).startOf('day').toJSDate();
}

/** Returns the billing day that contains `instant` in `zone`. */
export function dayOf(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate()!;
}

export function addDays(day: string, count: number): string {
  return DateTime.fromISO(day, { zone: 'UTC' }).plus({ days: count }).toISODate()!;
}

/** Lists every day from `from` to `to`, both included; empty when `from` is after `to`. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}
