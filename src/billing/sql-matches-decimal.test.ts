import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { billDay } from './daily-billing.js';
import { computeDailyAmounts } from './pricing.js';

const backends = await availableBackends();
const CONFIGURATIONS = 10_000;
const DAY = '2026-02-01';

/** Writes `units` / 10^scale as exact decimal text, without floating point. */
function decimalText(units: number, scale: number): string {
  const digits = String(units).padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** A random system configuration with the input precisions the product accepts. */
const configuration = fc.record({
  runMode: fc.constantFrom('7x24' as const, '5x8' as const),
  cpu: fc.integer({ min: 0, max: 512 }),
  memory: fc.integer({ min: 0, max: 4_000_000 }).map((thousandths) => decimalText(thousandths, 3)),
  storage: fc.integer({ min: 0, max: 200_000_000 }).map((hundredths) => decimalText(hundredths, 2)),
  discountRate: fc.integer({ min: 1, max: 10_000 }).map((tenThousandths) => decimalText(tenThousandths, 4)),
});

describe.each(backends)('SQL billing equals decimal pricing on %s', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it(`agrees on ${CONFIGURATIONS} random configurations`, async () => {
    const samples = fc.sample(configuration, { numRuns: CONFIGURATIONS, seed: 20_261_204 });
    const prices = { cpuPrice: '0.123457', memoryPrice: '0.047001', storagePrice: '0.000913' };
    await database.db
      .insertInto('price_versions')
      .values({
        effective_from: '2026-01-01',
        cpu_price: prices.cpuPrice,
        memory_price: prices.memoryPrice,
        storage_price: prices.storagePrice,
      })
      .execute();

    // One tenant and one system per sample, with the totals set directly: this
    // test is about the arithmetic, not about how totals come to be.
    const rows = samples.map((sample, index) => ({ index, ...sample }));
    await sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          AS x(index integer, "runMode" text, cpu integer, memory numeric, storage numeric, "discountRate" numeric)
      ),
      tenants_created AS (
        INSERT INTO tenants (code, name, discount_rate, created_at)
        SELECT 't' || index, 'tenant ' || index, "discountRate", '2026-01-01T00:00:00Z' FROM input
        RETURNING id, code
      )
      INSERT INTO information_systems (tenant_id, code, name, run_mode, total_cpu, total_memory, total_storage, created_at)
      SELECT t.id, 's' || i.index, 'system ' || i.index, i."runMode", i.cpu, i.memory, i.storage, '2026-01-01T00:00:00Z'
      FROM input i JOIN tenants_created t ON t.code = 't' || i.index`.execute(database.db);

    await billDay(database.db, DAY, { timezone: 'Asia/Shanghai', chunkSize: 3000 });

    const records = await database.db
      .selectFrom('billing_records as br')
      .innerJoin('information_systems as s', 's.id', 'br.information_system_id')
      .select(['s.code', 'br.amount', 'br.gross_amount'])
      .execute();
    expect(records).toHaveLength(CONFIGURATIONS);

    const byCode = new Map(records.map((record) => [record.code, record]));
    const mismatches = rows.flatMap((row) => {
      const expected = computeDailyAmounts(row, prices);
      const actual = byCode.get(`s${row.index}`);
      const same =
        actual &&
        actual.amount === expected.amount.toFixed(2) &&
        expected.grossAmount.eq(actual.gross_amount);
      return same ? [] : [{ row, expected: expected.amount.toFixed(2), actual: actual?.amount }];
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});
