import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { sql } from 'kysely';
import pg from 'pg';

import { migrate, openDatabase, type DatabaseHandle } from '../src/db/database.js';

/** Fresh, migrated benchmark databases on PostgreSQL or PGlite, removed again by `drop`. */

export const BENCH_DATABASE_NAME = 'cloud_platform_bench';

export interface BenchDatabase extends DatabaseHandle {
  /** Location of the database: a connection string or a data folder. */
  location: string;
  /** Server settings and versions that affect the figures. */
  serverInfo: Record<string, string>;
  /** Closes the database and deletes it, unless `keep` was set when it was created. */
  drop(): Promise<void>;
}

async function withAdminClient<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function readServerInfo(handle: DatabaseHandle): Promise<Record<string, string>> {
  const { rows } = await sql<{ name: string; setting: string }>`
    SELECT name, setting || COALESCE(' ' || unit, '') AS setting FROM pg_settings
    WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'maintenance_work_mem',
                   'max_wal_size', 'synchronous_commit', 'fsync', 'jit')
    ORDER BY name`.execute(handle.db);
  return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
}

/**
 * Creates the database `name` (default `cloud_platform_bench`) on the server of
 * `adminUrl`, dropping a copy that an interrupted run left behind. `name` is
 * interpolated into SQL, so it must be a plain lower-case identifier.
 */
export async function createPostgresBenchDatabase(
  adminUrl: string,
  keep: boolean,
  name: string = BENCH_DATABASE_NAME,
): Promise<BenchDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid benchmark database name "${name}"`);
  await withAdminClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ databaseUrl: url.toString() });
  await migrate(handle.db);

  return {
    ...handle,
    location: url.toString(),
    serverInfo: await readServerInfo(handle),
    drop: async () => {
      await handle.close();
      if (keep) return;
      await withAdminClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

/**
 * Opens PGlite in `dataDir`, which must be absent or empty, or in a new
 * temporary folder when `dataDir` is undefined. The folder is on disk, as in the
 * product's embedded shape, not `memory://`.
 */
export async function createPgliteBenchDatabase(
  dataDir: string | undefined,
  keep: boolean,
): Promise<BenchDatabase> {
  let folder: string;
  if (dataDir === undefined) {
    folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-bench-'));
  } else {
    folder = path.resolve(dataDir);
    let entries: string[] = [];
    try {
      entries = readdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (entries.length > 0) {
      throw new Error(
        `--data-dir ${folder} is not empty; the benchmark seeds a new database, so pass an empty or new folder`,
      );
    }
  }

  const handle = await openDatabase({ dataDir: folder });
  await migrate(handle.db);
  return {
    ...handle,
    location: folder,
    serverInfo: await readServerInfo(handle),
    drop: async () => {
      await handle.close();
      if (!keep) rmSync(folder, { recursive: true, force: true });
    },
  };
}
