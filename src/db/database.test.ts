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

  it('runs statements without parameters unnamed', async () => {
    await sql`SELECT 'unprepared marker'`.execute(database.db);

    expect((await preparedStatements()).some((text) => text.includes('unprepared marker'))).toBe(false);
  });
});
