import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDatabase, type DatabaseHandle } from './database.js';
import { QueryTemplate, slot } from './query-template.js';
import type { Database } from './schema.js';

describe('QueryTemplate', () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openDatabase({ dataDir: 'memory://query-template' });
  });

  afterAll(async () => {
    await handle.close();
  });

  let builds = 0;
  const numbers = new QueryTemplate<Database, { below: boolean }, Record<string, unknown>, { n: number }>(
    (db, shape) => {
      builds += 1;
      let query = db
        .selectFrom(sql<{ n: number }>`generate_series(1, 10)`.as('s'))
        .select(sql<number>`s`.as('n'))
        .where(sql.ref('s'), '>=', slot<number>('from'));
      if (shape.below) query = query.where(sql.ref('s'), '<', slot<number>('to'));
      return query.orderBy('n').limit(slot<number>('limit'));
    },
  );

  it('fills the slots with each run’s values', async () => {
    const first = await numbers.execute(handle.db, { below: false }, { from: 3, limit: 2 });
    const second = await numbers.execute(handle.db, { below: false }, { from: 8, limit: 5 });

    expect(first.map((row) => Number(row.n))).toEqual([3, 4]);
    expect(second.map((row) => Number(row.n))).toEqual([8, 9, 10]);
  });

  it('compiles each shape once', async () => {
    const before = builds;

    const rows = await numbers.execute(handle.db, { below: true }, { from: 2, to: 4, limit: 10 });
    await numbers.execute(handle.db, { below: true }, { from: 5, to: 7, limit: 10 });

    expect(rows.map((row) => Number(row.n))).toEqual([2, 3]);
    expect(builds - before).toBe(1);
  });

  it('rejects a run without a slot’s value', async () => {
    await expect(numbers.execute(handle.db, { below: true }, { from: 2, limit: 10 })).rejects.toThrow(
      'QueryTemplate: missing value for the slot "to"',
    );
  });
});
