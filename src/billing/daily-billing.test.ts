import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { beijing, createSystem, ZONE } from '../../test/support/fixtures.js';
import { resizeLocalVm } from '../inventory/local-vms.js';
import { decommissionSystem, setSystemRunMode } from '../inventory/systems.js';
import { setTenantDiscount } from '../inventory/tenants.js';
import { billDay, findDaysToBill, rerateDay } from './daily-billing.js';

const backends = await availableBackends();

const WORKED_VALUES = [
  { runMode: '7x24', cpu: 4, memory: '8', storage: '100', discount: '1', amount: '43.20' },
  { runMode: '5x8', cpu: 4, memory: '8', storage: '100', discount: '0.8', amount: '11.52' },
  { runMode: '7x24', cpu: 2, memory: '3.5', storage: '50', discount: '0.85', amount: '17.85' },
  { runMode: '5x8', cpu: 1, memory: '0.5', storage: '20', discount: '0.88', amount: '2.29' },
  { runMode: '5x8', cpu: 1, memory: '1', storage: '0', discount: '0.8375', amount: '1.01' },
  { runMode: '5x8', cpu: 1, memory: '1', storage: '0', discount: '0.8875', amount: '1.07' },
] as const;

const options = { timezone: ZONE, chunkSize: 2 };

async function recordOf(database: TestDatabase, systemId: number, day: string) {
  return database.db
    .selectFrom('billing_records')
    .selectAll()
    .where('information_system_id', '=', systemId)
    .where('billing_date', '=', day)
    .executeTakeFirst();
}

describe.each(backends)('daily billing on %s', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('bills every worked value of the design exactly', async () => {
    const systems = [];
    for (const value of WORKED_VALUES) {
      systems.push(
        await createSystem(database.db, {
          at: beijing('2026-03-01T09:00:00'),
          runMode: value.runMode,
          discountRate: value.discount,
          cpu: value.cpu,
          memory: value.memory,
          storage: value.storage,
        }),
      );
    }

    await billDay(database.db, '2026-03-02', options);

    for (const [index, value] of WORKED_VALUES.entries()) {
      const record = await recordOf(database, systems[index]!.system.id, '2026-03-02');
      expect(record?.amount, `${JSON.stringify(value)}`).toBe(value.amount);
      expect(record?.billed_hours).toBe(value.runMode === '7x24' ? 24 : 8);
      expect(record?.currency).toBe('CNY');
    }
  });

  it('bills a resize detected at 15:00 on D from D+1', async () => {
    const { system, vmExternalId } = await createSystem(database.db, {
      at: beijing('2026-04-01T08:00:00'),
      runMode: '7x24',
      cpu: 4,
      memory: '8',
      storage: '100',
    });
    await resizeLocalVm(
      database.db,
      { external_id: vmExternalId, cpu: 8 },
      { timezone: ZONE, now: beijing('2026-04-05T15:00:00') },
    );

    await billDay(database.db, '2026-04-05', options);
    await billDay(database.db, '2026-04-06', options);

    const dayOfResize = await recordOf(database, system.id, '2026-04-05');
    const nextDay = await recordOf(database, system.id, '2026-04-06');
    expect(dayOfResize?.cpu).toBe(4);
    expect(dayOfResize?.amount).toBe('43.20');
    expect(nextDay?.cpu).toBe(8);
    expect(nextDay?.amount).toBe('52.80');
  });

  it('keeps D at the old size for a change detected at 00:05 on D+1', async () => {
    const { system, vmExternalId } = await createSystem(database.db, {
      at: beijing('2026-04-01T08:00:00'),
      runMode: '7x24',
      cpu: 4,
      memory: '8',
      storage: '100',
    });
    await resizeLocalVm(
      database.db,
      { external_id: vmExternalId, memory: '16' },
      { timezone: ZONE, now: beijing('2026-04-08T00:05:00') },
    );

    await billDay(database.db, '2026-04-07', options);
    await billDay(database.db, '2026-04-08', options);
    await billDay(database.db, '2026-04-09', options);

    expect((await recordOf(database, system.id, '2026-04-07'))?.memory).toBe('8');
    expect((await recordOf(database, system.id, '2026-04-08'))?.memory).toBe('8');
    expect((await recordOf(database, system.id, '2026-04-09'))?.memory).toBe('16');
  });

  it('bills a change detected exactly at midnight from that day on the next', async () => {
    const { system, vmExternalId } = await createSystem(database.db, {
      at: beijing('2026-04-01T08:00:00'),
      runMode: '7x24',
      cpu: 1,
    });
    await resizeLocalVm(
      database.db,
      { external_id: vmExternalId, cpu: 2 },
      { timezone: ZONE, now: beijing('2026-04-10T00:00:00') },
    );

    await billDay(database.db, '2026-04-10', options);
    await billDay(database.db, '2026-04-11', options);

    expect((await recordOf(database, system.id, '2026-04-10'))?.cpu).toBe(1);
    expect((await recordOf(database, system.id, '2026-04-11'))?.cpu).toBe(2);
  });

  it('does not bill a system created during D', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-05-03T00:00:00'),
      runMode: '7x24',
      cpu: 2,
    });

    await billDay(database.db, '2026-05-02', options);
    await billDay(database.db, '2026-05-03', options);
    await billDay(database.db, '2026-05-04', options);

    expect(await recordOf(database, system.id, '2026-05-02')).toBeUndefined();
    expect(await recordOf(database, system.id, '2026-05-03')).toBeUndefined();
    expect((await recordOf(database, system.id, '2026-05-04'))?.amount).toBe('4.80');
  });

  it('bills a system decommissioned during D for D only', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-05-01T10:00:00'),
      runMode: '7x24',
      cpu: 2,
    });
    await decommissionSystem(
      database.db,
      { code: system.code },
      { timezone: ZONE, now: beijing('2026-05-06T23:59:59') },
    );

    await billDay(database.db, '2026-05-06', options);
    await billDay(database.db, '2026-05-07', options);

    expect((await recordOf(database, system.id, '2026-05-06'))?.amount).toBe('4.80');
    expect(await recordOf(database, system.id, '2026-05-07')).toBeUndefined();
  });

  it('writes a zero-amount record for a system without resources', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-05-01T10:00:00'),
      runMode: '5x8',
    });

    await billDay(database.db, '2026-05-08', options);

    const record = await recordOf(database, system.id, '2026-05-08');
    expect(record?.amount).toBe('0.00');
    expect(record?.cpu).toBe(0);
  });

  it('applies run mode and discount changes from the next day', async () => {
    const { system, tenantCode } = await createSystem(database.db, {
      at: beijing('2026-06-01T10:00:00'),
      runMode: '7x24',
      discountRate: '1',
      cpu: 4,
      memory: '8',
      storage: '100',
    });
    const during = { timezone: ZONE, now: beijing('2026-06-03T11:00:00') };
    await setSystemRunMode(database.db, { code: system.code, run_mode: '5x8' }, during);
    await setTenantDiscount(database.db, { code: tenantCode, discount_rate: '0.8' }, during);

    await billDay(database.db, '2026-06-03', options);
    await billDay(database.db, '2026-06-04', options);

    const before = await recordOf(database, system.id, '2026-06-03');
    const after = await recordOf(database, system.id, '2026-06-04');
    expect(before?.run_mode).toBe('7x24');
    expect(before?.discount_rate).toBe('1.0000');
    expect(before?.amount).toBe('43.20');
    expect(after?.run_mode).toBe('5x8');
    expect(after?.discount_rate).toBe('0.8000');
    expect(after?.amount).toBe('11.52');
  });

  it('uses the price version in force on the day', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-07-01T10:00:00'),
      runMode: '7x24',
      cpu: 1,
    });
    await database.db
      .insertInto('price_versions')
      .values({ effective_from: '2026-07-05', cpu_price: '0.2', memory_price: '0.05', storage_price: '0.01' })
      .execute();

    await billDay(database.db, '2026-07-04', options);
    await billDay(database.db, '2026-07-05', options);

    expect((await recordOf(database, system.id, '2026-07-04'))?.amount).toBe('2.40');
    expect((await recordOf(database, system.id, '2026-07-05'))?.amount).toBe('4.80');
  });

  it('adds nothing on a second run for the same day', async () => {
    const first = await billDay(database.db, '2026-03-10', options);
    const second = await billDay(database.db, '2026-03-10', options);

    expect(first.recordsCreated).toBeGreaterThan(0);
    expect(second.recordsCreated).toBe(0);
    expect(second.recordsExisting).toBe(first.systemsBillable);
    expect(second.totalAmount).toBe(first.totalAmount);
  });

  it('completes a run aborted half-way without duplicates', async () => {
    const day = '2026-03-11';
    await expect(
      billDay(database.db, day, {
        ...options,
        afterChunk: () => {
          throw new Error('simulated crash after the first chunk');
        },
      }),
    ).rejects.toThrow('simulated crash');
    const partial = await database.db
      .selectFrom('billing_records')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('billing_date', '=', day)
      .executeTakeFirstOrThrow();
    expect(Number(partial.count)).toBe(2);

    const window = await findDaysToBill(database.db, beijing('2026-03-12T00:10:00'), {
      timezone: ZONE,
      catchUpDays: 31,
    });
    expect(window.days).toContain(day);

    const resumed = await billDay(database.db, day, options);
    const perSystem = await database.db
      .selectFrom('billing_records')
      .select(['information_system_id', (eb) => eb.fn.countAll<string>().as('count')])
      .where('billing_date', '=', day)
      .groupBy('information_system_id')
      .execute();
    expect(resumed.recordsCreated).toBe(resumed.systemsBillable - 2);
    expect(perSystem).toHaveLength(resumed.systemsBillable);
    expect(perSystem.every((row) => Number(row.count) === 1)).toBe(true);
  });

  it('re-rates a billed day and keeps the old and new amounts', async () => {
    const { system } = await createSystem(database.db, {
      at: beijing('2026-08-01T10:00:00'),
      runMode: '7x24',
      cpu: 1,
    });
    await billDay(database.db, '2026-08-10', options);
    // The 0.20 CNY/core-hour version from 2026-07-05 is in force.
    expect((await recordOf(database, system.id, '2026-08-10'))?.amount).toBe('4.80');

    await database.db
      .insertInto('price_versions')
      .values({ effective_from: '2026-08-09', cpu_price: '0.3', memory_price: '0.05', storage_price: '0.01' })
      .execute();
    const result = await rerateDay(database.db, '2026-08-10', { ...options, reason: 'price correction' });

    const record = await recordOf(database, system.id, '2026-08-10');
    expect(record?.amount).toBe('7.20');
    expect(record?.rerated_at).not.toBeNull();
    expect(result.recordsChanged).toBeGreaterThanOrEqual(1);
    const revision = await database.db
      .selectFrom('billing_record_revisions')
      .selectAll()
      .where('billing_record_id', '=', record!.id)
      .executeTakeFirstOrThrow();
    expect(revision.amount_before).toBe('4.80');
    expect(revision.amount_after).toBe('7.20');
    expect(revision.reason).toBe('price correction');

    const again = await rerateDay(database.db, '2026-08-10', { ...options, reason: 'no-op' });
    expect(again.recordsChanged).toBe(0);
  });
});
