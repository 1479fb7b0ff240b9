import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, isPostgresReachable, type TestDatabase } from '../../test/support/databases.js';

const reachable = await isPostgresReachable();

describe.skipIf(!reachable)('PostgreSQL connections', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    // One pooled connection, so every statement below runs on the same session.
    database = await createTestDatabase('postgres', { poolSize: 1 });
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function preparedStatements(): Promise<string[]> {
    const { rows } = await sql<{ statement: string }>`
      SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`.execute(database.db);
    return rows.map((row) => row.statement);
  }

  it('prepares statements with parameters once', async () => {
    const byCode = (code: string) =>
      database.db.selectFrom('tenants').select('id').where('code', '=', code).execute();
    await byCode('a');
    await byCode('b');

    const statements = (await preparedStatements()).filter((text) => text.includes('"tenants"'));
    expect(statements).toEqual(['select "id" from "tenants" where "code" = $1']);
  });

  it('returns prepared rows as pg returns object rows', async () => {
    const query = sql<Record<string, unknown>>`
      SELECT 1::int AS a, 2::int AS a, ${'x'}::text AS "__proto__", NULL::text AS empty`;
    const { rows } = await query.execute(database.db);

    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!)).toEqual(['a', '__proto__', 'empty']);
    expect(rows[0]!.a).toBe(2);
    expect(Object.getOwnPropertyDescriptor(rows[0], '__proto__')?.value).toBe('x');
    expect(rows[0]!.empty).toBeNull();
    expect((await preparedStatements()).some((text) => text.includes('AS "__proto__"'))).toBe(true);
  });

  it('runs statements without parameters unnamed', async () => {
    await sql`SELECT 'unprepared marker'`.execute(database.db);

    expect((await preparedStatements()).some((text) => text.includes('unprepared marker'))).toBe(false);
  });

  it.each(['UTC', 'Asia/Shanghai', 'America/St_Johns', 'Asia/Kathmandu', 'Europe/Amsterdam'])(
    'reads timestamptz values in the session time zone %s',
    async (zone) => {
      // Amsterdam's offset before 1937 was +00:19:32, which PostgreSQL prints with seconds.
      const instants = ['2026-01-04T00:10:00.123456Z', '2026-07-01T12:00:00Z', '1900-06-01T00:00:00.5Z'];
      await sql`SELECT set_config('TimeZone', ${zone}, false)`.execute(database.db);
      try {
        const { rows } = await sql<{ value: Date; text: string }>`
          SELECT t.value, t.value::text AS text
          FROM unnest(${instants}::timestamptz[]) AS t(value)`.execute(database.db);

        expect(rows.map((row) => row.value.toISOString())).toEqual([
          '2026-01-04T00:10:00.123Z',
          '2026-07-01T12:00:00.000Z',
          '1900-06-01T00:00:00.500Z',
        ]);
        if (zone === 'Europe/Amsterdam') expect(rows[2]!.text).toBe('1900-06-01 00:19:32.5+00:19:32');
      } finally {
        await sql`RESET TimeZone`.execute(database.db);
      }
    },
  );
});
