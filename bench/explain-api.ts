import { Command } from 'commander';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';

import { buildApp } from '../src/api/app.js';
import { createApiToken } from '../src/api/auth/accounts.js';
import { loadSettings } from '../src/config/settings.js';
import type { DatabaseHandle } from '../src/db/database.js';
import type { Database } from '../src/db/schema.js';
import { silentLogger } from '../src/logger.js';
import { EmbeddedDispatcher } from '../src/tasks/dispatcher.js';
import { TaskRunner } from '../src/tasks/runner.js';
import {
  DATABASE_NAME,
  databaseUrlFor,
  parseScenarioNames,
  readIdRanges,
  SCENARIOS,
} from './api-scenarios.js';

/**
 * Prints EXPLAIN (ANALYZE, BUFFERS) of every SQL statement that one request
 * of each API benchmark scenario sends, on the database that
 * `npm run bench:api -- --keep` left. The app runs in this process with a
 * query log, and each request goes through app.inject(), so the statements are
 * exactly the ones the routes send, authentication included. Each EXPLAIN runs
 * in a transaction that is rolled back, so the UPDATE of the token's
 * last_used_at changes nothing.
 */

interface ExplainOptions {
  databaseUrl: string;
  scenarios?: string[];
  repeat: number;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench:api:explain --')
    .description(
      `EXPLAIN (ANALYZE, BUFFERS) the SQL of each API benchmark request on the kept ${DATABASE_NAME}.`,
    )
    .option(
      '--database-url <url>',
      `PostgreSQL server that holds ${DATABASE_NAME}`,
      'postgres://postgres@127.0.0.1:5432/test',
    )
    .option('--scenarios <names>', 'comma-separated scenarios (default all)', parseScenarioNames)
    .option(
      '--repeat <count>',
      'requests per scenario before the explained one, to warm the cache',
      Number,
      3,
    );
  program.parse();
  const options = program.opts<ExplainOptions>();

  const pool = new pg.Pool({ connectionString: databaseUrlFor(options.databaseUrl), max: 10 });
  let captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  // No notifications, so the API's credential cache stays off and each
  // request shows its authentication statement too.
  const database: DatabaseHandle = {
    db,
    kind: 'postgres',
    listen: async () => ({ close: async () => undefined }),
    close: () => db.destroy(),
  };

  try {
    const settings = loadSettings({ LOG_LEVEL: 'silent' });
    const app = await buildApp({
      database,
      settings,
      logger: silentLogger,
      tasks: new EmbeddedDispatcher(new TaskRunner(database, settings, silentLogger), database, silentLogger),
    });
    const admin = await db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const { token } = await createApiToken(db, admin.id, 'explain');
    const ids = await readIdRanges(db);

    const chosen = SCENARIOS.filter((scenario) => options.scenarios?.includes(scenario.name) ?? true);
    for (const scenario of chosen) {
      let url = '';
      for (let attempt = 0; attempt <= options.repeat; attempt += 1) {
        url = scenario.nextPath(ids);
        captured = [];
        const response = await app.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${token}` },
        });
        if (response.statusCode !== 200) {
          throw new Error(`${scenario.name}: GET ${url} returned ${response.statusCode}: ${response.body}`);
        }
      }
      const statements = captured;
      console.log(`\n## ${scenario.name}: GET ${url} sends ${statements.length} statements\n`);
      for (const statement of statements) await explain(pool, statement);
    }
    await app.close();
  } finally {
    await db.destroy();
  }
}

async function explain(pool: pg.Pool, statement: CompiledQuery): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`,
      statement.parameters as unknown[],
    );
    await client.query('ROLLBACK');
    console.log(`${statement.sql}\n-- parameters: ${JSON.stringify(statement.parameters)}`);
    console.log(rows.map((row) => row['QUERY PLAN']).join('\n'));
    console.log('');
  } finally {
    client.release();
  }
}

await main();
