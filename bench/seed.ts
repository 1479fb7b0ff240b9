import { sql } from 'kysely';

import { addDays, dayStart } from '../src/billing/days.js';
import { BILLED_HOURS } from '../src/billing/pricing.js';
import type { Db } from '../src/db/database.js';
import { detectResourceChanges } from '../src/monitoring/detect-resource-changes.js';

/**
 * Set-based seeding of the benchmark inventory. Every statement is one
 * INSERT … SELECT or UPDATE over generate_series or the seeded tables, so
 * seeding a million systems takes a handful of statements.
 *
 * Timeline around the billed day D (all in the billing time zone):
 *  - D-2 09:00  tenants and systems are created;
 *  - D-1 11:00  the last sync observed every VM in its system, not yet recorded;
 *  - D-1 12:00  the timed detection records each VM as vm_added (effective D);
 *  - D 10:00 to 11:30  a few resizes, discount changes and run mode changes,
 *    which billing of D must ignore because they take effect on D+1.
 */

/** The day every benchmark script bills. */
export const BILLED_DAY = '2026-03-02';

const SYSTEMS_PER_TENANT = 50;

/**
 * Moduli that pick, during D, the systems with a resized VM (1 in 100), the
 * tenants with a new discount rate (1 in 50) and the systems with a new run
 * mode (1 in 200).
 */
const RESIZED_SYSTEM_MODULUS = 100;
const DISCOUNT_CHANGE_TENANT_MODULUS = 50;
const RUN_MODE_CHANGE_SYSTEM_MODULUS = 200;

const HOUR_MS = 3_600_000;

export interface Timeline {
  day: string;
  createdAt: Date;
  syncedAt: Date;
  detectedAt: Date;
  resizedAt: Date;
  discountChangedAt: Date;
  runModeChangedAt: Date;
}

export function timelineFor(day: string, timezone: string): Timeline {
  const at = (offsetDays: number, hours: number) =>
    new Date(dayStart(addDays(day, offsetDays), timezone).getTime() + hours * HOUR_MS);
  return {
    day,
    createdAt: at(-2, 9),
    syncedAt: at(-1, 11),
    detectedAt: at(-1, 12),
    resizedAt: at(0, 10),
    discountChangedAt: at(0, 11),
    runModeChangedAt: at(0, 11.5),
  };
}

export interface InventoryCounts {
  tenants: number;
  systems: number;
  virtualMachines: number;
}

/**
 * Inserts ceil(systems / 50) tenants, `systems` information systems (one in four
 * runs 5x8, the rest 7x24) and 3 to 7 VMs per system, 5 on average. Each VM is
 * observed in its system with a common flavour but not yet recorded, so the next
 * detection logs one vm_added per VM. Expects an empty, migrated database.
 */
export async function seedInventory(db: Db, systems: number, timeline: Timeline): Promise<InventoryCounts> {
  const tenants = Math.ceil(systems / SYSTEMS_PER_TENANT);

  await sql`
    INSERT INTO tenants (code, name, discount_rate, created_at)
    SELECT
      'BT' || lpad(i::text, 6, '0'),
      'Bench tenant ' || i,
      (ARRAY[1, 0.95, 0.9, 0.88, 0.85, 0.8]::numeric[])[1 + i % 6],
      ${timeline.createdAt}::timestamptz
    FROM generate_series(1, ${tenants}::integer) AS i`.execute(db);

  // Systems are spread round-robin over the tenants, 50 per tenant.
  await sql`
    INSERT INTO information_systems (tenant_id, code, name, run_mode, created_at)
    SELECT
      first_tenant.id + (i - 1) % ${tenants}::integer,
      'BS' || lpad(i::text, 7, '0'),
      'Bench system ' || i,
      CASE WHEN i % 4 = 0 THEN '5x8' ELSE '7x24' END,
      ${timeline.createdAt}::timestamptz
    FROM generate_series(1, ${systems}::integer) AS i
    CROSS JOIN (SELECT min(id) AS id FROM tenants) AS first_tenant`.execute(db);

  // Flavours as vCPU, memory GB and storage GB. A VM's flavour is a fixed
  // function of its system id and position, so every run seeds the same sizes.
  await sql`
    INSERT INTO virtual_machines (
      provider, external_id, name, observed_system_id,
      observed_cpu, observed_memory, observed_storage,
      status, last_synced_at, created_at, updated_at)
    SELECT
      CASE WHEN s.id % 3 = 0 THEN 'openstack' ELSE 'vsphere' END,
      'vm-' || s.id || '-' || k,
      s.code || '-vm' || k,
      s.id,
      f.cpu, f.memory, f.storage,
      CASE WHEN (s.id + k) % 10 = 0 THEN 'stopped' ELSE 'running' END,
      ${timeline.syncedAt}::timestamptz,
      ${timeline.createdAt}::timestamptz,
      ${timeline.syncedAt}::timestamptz
    FROM information_systems s
    CROSS JOIN LATERAL generate_series(1, 3 + s.id % 5) AS k
    JOIN (VALUES
      (0, 1, 2::numeric, 40::numeric), (1, 2, 4, 100), (2, 2, 8, 100), (3, 4, 8, 200),
      (4, 4, 16, 300), (5, 8, 16, 500), (6, 8, 32, 500), (7, 16, 64, 1000),
      (8, 1, 0.5, 20), (9, 32, 128, 2000)
    ) AS f (flavour, cpu, memory, storage) ON f.flavour = (s.id * 7 + k * 3) % 10`.execute(db);

  return {
    tenants: await countRows(db, 'tenants'),
    systems: await countRows(db, 'information_systems'),
    virtualMachines: await countRows(db, 'virtual_machines'),
  };
}

async function countRows(db: Db, table: 'tenants' | 'information_systems' | 'virtual_machines') {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Returns the number of billable systems and the sum of their amounts for `day`,
 * computed from the current totals, run modes and discounts in one aggregate.
 * Call it after the timed detection and before applyDayOfChanges, while the
 * current configuration is the one in force at D 00:00.
 */
export async function expectedDayTotal(db: Db, day: string): Promise<{ systems: number; amount: string }> {
  const hoursByRunMode = sql.join(
    Object.entries(BILLED_HOURS).map(([runMode, hours]) => sql`WHEN ${runMode} THEN ${hours}::integer`),
    sql` `,
  );
  const { rows } = await sql<{ systems: string; amount: string }>`
    SELECT
      count(*) AS systems,
      COALESCE(sum(round(
        (s.total_cpu * p.cpu_price + s.total_memory * p.memory_price + s.total_storage * p.storage_price)
          * CASE s.run_mode ${hoursByRunMode} END * t.discount_rate,
        2)), 0) AS amount
    FROM information_systems s
    JOIN tenants t ON t.id = s.tenant_id
    CROSS JOIN (
      SELECT * FROM price_versions WHERE effective_from <= ${day}::date ORDER BY effective_from DESC LIMIT 1
    ) AS p`.execute(db);
  const row = rows[0]!;
  return { systems: Number(row.systems), amount: row.amount };
}

export interface DayOfChanges {
  resizedVms: number;
  discountChanges: number;
  runModeChanges: number;
}

/**
 * Changes some configuration during D, which billing of D must ignore by reading
 * the values in force at D 00:00 from the change history. One VM is resized in
 * 1 % of systems (logged by a second, untimed detection), 2 % of tenants get a
 * 10 % lower discount rate, and 0.5 % of systems switch run mode.
 */
export async function applyDayOfChanges(db: Db, timeline: Timeline, timezone: string): Promise<DayOfChanges> {
  const effectiveDate = addDays(timeline.day, 1);

  await sql`
    UPDATE virtual_machines SET
      observed_cpu = observed_cpu + 2,
      observed_memory = observed_memory + 4,
      last_synced_at = ${timeline.resizedAt}::timestamptz,
      updated_at = ${timeline.resizedAt}::timestamptz
    WHERE observed_system_id % ${RESIZED_SYSTEM_MODULUS}::integer = 5
      AND external_id = 'vm-' || observed_system_id || '-1'`.execute(db);
  const detection = await detectResourceChanges(db, { timezone, now: timeline.resizedAt });

  const discount = await sql`
    WITH changed AS (
      UPDATE tenants new SET discount_rate = round(new.discount_rate * 0.9, 4)
      FROM tenants old
      WHERE new.id = old.id AND new.id % ${DISCOUNT_CHANGE_TENANT_MODULUS}::integer = 1
      RETURNING new.id, old.discount_rate AS before, new.discount_rate AS after
    )
    INSERT INTO tenant_discount_changes
      (tenant_id, discount_rate_before, discount_rate_after, changed_at, effective_date)
    SELECT id, before, after, ${timeline.discountChangedAt}::timestamptz, ${effectiveDate}::date
    FROM changed`.execute(db);

  const runMode = await sql`
    WITH changed AS (
      UPDATE information_systems new
      SET run_mode = CASE old.run_mode WHEN '7x24' THEN '5x8' ELSE '7x24' END
      FROM information_systems old
      WHERE new.id = old.id AND new.id % ${RUN_MODE_CHANGE_SYSTEM_MODULUS}::integer = 3
      RETURNING new.id, old.run_mode AS before, new.run_mode AS after,
        new.total_cpu, new.total_memory, new.total_storage
    )
    INSERT INTO resource_adjustment_logs (
      information_system_id, change_type, run_mode_before, run_mode_after,
      total_cpu_before, total_memory_before, total_storage_before,
      total_cpu_after, total_memory_after, total_storage_after,
      detected_at, effective_date)
    SELECT
      id, 'run_mode_changed', before, after,
      total_cpu, total_memory, total_storage,
      total_cpu, total_memory, total_storage,
      ${timeline.runModeChangedAt}::timestamptz, ${effectiveDate}::date
    FROM changed`.execute(db);

  return {
    resizedVms: detection.by_type.vm_resized ?? 0,
    discountChanges: Number(discount.numAffectedRows ?? 0),
    runModeChanges: Number(runMode.numAffectedRows ?? 0),
  };
}
