import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import lockfile from 'proper-lockfile';

import { silentLogger, type Logger } from '../logger.js';
import * as initial from './migrations/0001_initial.js';
import * as users from './migrations/0002_users.js';
import * as billingRecordsWithoutForeignKeys from './migrations/0003_billing_records_without_foreign_keys.js';
import * as billingRecordsDateIdIndex from './migrations/0004_billing_records_date_id_index.js';
import * as taskRunsJobId from './migrations/0005_task_runs_job_id.js';
import * as inventorySources from './migrations/0006_inventory_sources.js';
import * as billingRecordDayCounts from './migrations/0007_billing_record_day_counts.js';
import * as taskRunsUnfinishedIndex from './migrations/0008_task_runs_unfinished_index.js';
import * as authChangeNotifications from './migrations/0009_auth_change_notifications.js';
import * as billingRecordsCoveringSystemDay from './migrations/0010_billing_records_covering_system_day.js';
import {
  PostgresChannelSubscription,
  type ChannelListener,
  type ChannelSubscription,
} from './notifications.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';
import { rowBuilderFor } from './row-builder.js';
import { parseTimestamptz } from './timestamptz.js';

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  /** `pglite` for the embedded database, `postgres` for a server. */
  kind: 'pglite' | 'postgres';
  /** Subscribes to the notifications of `channel` (LISTEN). */
  listen(channel: string, listener: ChannelListener): Promise<ChannelSubscription>;
  close(): Promise<void>;
}

export class DataFolderLockedError extends Error {
  override name = 'DataFolderLockedError';

  constructor(readonly dataDir: string) {
    super(
      `data folder ${dataDir} is in use by another cloud-platform process; stop that process, ` +
        'or run tasks through its API',
    );
  }
}

// OIDs of the PostgreSQL types whose default JavaScript parsing loses
// information: int8 and numeric overflow a JS number, and `date` would become
// a Date at local midnight of the process's zone.
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const keepText = (value: string) => value;

pg.types.setTypeParser(INT8, keepText);
pg.types.setTypeParser(NUMERIC, keepText);
pg.types.setTypeParser(DATE, keepText);
// Same Dates as pg's parser, in less time: see parseTimestamptz.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, parseTimestamptz);

/** Distinct statement texts that get a prepared statement name; later ones run unnamed. */
const MAX_NAMED_STATEMENTS = 1000;
const statementNames = new Map<string, string>();

function statementNameOf(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `cp_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * pg client that sends every statement with parameters as a named prepared
 * statement. Each connection parses and plans such a statement once and then
 * only binds and runs it, which saves PostgreSQL CPU time on the many small
 * queries of the API. The name depends on the text alone, so every
 * connection of the process uses the same name for the same statement.
 * NOTE: a schema change that alters a prepared statement's result columns
 * (e.g. a migration adding a column to a table read with SELECT *), made by
 * another process while this one runs, fails that statement with "cached plan
 * must not change result type" until the connection closes. Restart the
 * process after such a migration.
 *
 * Kysely calls `query(text, values)` and awaits the promise that pg returns.
 * This client passes pg a callback and creates the promise itself instead,
 * because pg's own promise cost more CPU time. In 10 alternating pairs of API
 * benchmark runs, the server took 0.90 ms of CPU per billing-records page on
 * average, against 1.04 ms with pg's promise. Garbage collection fell from
 * 8.8 % to 3.6 % of a CPU profile (docs/benchmarks.md, change 15). Why pg's
 * promise costs more was not found.
 *
 * Prepared statements ask pg for rows as arrays, which this client turns into
 * objects with a function compiled for the statement's columns: see
 * compileRowBuilder.
 */
class PreparedStatementClient extends pg.Client {}

const unnamedQuery = pg.Client.prototype.query;
PreparedStatementClient.prototype.query = function (
  this: pg.Client,
  config: unknown,
  values?: unknown,
  callback?: unknown,
) {
  const query = unnamedQuery as (this: pg.Client, ...args: unknown[]) => unknown;
  if (typeof config === 'string' && Array.isArray(values) && callback === undefined) {
    const name = values.length > 0 ? statementNameOf(config) : undefined;
    if (name === undefined) {
      return new Promise((resolve, reject) => {
        query.call(this, { text: config, values }, (error: Error | null, result: unknown) =>
          error ? reject(error) : resolve(result),
        );
      });
    }
    return new Promise((resolve, reject) => {
      query.call(
        this,
        { name, text: config, values, rowMode: 'array' },
        (error: Error | null, result: pg.QueryArrayResult) => {
          if (error) {
            reject(error);
            return;
          }
          const build = rowBuilderFor(name, result.fields);
          resolve({ ...result, rows: result.rows.map(build) });
        },
      );
    });
  }
  return query.call(this, config, values, callback);
} as typeof unnamedQuery;

export interface OpenOptions {
  databaseUrl?: string | undefined;
  /** PGlite data folder; `memory://` keeps the database in memory (tests). */
  dataDir?: string;
  /** Maximum pooled connections to PostgreSQL. */
  poolSize?: number;
  /** Receives errors of idle pooled connections, e.g. when PostgreSQL restarts. */
  logger?: Logger;
  /** Time to wait for a new PostgreSQL connection, in milliseconds; unset waits as long as the OS does. */
  connectionTimeoutMillis?: number;
}

/** Opens PostgreSQL when `databaseUrl` is set, else PGlite in `dataDir`, holding a lock on the folder. */
export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      ...(options.connectionTimeoutMillis
        ? { connectionTimeoutMillis: options.connectionTimeoutMillis }
        : {}),
      Client: PreparedStatementClient,
    });
    // An idle connection that the server closes emits 'error'; without a listener
    // that would end the process. The pool drops the connection and opens a new one.
    // pg attaches the whole client to these errors, so only the message and code are logged.
    const describe = (error: Error) => ({ message: error.message, code: (error as { code?: string }).code });
    pool.on('error', (error) => {
      (options.logger ?? silentLogger).warn({ error: describe(error) }, 'idle PostgreSQL connection lost');
    });
    // A connection that is checked out but between two queries reports its loss
    // as an 'error' event too. Without a listener that event would end the
    // process, and with one the next query fails and the pool replaces the connection.
    pool.on('connect', (client) => {
      client.on('error', (error) => {
        (options.logger ?? silentLogger).warn({ error: describe(error) }, 'PostgreSQL connection lost');
      });
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const databaseUrl = options.databaseUrl;
    return {
      db,
      kind: 'postgres',
      listen: async (channel, listener) => {
        const logger = options.logger ?? silentLogger;
        const subscription = new PostgresChannelSubscription(databaseUrl, channel, listener, logger);
        await subscription.start();
        return subscription;
      },
      close: () => db.destroy(),
    };
  }

  const dataDir = options.dataDir ?? './data';
  const inMemory = dataDir.startsWith('memory://');
  let unlock: (() => Promise<void>) | undefined;

  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    try {
      unlock = await lockfile.lock(dataDir, {
        lockfilePath: path.join(dataDir, '.cloud-platform.lock'),
        stale: 30_000,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
        throw new DataFolderLockedError(dataDir);
      }
      throw error;
    }
  }

  try {
    const database = await PGlite.create(inMemory ? dataDir : path.join(dataDir, 'pgdata'), {
      parsers: {
        [pgliteTypes.INT8]: keepText,
        [pgliteTypes.NUMERIC]: keepText,
        [pgliteTypes.DATE]: keepText,
      },
    });
    const db = new Kysely<Database>({ dialect: new PGliteDialect(database) });
    return {
      db,
      kind: 'pglite',
      // PGlite runs in this process, so its subscription is never interrupted.
      listen: async (channel, listener) => {
        const unsubscribe = await database.listen(channel, (payload) => listener.onNotification(payload));
        listener.onListening();
        return { close: unsubscribe };
      },
      close: async () => {
        await db.destroy();
        await database.close();
        await unlock?.();
      },
    };
  } catch (error) {
    await unlock?.();
    throw error;
  }
}

/** The in-code migrations by name, each a list of SQL statements run in order. */
const MIGRATION_STATEMENTS: Record<string, readonly string[]> = {
  '0001_initial': initial.statements,
  '0002_users': users.statements,
  '0003_billing_records_without_foreign_keys': billingRecordsWithoutForeignKeys.statements,
  '0004_billing_records_date_id_index': billingRecordsDateIdIndex.statements,
  '0005_task_runs_job_id': taskRunsJobId.statements,
  '0006_inventory_sources': inventorySources.statements,
  '0007_billing_record_day_counts': billingRecordDayCounts.statements,
  '0008_task_runs_unfinished_index': taskRunsUnfinishedIndex.statements,
  '0009_auth_change_notifications': authChangeNotifications.statements,
  '0010_billing_records_covering_system_day': billingRecordsCoveringSystemDay.statements,
};

const migrations: Record<string, Migration> = Object.fromEntries(
  Object.entries(MIGRATION_STATEMENTS).map(([name, statements]) => [
    name,
    {
      async up(db: Kysely<unknown>) {
        for (const statement of statements) await sql.raw(statement).execute(db);
      },
    },
  ]),
);

class InCodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/**
 * Creates the migrator of the in-code migrations. No migration depends on
 * another, so unordered migrations are allowed: a database that already has a
 * later one (such as a development database) still gets an earlier one it lacks.
 */
function createMigrator(db: Db): Migrator {
  return new Migrator({ db, provider: new InCodeMigrationProvider(), allowUnorderedMigrations: true });
}

/** Returns the names of the migrations not yet applied, oldest first. */
export async function getPendingMigrations(db: Db): Promise<string[]> {
  const migrator = createMigrator(db);
  const migrationInfo = await migrator.getMigrations();
  return migrationInfo.filter((info) => info.executedAt === undefined).map((info) => info.name);
}

/** Applies every pending migration in one transaction; returns the names applied. */
export async function migrate(db: Db): Promise<string[]> {
  const migrator = createMigrator(db);
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}
