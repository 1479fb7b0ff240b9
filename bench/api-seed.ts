import { sql } from 'kysely';

import { addDays } from '../src/billing/days.js';
import { BILLED_HOURS } from '../src/billing/pricing.js';
import type { Db } from '../src/db/database.js';
import { detectResourceChanges } from '../src/monitoring/detect-resource-changes.js';
import { seedInventory, timelineFor, type InventoryCounts } from './seed.js';

/**
 * Seeding of the API benchmark. The inventory is the billing benchmark's
 * (50 systems per tenant, 3 to 7 VMs per system), recorded by a real
 * detection run. Billing records, one per system and day up to yesterday, are
 * written straight into billing_records with INSERT … SELECT over
 * generate_series.
 */

export interface BillingHistory {
  inventory: InventoryCounts;
  firstDay: string;
  lastDay: string;
  records: number;
  adjustmentLogs: number;
}

/** Days of records per INSERT statement, so that progress shows and no statement runs for many minutes. */
const DAYS_PER_STATEMENT = 30;

/**
 * Seeds `systems` information systems and their records for the `days` days
 * before `today`. Systems are created two days before the first billed day
 * and keep their configuration, so every record of a system has the same
 * sizes and amounts. The amounts follow the rules of daily billing. Expects an
 * empty, migrated database. `onProgress` receives a line per statement.
 */
export async function seedBillingHistory(
  db: Db,
  options: { systems: number; days: number; today: string; timezone: string },
  onProgress: (message: string) => void,
): Promise<BillingHistory> {
  const { systems, days, today, timezone } = options;
  const firstDay = addDays(today, -days);
  const lastDay = addDays(today, -1);
  const timeline = timelineFor(firstDay, timezone);

  const inventory = await seedInventory(db, systems, timeline);
  onProgress(
    `seeded ${inventory.tenants} tenants, ${inventory.systems} systems, ${inventory.virtualMachines} VMs`,
  );
  const detection = await detectResourceChanges(db, { timezone, now: timeline.detectedAt });
  onProgress(`detection logged ${detection.changes} changes`);

  let records = 0;
  for (let from = firstDay; from <= lastDay; from = addDays(from, DAYS_PER_STATEMENT)) {
    const end = addDays(from, DAYS_PER_STATEMENT - 1);
    const to = end < lastDay ? end : lastDay;
    records += await insertRecords(db, from, to, timezone);
    onProgress(`billing records up to ${to}: ${records}`);
  }
  await insertBillingDays(db, firstDay, lastDay, timezone);

  return { inventory, firstDay, lastDay, records, adjustmentLogs: detection.changes };
}

/**
 * Inserts one record per system and day from `from` to `to`, both included.
 * Rows go in the order daily billing writes them (day by day, systems by id
 * within a day), so a system's records lie on different heap pages, as in a
 * real database.
 */
async function insertRecords(db: Db, from: string, to: string, timezone: string): Promise<number> {
  const hoursByRunMode = sql.join(
    Object.entries(BILLED_HOURS).map(([runMode, hours]) => sql`WHEN ${runMode} THEN ${hours}::integer`),
    sql` `,
  );

  const result = await sql`
    INSERT INTO billing_records (
      information_system_id, tenant_id, billing_date, run_mode, billed_hours,
      cpu, memory, storage, price_version_id, cpu_price, memory_price, storage_price,
      cpu_amount, memory_amount, storage_amount, gross_amount, discount_rate, amount,
      created_at)
    SELECT
      s.id, s.tenant_id, d.day, s.run_mode, h.hours,
      s.total_cpu, s.total_memory, s.total_storage, p.id, p.cpu_price, p.memory_price, p.storage_price,
      a.cpu_amount, a.memory_amount, a.storage_amount, a.gross_amount, t.discount_rate,
      round(a.gross_amount * t.discount_rate, 2),
      -- Billed at 00:10 of the next day, when the scheduled billing task runs.
      ((d.day + 1)::timestamp + interval '10 minutes') AT TIME ZONE ${timezone}
    FROM generate_series(${from}::date, ${to}::date, interval '1 day') AS g (day)
    CROSS JOIN LATERAL (SELECT g.day::date AS day) AS d
    CROSS JOIN information_systems s
    JOIN tenants t ON t.id = s.tenant_id
    CROSS JOIN LATERAL (
      SELECT * FROM price_versions WHERE effective_from <= d.day ORDER BY effective_from DESC LIMIT 1
    ) AS p
    CROSS JOIN LATERAL (SELECT CASE s.run_mode ${hoursByRunMode} END AS hours) AS h
    CROSS JOIN LATERAL (
      SELECT
        s.total_cpu * p.cpu_price * h.hours AS cpu_amount,
        s.total_memory * p.memory_price * h.hours AS memory_amount,
        s.total_storage * p.storage_price * h.hours AS storage_amount,
        s.total_cpu * p.cpu_price * h.hours + s.total_memory * p.memory_price * h.hours
          + s.total_storage * p.storage_price * h.hours AS gross_amount
    ) AS a
    ORDER BY d.day, s.id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Marks every seeded day as billed, as a finished billing run would. */
async function insertBillingDays(db: Db, from: string, to: string, timezone: string): Promise<void> {
  await sql`
    INSERT INTO billing_days (billing_date, record_count, total_amount, completed_at)
    SELECT
      billing_date, count(*), sum(amount),
      ((billing_date + 1)::timestamp + interval '10 minutes') AT TIME ZONE ${timezone}
    FROM billing_records
    WHERE billing_date BETWEEN ${from}::date AND ${to}::date
    GROUP BY billing_date`.execute(db);
}
