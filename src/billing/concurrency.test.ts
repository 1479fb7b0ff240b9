import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, isPostgresReachable, type TestDatabase } from '../../test/support/databases.js';
import { beijing, createSystem, ZONE } from '../../test/support/fixtures.js';
import { openDatabase, type DatabaseHandle } from '../db/database.js';
import { billDay } from './daily-billing.js';

const postgres = await isPostgresReachable();

describe.runIf(postgres)('concurrent billing on postgres', () => {
  let database: TestDatabase;
  let secondProcess: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    // A second connection pool plays the part of a second worker process.
    secondProcess = await openDatabase({ databaseUrl: database.url });
    for (let index = 0; index < 60; index += 1) {
      await createSystem(database.db, {
        at: beijing('2026-09-01T10:00:00'),
        runMode: index % 2 ? '7x24' : '5x8',
        cpu: index % 7,
      });
    }
  });

  afterAll(async () => {
    await secondProcess?.close();
    await database?.drop();
  });

  it('leaves one record per system when two runs bill one day at once', async () => {
    const options = { timezone: ZONE, chunkSize: 7 };
    const [first, second] = await Promise.all([
      billDay(database.db, '2026-09-05', options),
      billDay(secondProcess.db, '2026-09-05', options),
    ]);

    expect(first.recordsCreated + second.recordsCreated).toBe(60);
    const perSystem = await database.db
      .selectFrom('billing_records')
      .select(['information_system_id', (eb) => eb.fn.countAll<string>().as('count')])
      .where('billing_date', '=', '2026-09-05')
      .groupBy('information_system_id')
      .execute();
    expect(perSystem).toHaveLength(60);
    expect(perSystem.filter((row) => row.count !== '1')).toEqual([]);
  });
});
