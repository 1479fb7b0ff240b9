import { sql } from 'kysely';

import type { DatabaseHandle } from '../db/database.js';

/**
 * Calls `body(true)` while holding the PostgreSQL session advisory lock `key`,
 * or `body(false)` when another session holds it. The lock lives on one pooled
 * connection for the whole call, so a process that dies releases it with its
 * connection. PGlite has one process (its data folder is locked), so there the
 * body always runs with `true`.
 */
export async function withTryAdvisoryLock<T>(
  database: DatabaseHandle,
  key: number,
  body: (locked: boolean) => Promise<T>,
): Promise<T> {
  if (database.kind !== 'postgres') return body(true);

  return database.db.connection().execute(async (connection) => {
    const { rows } = await sql<{
      locked: boolean;
    }>`SELECT pg_try_advisory_lock(${key}::bigint) AS locked`.execute(connection);
    if (!rows[0]?.locked) return body(false);
    try {
      return await body(true);
    } finally {
      await sql`SELECT pg_advisory_unlock(${key}::bigint)`.execute(connection);
    }
  });
}
