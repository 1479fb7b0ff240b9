import { sql } from 'kysely';

import type { Db } from '../src/db/database.js';

/**
 * The floor for daily billing: one plain INSERT … SELECT from generate_series of
 * as many rows as billing writes. The scratch table is created with CREATE TABLE
 * … LIKE billing_records, which copies column names, types, NOT NULL,
 * defaults and, when asked, the indexes, but no foreign key or check. The
 * values have the sizes and decimal scales of real billing records and use the
 * same numeric arithmetic, so the floor is the least that writing these rows
 * costs.
 */

export const FLOOR_TABLE = 'bench_floor';

/**
 * Scratch table constraints: `none`, billing_records' primary key, unique key
 * and indexes (`indexes`), or those and its foreign keys too (`foreign-keys`).
 */
export type FloorConstraints = 'none' | 'indexes' | 'foreign-keys';

/** Creates an empty scratch table with the given constraints of billing_records. */
export async function createFloorTable(db: Db, constraints: FloorConstraints): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${sql.table(FLOOR_TABLE)}`.execute(db);
  // INCLUDING INDEXES copies the primary key, the unique key and every index
  // as the migrations left them, INCLUDE columns too.
  const indexes = constraints === 'none' ? sql`` : sql` INCLUDING INDEXES`;
  await sql`
    CREATE TABLE ${sql.table(FLOOR_TABLE)} (
      LIKE billing_records INCLUDING DEFAULTS INCLUDING IDENTITY${indexes})`.execute(db);
  if (constraints !== 'foreign-keys') return;

  await sql`
    ALTER TABLE ${sql.table(FLOOR_TABLE)}
      ADD FOREIGN KEY (information_system_id) REFERENCES information_systems (id),
      ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id),
      ADD FOREIGN KEY (price_version_id) REFERENCES price_versions (id),
      ADD FOREIGN KEY (task_run_id) REFERENCES task_runs (id)`.execute(db);
}

/**
 * Inserts `rows` billing-record-shaped rows for `day` and returns the number
 * inserted. The system ids 1..rows, tenant ids 1..tenants and price version 1
 * must exist when the table has foreign keys, as they do in the seeded database.
 */
export async function insertFloorRows(db: Db, rows: number, tenants: number, day: string): Promise<number> {
  const result = await sql`
    INSERT INTO ${sql.table(FLOOR_TABLE)} (
      information_system_id, tenant_id, billing_date, run_mode, billed_hours, cpu, memory, storage,
      price_version_id, cpu_price, memory_price, storage_price, cpu_amount, memory_amount, storage_amount,
      gross_amount, discount_rate, amount, task_run_id)
    SELECT
      v.i, 1 + v.i % ${tenants}::integer, ${day}::date, v.run_mode, v.hours, v.cpu, v.memory, v.storage,
      1, 0.100000, 0.050000, 0.010000,
      v.cpu * 0.100000 * v.hours, v.memory * 0.050000 * v.hours, v.storage * 0.010000 * v.hours,
      (v.cpu * 0.100000 + v.memory * 0.050000 + v.storage * 0.010000) * v.hours,
      0.9000,
      round((v.cpu * 0.100000 + v.memory * 0.050000 + v.storage * 0.010000) * v.hours * 0.9000, 2),
      NULL
    FROM (
      SELECT
        i,
        CASE WHEN i % 4 = 0 THEN '5x8' ELSE '7x24' END AS run_mode,
        CASE WHEN i % 4 = 0 THEN 8 ELSE 24 END AS hours,
        20 + i % 32 AS cpu,
        (40 + i % 128)::numeric AS memory,
        (900 + i % 1500)::numeric AS storage
      FROM generate_series(1, ${rows}::integer) AS i
    ) AS v`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export async function dropFloorTable(db: Db): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${sql.table(FLOOR_TABLE)}`.execute(db);
}
