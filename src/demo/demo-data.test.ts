import { sql, type RawBuilder } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { beijing, ZONE } from '../../test/support/fixtures.js';
import { addDays } from '../billing/days.js';
import type { Db } from '../db/database.js';
import { detectResourceChanges } from '../monitoring/detect-resource-changes.js';
import { billDemoHistory, isEmptyForDemoData, loadDemoData, type DemoSummary } from './demo-data.js';

const backends = await availableBackends();

const NOW = beijing('2026-05-20T10:30:00');
const SEED = 7;

async function rowsOf<Row>(db: Db, query: RawBuilder<Row>): Promise<Row[]> {
  return (await query.execute(db)).rows;
}

async function countOf(
  db: Db,
  table: 'tenants' | 'information_systems' | 'virtual_machines',
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Logs whose totals before differ from the previous log's totals after (0 for a system's first log). */
function brokenTotalChains(db: Db) {
  return rowsOf(
    db,
    sql<{ id: string; information_system_id: number }>`
      WITH ordered AS (
        SELECT
          a.id, a.information_system_id,
          a.total_cpu_before, a.total_memory_before, a.total_storage_before,
          lag(a.total_cpu_after, 1, 0) OVER w AS previous_cpu,
          lag(a.total_memory_after, 1, 0::numeric) OVER w AS previous_memory,
          lag(a.total_storage_after, 1, 0::numeric) OVER w AS previous_storage
        FROM resource_adjustment_logs a
        WINDOW w AS (PARTITION BY a.information_system_id ORDER BY a.detected_at, a.id)
      )
      SELECT id, information_system_id FROM ordered
      WHERE (total_cpu_before, total_memory_before, total_storage_before)
        IS DISTINCT FROM (previous_cpu, previous_memory, previous_storage)`,
  );
}

/** Systems whose current totals differ from their last log's totals after (0 without logs). */
function totalsOffTheirLastLog(db: Db) {
  return rowsOf(
    db,
    sql<{ code: string }>`
      SELECT s.code
      FROM information_systems s
      LEFT JOIN LATERAL (
        SELECT a.total_cpu_after, a.total_memory_after, a.total_storage_after
        FROM resource_adjustment_logs a
        WHERE a.information_system_id = s.id
        ORDER BY a.detected_at DESC, a.id DESC
        LIMIT 1
      ) last ON TRUE
      WHERE (s.total_cpu, s.total_memory, s.total_storage) IS DISTINCT FROM
        (COALESCE(last.total_cpu_after, 0), COALESCE(last.total_memory_after, 0),
         COALESCE(last.total_storage_after, 0))`,
  );
}

/** Systems whose totals differ from the sum of the VMs recorded in them. */
function totalsOffTheirVms(db: Db) {
  return rowsOf(
    db,
    sql<{ code: string }>`
      SELECT s.code
      FROM information_systems s
      LEFT JOIN (
        SELECT information_system_id, sum(recorded_cpu) AS cpu, sum(recorded_memory) AS memory,
               sum(recorded_storage) AS storage
        FROM virtual_machines
        WHERE information_system_id IS NOT NULL
        GROUP BY information_system_id
      ) vm ON vm.information_system_id = s.id
      WHERE (s.total_cpu, s.total_memory, s.total_storage) IS DISTINCT FROM
        (COALESCE(vm.cpu, 0), COALESCE(vm.memory, 0), COALESCE(vm.storage, 0))`,
  );
}

/** Logs whose change of the system's totals does not match the VM change they record. */
function logsWithWrongDeltas(db: Db) {
  return rowsOf(
    db,
    sql<{ id: string; change_type: string }>`
      WITH deltas AS (
        SELECT a.*,
          (a.total_cpu_after - a.total_cpu_before, a.total_memory_after - a.total_memory_before,
           a.total_storage_after - a.total_storage_before) AS delta
        FROM resource_adjustment_logs a
      )
      SELECT id, change_type FROM deltas
      WHERE NOT COALESCE(CASE change_type
        WHEN 'vm_added' THEN virtual_machine_id IS NOT NULL
          AND delta = (cpu_after, memory_after, storage_after)
        WHEN 'vm_removed' THEN virtual_machine_id IS NOT NULL
          AND delta = (-cpu_before, -memory_before, -storage_before)
        WHEN 'vm_resized' THEN virtual_machine_id IS NOT NULL
          AND delta = (cpu_after - cpu_before, memory_after - memory_before, storage_after - storage_before)
          AND (cpu_before, memory_before, storage_before) <> (cpu_after, memory_after, storage_after)
        WHEN 'vm_reassigned' THEN virtual_machine_id IS NOT NULL
          AND delta IN ((cpu_after, memory_after, storage_after), (-cpu_before, -memory_before, -storage_before))
        WHEN 'run_mode_changed' THEN virtual_machine_id IS NULL
          AND delta = (0, 0::numeric, 0::numeric)
          AND run_mode_before <> run_mode_after
      END, FALSE)`,
  );
}

/** Reassignments that are not one leaving and one joining log in two systems of one tenant. */
function unpairedReassignments(db: Db) {
  return rowsOf(
    db,
    sql<{ virtual_machine_id: number }>`
      SELECT a.virtual_machine_id
      FROM resource_adjustment_logs a
      JOIN information_systems s ON s.id = a.information_system_id
      WHERE a.change_type = 'vm_reassigned'
      GROUP BY a.virtual_machine_id, a.detected_at
      HAVING count(*) <> 2 OR count(DISTINCT s.id) <> 2 OR count(DISTINCT s.tenant_id) <> 1
        OR sum(a.total_cpu_after - a.total_cpu_before) <> 0`,
  );
}

/** run_mode_changed logs that break their system's chain of run modes or end off its current run mode. */
function brokenRunModeChains(db: Db) {
  return rowsOf(
    db,
    sql<{ id: string }>`
      WITH ordered AS (
        SELECT a.id, a.information_system_id, a.run_mode_before, a.run_mode_after,
          lag(a.run_mode_after) OVER w AS previous_after,
          lead(a.id) OVER w AS next_id
        FROM resource_adjustment_logs a
        WHERE a.change_type = 'run_mode_changed'
        WINDOW w AS (PARTITION BY a.information_system_id ORDER BY a.detected_at, a.id)
      )
      SELECT o.id
      FROM ordered o
      JOIN information_systems s ON s.id = o.information_system_id
      WHERE o.run_mode_before = o.run_mode_after
         OR o.run_mode_before <> o.previous_after
         OR (o.next_id IS NULL AND o.run_mode_after <> s.run_mode)`,
  );
}

/** Discount changes that break their tenant's chain of rates or end off its current rate. */
function brokenDiscountChains(db: Db) {
  return rowsOf(
    db,
    sql<{ id: string }>`
      WITH ordered AS (
        SELECT c.id, c.tenant_id, c.discount_rate_before, c.discount_rate_after,
          lag(c.discount_rate_after) OVER w AS previous_after,
          lead(c.id) OVER w AS next_id
        FROM tenant_discount_changes c
        WINDOW w AS (PARTITION BY c.tenant_id ORDER BY c.changed_at, c.id)
      )
      SELECT o.id
      FROM ordered o
      JOIN tenants t ON t.id = o.tenant_id
      WHERE o.discount_rate_before = o.discount_rate_after
         OR o.discount_rate_before <> o.previous_after
         OR (o.next_id IS NULL AND o.discount_rate_after <> t.discount_rate)`,
  );
}

/** Logs and discount changes whose effective_date is not the local day after the change. */
function wrongEffectiveDates(db: Db) {
  return rowsOf(
    db,
    sql<{ id: string }>`
      SELECT id FROM resource_adjustment_logs
      WHERE effective_date <> (detected_at AT TIME ZONE ${ZONE})::date + 1
      UNION ALL
      SELECT id FROM tenant_discount_changes
      WHERE effective_date <> (changed_at AT TIME ZONE ${ZONE})::date + 1`,
  );
}

/** Logs detected outside their system's lifetime (at or before creation, at or after decommissioning). */
function logsOutsideSystemLifetime(db: Db) {
  return rowsOf(
    db,
    sql<{ id: string }>`
      SELECT a.id
      FROM resource_adjustment_logs a
      JOIN information_systems s ON s.id = a.information_system_id
      WHERE a.detected_at <= s.created_at OR a.detected_at >= s.decommissioned_at`,
  );
}

/** VMs whose baseline (system, recorded size) differs from their observation, or deleted VMs still in a system. */
function undetectedVms(db: Db) {
  return rowsOf(
    db,
    sql<{ external_id: string }>`
      SELECT external_id
      FROM virtual_machines
      WHERE (status = 'deleted' AND information_system_id IS NOT NULL)
         OR (status <> 'deleted' AND (
              information_system_id IS NULL
              OR information_system_id IS DISTINCT FROM observed_system_id
              OR (recorded_cpu, recorded_memory, recorded_storage)
                 IS DISTINCT FROM (observed_cpu, observed_memory, observed_storage)))`,
  );
}

/** Returns the latest timestamp anywhere in the demo data. */
async function latestTimestamp(db: Db): Promise<Date> {
  const [row] = await rowsOf(
    db,
    sql<{ latest: Date }>`
      SELECT greatest(
        (SELECT max(created_at) FROM tenants),
        (SELECT max(greatest(created_at, decommissioned_at)) FROM information_systems),
        (SELECT max(greatest(created_at, updated_at, last_synced_at)) FROM virtual_machines),
        (SELECT max(detected_at) FROM resource_adjustment_logs),
        (SELECT max(changed_at) FROM tenant_discount_changes)) AS latest`,
  );
  return new Date(row!.latest);
}

describe.each(backends)('demo data on %s', (backend) => {
  let database: TestDatabase;
  let summary: DemoSummary;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    summary = await loadDemoData(database.db, { now: NOW, timezone: ZONE, seed: SEED });
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('loads 20 tenants, 150 systems and 1000 VMs', async () => {
    expect(await countOf(database.db, 'tenants')).toBe(20);
    expect(await countOf(database.db, 'information_systems')).toBe(150);
    expect(await countOf(database.db, 'virtual_machines')).toBe(1000);

    const [logs] = await rowsOf(
      database.db,
      sql<{ adjustments: string; discount_changes: string }>`
        SELECT (SELECT count(*) FROM resource_adjustment_logs) AS adjustments,
               (SELECT count(*) FROM tenant_discount_changes) AS discount_changes`,
    );
    expect(summary).toEqual({
      tenants: 20,
      systems: 150,
      vms: 1000,
      adjustments: Number(logs!.adjustments),
      discount_changes: Number(logs!.discount_changes),
      first_day: '2026-03-21',
    });
  });

  it('uses both run modes, mostly 7x24', async () => {
    const rows = await database.db
      .selectFrom('information_systems')
      .select(['run_mode', (eb) => eb.fn.countAll<string>().as('count')])
      .groupBy('run_mode')
      .execute();
    const counts = Object.fromEntries(rows.map((row) => [row.run_mode, Number(row.count)]));

    expect(counts['5x8']).toBeGreaterThan(0);
    expect(counts['7x24']).toBeGreaterThan(counts['5x8']!);
  });

  it("chains each system's totals from zero", async () => {
    expect(await brokenTotalChains(database.db)).toEqual([]);
  });

  it("ends each chain at the system's current totals", async () => {
    expect(await totalsOffTheirLastLog(database.db)).toEqual([]);
  });

  it('keeps system totals equal to their VMs', async () => {
    expect(await totalsOffTheirVms(database.db)).toEqual([]);
  });

  it("moves totals by each log's own change", async () => {
    expect(await logsWithWrongDeltas(database.db)).toEqual([]);
    expect(await unpairedReassignments(database.db)).toEqual([]);
  });

  it('chains run modes to the current run mode', async () => {
    expect(await brokenRunModeChains(database.db)).toEqual([]);
  });

  it('chains discount changes to the current rate', async () => {
    expect(await brokenDiscountChains(database.db)).toEqual([]);
  });

  it('sets effective_date to the next local day', async () => {
    expect(await wrongEffectiveDates(database.db)).toEqual([]);
  });

  it("keeps every change inside its system's lifetime", async () => {
    expect(await logsOutsideSystemLifetime(database.db)).toEqual([]);
  });

  it('keeps every timestamp before now', async () => {
    expect((await latestTimestamp(database.db)).getTime()).toBeLessThan(NOW.getTime());
  });

  it('records each VM baseline as detected', async () => {
    expect(await undetectedVms(database.db)).toEqual([]);
  });

  it('leaves nothing for detection to log', async () => {
    const before = await rowsOf(
      database.db,
      sql<{ count: string }>`SELECT count(*) FROM resource_adjustment_logs`,
    );

    const detection = await detectResourceChanges(database.db, { timezone: ZONE, now: NOW });

    expect(detection.changes).toBe(0);
    expect(detection.vms_changed).toBe(0);
    const after = await rowsOf(
      database.db,
      sql<{ count: string }>`SELECT count(*) FROM resource_adjustment_logs`,
    );
    expect(after).toEqual(before);
  });

  it('covers every kind of change', async () => {
    const changeTypes = await rowsOf(
      database.db,
      sql<{
        change_type: string;
      }>`SELECT DISTINCT change_type FROM resource_adjustment_logs ORDER BY change_type`,
    );
    expect(changeTypes.map((row) => row.change_type)).toEqual([
      'run_mode_changed',
      'vm_added',
      'vm_reassigned',
      'vm_removed',
      'vm_resized',
    ]);

    const statuses = await rowsOf(
      database.db,
      sql<{ status: string }>`SELECT DISTINCT status FROM virtual_machines ORDER BY status`,
    );
    expect(statuses.map((row) => row.status)).toEqual(['deleted', 'running', 'stopped']);

    const decommissioned = await database.db
      .selectFrom('information_systems')
      .select(['code', 'total_cpu', 'total_memory', 'total_storage'])
      .where('status', '=', 'decommissioned')
      .execute();
    expect(decommissioned).toHaveLength(2);
    for (const system of decommissioned) {
      expect(system, system.code).toMatchObject({ total_cpu: 0, total_memory: '0', total_storage: '0' });
    }

    const [withoutVms] = await rowsOf(
      database.db,
      sql<{ count: string }>`
        SELECT count(*) FROM information_systems s
        WHERE NOT EXISTS (SELECT 1 FROM resource_adjustment_logs a WHERE a.information_system_id = s.id)`,
    );
    expect(Number(withoutVms!.count)).toBe(1);
    expect(summary.discount_changes).toBeGreaterThan(0);
  });

  it('uses the common flavors, disks and names', async () => {
    const flavors = await rowsOf(
      database.db,
      sql<{ flavor: string }>`
        SELECT DISTINCT observed_cpu || 'c' || observed_memory || 'g' AS flavor FROM virtual_machines`,
    );
    expect(flavors.map((row) => row.flavor).sort()).toEqual(
      expect.arrayContaining(['2c4g', '4c8g', '8c16g', '16c32g', '16c64g']),
    );
    for (const { flavor } of flavors) {
      expect(['1c2g', '2c4g', '4c8g', '8c16g', '16c32g', '16c64g']).toContain(flavor);
    }

    const [outliers] = await rowsOf(
      database.db,
      sql<{ count: string }>`
        SELECT count(*) FROM virtual_machines
        WHERE provider <> 'local' OR external_id !~ '^vm-[0-9]{6}$'
           OR observed_storage < 40 OR observed_storage > 2000`,
    );
    expect(Number(outliers!.count)).toBe(0);

    const systemCodes = await database.db.selectFrom('information_systems').select('code').execute();
    for (const { code } of systemCodes) expect(code).toMatch(/^[a-z]+-[a-z0-9]+-\d{2}$/);
  });

  it('rejects a second load and keeps the first', async () => {
    await expect(loadDemoData(database.db, { now: NOW, timezone: ZONE, seed: SEED })).rejects.toMatchObject({
      code: 'demo_database_not_empty',
      parameters: { tenants: 20, systems: 150, vms: 1000 },
    });

    expect(await countOf(database.db, 'tenants')).toBe(20);
    expect(await countOf(database.db, 'information_systems')).toBe(150);
    expect(await countOf(database.db, 'virtual_machines')).toBe(1000);
  });

  it('bills one record per billable system and day', async () => {
    const billed = await billDemoHistory(database.db, { now: NOW, timezone: ZONE, chunkSize: 40 });

    const firstDay = addDays(summary.first_day, 1);
    const lastDay = '2026-05-19';
    expect(billed).toMatchObject({ days: 59, first_billed_day: firstDay, last_billed_day: lastDay });

    // Billable means created before the day's local midnight and not decommissioned before it.
    const [check] = await rowsOf(
      database.db,
      sql<{
        expected: string;
        records: string;
        missing: string;
        unexpected: string;
        duplicates: string;
        zero_amount: string;
        total: string;
      }>`
        WITH expected AS (
          SELECT s.id, d.day
          FROM information_systems s
          CROSS JOIN (
            SELECT day::date AS day FROM generate_series(${firstDay}::date, ${lastDay}::date, interval '1 day') day
          ) d
          WHERE s.created_at < (d.day::timestamp AT TIME ZONE ${ZONE})
            AND (s.decommissioned_at IS NULL OR s.decommissioned_at >= (d.day::timestamp AT TIME ZONE ${ZONE}))
        )
        SELECT
          (SELECT count(*) FROM expected) AS expected,
          (SELECT count(*) FROM billing_records) AS records,
          (SELECT count(*) FROM expected e
             LEFT JOIN billing_records r ON r.information_system_id = e.id AND r.billing_date = e.day
             WHERE r.id IS NULL) AS missing,
          (SELECT count(*) FROM billing_records r
             LEFT JOIN expected e ON e.id = r.information_system_id AND e.day = r.billing_date
             WHERE e.id IS NULL) AS unexpected,
          (SELECT count(*) FROM (
             SELECT 1 FROM billing_records GROUP BY information_system_id, billing_date HAVING count(*) > 1
           ) repeated) AS duplicates,
          (SELECT count(*) FROM billing_records WHERE amount = 0) AS zero_amount,
          (SELECT sum(amount) FROM billing_records) AS total`,
    );

    expect(Number(check!.missing)).toBe(0);
    expect(Number(check!.unexpected)).toBe(0);
    expect(Number(check!.duplicates)).toBe(0);
    expect(Number(check!.records)).toBe(Number(check!.expected));
    expect(billed.records).toBe(Number(check!.records));
    expect(billed.total_amount).toBe(check!.total);
    // The system that awaits its VMs is billed at zero from the day after its creation.
    expect(Number(check!.zero_amount)).toBeGreaterThan(0);

    const again = await billDemoHistory(database.db, { now: NOW, timezone: ZONE, chunkSize: 40 });
    expect(again).toMatchObject({ days: 59, records: 0, total_amount: '0.00' });
  });
});

describe('demo data options', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('bills nothing in an empty database', async () => {
    expect(await billDemoHistory(database.db, { now: NOW, timezone: ZONE, chunkSize: 40 })).toEqual({
      days: 0,
      records: 0,
      total_amount: '0.00',
      first_billed_day: null,
      last_billed_day: null,
    });
  });

  it('rejects a database with only tenants', async () => {
    const rollback = new Error('roll back the test tenant');

    const attempt = database.db.transaction().execute(async (trx) => {
      await trx.insertInto('tenants').values({ code: 'own', name: '自建租户', discount_rate: '1' }).execute();
      expect(await isEmptyForDemoData(trx)).toBe(false);
      await expect(loadDemoData(trx, { now: NOW, timezone: ZONE })).rejects.toMatchObject({
        code: 'demo_database_not_empty',
        parameters: { tenants: 1, systems: 0, vms: 0 },
      });
      throw rollback;
    });

    await expect(attempt).rejects.toBe(rollback);
    expect(await isEmptyForDemoData(database.db)).toBe(true);
  });

  it('rejects a history shorter than a week', async () => {
    await expect(
      loadDemoData(database.db, { now: NOW, timezone: ZONE, historyDays: 6 }),
    ).rejects.toMatchObject({ code: 'invalid_history_days', parameters: { value: '6', min: 7 } });
    expect(await countOf(database.db, 'information_systems')).toBe(0);
  });

  it('keeps every invariant with a one-week history', async () => {
    const now = beijing('2026-01-05T00:20:00');
    const loaded = await loadDemoData(database.db, { now, timezone: ZONE, historyDays: 7, seed: 3 });

    expect(loaded.first_day).toBe('2025-12-29');
    expect(await isEmptyForDemoData(database.db)).toBe(false);
    expect(await brokenTotalChains(database.db)).toEqual([]);
    expect(await totalsOffTheirLastLog(database.db)).toEqual([]);
    expect(await totalsOffTheirVms(database.db)).toEqual([]);
    expect(await logsWithWrongDeltas(database.db)).toEqual([]);
    expect(await unpairedReassignments(database.db)).toEqual([]);
    expect(await brokenRunModeChains(database.db)).toEqual([]);
    expect(await brokenDiscountChains(database.db)).toEqual([]);
    expect(await wrongEffectiveDates(database.db)).toEqual([]);
    expect(await logsOutsideSystemLifetime(database.db)).toEqual([]);
    expect(await undetectedVms(database.db)).toEqual([]);
    expect((await latestTimestamp(database.db)).getTime()).toBeLessThan(now.getTime());
  });
});
