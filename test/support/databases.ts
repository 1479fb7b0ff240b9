import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { migrate, openDatabase, type DatabaseHandle } from '../../src/db/database.js';

/**
 * Test databases: a fresh in-memory PGlite, and a fresh database on the local
 * PostgreSQL server (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 * When PostgreSQL does not answer, its tests are skipped, unless
 * CLOUD_PLATFORM_REQUIRE_SERVICES=1 (set by CI), which turns that into a failure.
 */

export type Backend = 'pglite' | 'postgres';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const requireServices = process.env.CLOUD_PLATFORM_REQUIRE_SERVICES === '1';

let postgresReachable: boolean | undefined;

export async function isPostgresReachable(): Promise<boolean> {
  if (postgresReachable !== undefined) return postgresReachable;
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    postgresReachable = true;
  } catch (error) {
    if (requireServices) {
      throw new Error(
        `PostgreSQL at ${ADMIN_URL} is required (CLOUD_PLATFORM_REQUIRE_SERVICES=1) but failed: ${String(error)}`,
      );
    }
    postgresReachable = false;
  } finally {
    await client.end().catch(() => undefined);
  }
  return postgresReachable;
}

/** The backends to run a suite on: PGlite always, PostgreSQL when reachable or required. */
export async function availableBackends(): Promise<Backend[]> {
  return (await isPostgresReachable()) ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends DatabaseHandle {
  /** Connection string of the PostgreSQL test database; undefined on PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

/** Creates an empty, migrated database on `backend`. */
export async function createTestDatabase(
  backend: Backend,
  options: { poolSize?: number } = {},
): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const handle = await openDatabase({ dataDir: 'memory://' });
    await migrate(handle.db);
    return { ...handle, url: undefined, drop: () => handle.close() };
  }

  const name = `cloud_platform_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ databaseUrl: url.toString(), poolSize: options.poolSize ?? 10 });
  await migrate(handle.db);

  return {
    ...handle,
    url: url.toString(),
    drop: async () => {
      await handle.close();
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
