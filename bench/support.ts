import { InvalidArgumentError } from 'commander';
import { sql } from 'kysely';

import type { Db } from '../src/db/database.js';

/** Helpers shared by the benchmark scripts. */

export function parsePositiveInteger(value: string): number {
  const parsed = Number(value.trim().replaceAll('_', ''));
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`"${value}" is not a whole number of at least 1`);
  }
  return parsed;
}

export function parseNonNegativeInteger(value: string): number {
  const parsed = Number(value.trim().replaceAll('_', ''));
  if (!Number.isSafeInteger(parsed) || parsed < 0 || value.trim() === '') {
    throw new InvalidArgumentError(`"${value}" is not a whole number of at least 0`);
  }
  return parsed;
}

/** Parses a comma-separated list of chunk sizes, dropping repeats. */
export function parseChunkSizes(value: string): number[] {
  return [...new Set(value.split(',').map(parsePositiveInteger))];
}

/** Deletes every billing record and completed day, so the next billDay bills the day from scratch. */
export async function resetBilling(db: Db): Promise<void> {
  await sql`TRUNCATE billing_records, billing_record_revisions`.execute(db);
  await sql`DELETE FROM billing_days`.execute(db);
}

/** Flushes dirty pages before a timed phase, so it does not pay for the writes of the one before. */
export async function checkpoint(db: Db): Promise<void> {
  await sql`CHECKPOINT`.execute(db);
}
