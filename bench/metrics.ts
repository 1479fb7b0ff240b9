import { Command } from 'commander';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';

import { TaskRunRepository } from '../src/db/repositories/task-run.repository.js';
import type { Database } from '../src/db/schema.js';
import { silentLogger } from '../src/logger.js';
import { Metrics } from '../src/metrics/metrics.js';
import { DURATION_BUCKETS_SECONDS, SETTLE_MARGIN_SECONDS } from '../src/metrics/task-run-totals.js';
import { createPostgresBenchDatabase } from './databases.js';

/**
 * Times /metrics scrapes against a task_runs table of several years: 288
 * sync_vm_status runs, 24 detect_resource_changes runs and one
 * create_daily_billing_records run a day, as the default schedules make. It
 * prints the first scrape of a process (which aggregates the whole table), the
 * following scrapes (which read only new runs), the same with a run left
 * `running` in the first year, and EXPLAIN (ANALYZE, BUFFERS) of the queries
 * of a scrape with and without the index task_runs_unfinished.
 */

interface Options {
  databaseUrl: string;
  years: number;
  keep: boolean;
}

const DATABASE_NAME = 'cloud_platform_bench_metrics';

async function seed(db: Kysely<Database>, years: number): Promise<number> {
  const days = years * 365;
  // One in 200 syncs fails on the vcenter source, as a flaky platform would.
  await sql`
    INSERT INTO task_runs (task_name, queue, trigger, status, attempts, result, error, created_at, started_at, finished_at)
    SELECT 'sync_vm_status', 'monitoring', 'schedule', CASE WHEN n % 200 = 0 THEN 'failed' ELSE 'succeeded' END, 1,
      jsonb_build_object('sources', jsonb_build_array(
        jsonb_build_object('source', 'local', 'own_database', true, 'status', 'succeeded'),
        jsonb_build_object('source', 'file', 'own_database', false, 'status', 'succeeded', 'records_read', 1000),
        jsonb_build_object('source', 'vcenter', 'own_database', false,
          'status', CASE WHEN n % 200 = 0 THEN 'failed' ELSE 'succeeded' END, 'records_read', 4000))),
      CASE WHEN n % 200 = 0 THEN '1 inventory source(s) failed: vcenter: timed out' END,
      at, at, at + make_interval(secs => 2 + n % 7)
    FROM (
      SELECT n, timestamptz '2021-01-01 00:00+08' + n * interval '5 minutes' AS at
      FROM generate_series(0, ${days * 288 - 1}) AS n
    ) AS runs`.execute(db);
  await sql`
    INSERT INTO task_runs (task_name, queue, trigger, status, attempts, result, created_at, started_at, finished_at)
    SELECT 'detect_resource_changes', 'monitoring', 'schedule', 'succeeded', 1, '{"changes": 3}'::jsonb,
      at, at, at + interval '1.5 seconds'
    FROM generate_series(timestamptz '2021-01-01 00:00+08', timestamptz '2021-01-01 00:00+08' + ${days - 1} * interval '1 day' + interval '23 hours', interval '1 hour') AS at`.execute(
    db,
  );
  await sql`
    INSERT INTO task_runs (task_name, queue, trigger, status, attempts, result, created_at, started_at, finished_at)
    SELECT 'create_daily_billing_records', 'billing', 'schedule', 'succeeded', 1,
      jsonb_build_object('records_created', 27400, 'amount_created', '123456.78', 'records_rerated', 0),
      at, at, at + interval '95 seconds'
    FROM generate_series(timestamptz '2021-01-01 00:10+08', timestamptz '2021-01-01 00:10+08' + ${days - 1} * interval '1 day', interval '1 day') AS at`.execute(
    db,
  );
  await sql`VACUUM (ANALYZE) task_runs`.execute(db);
  const { rows } = await sql<{ count: string }>`SELECT count(*) FROM task_runs`.execute(db);
  return Number(rows[0]!.count);
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

async function scrapes(db: Kysely<Database>, label: string): Promise<void> {
  const metrics = new Metrics({ db, billingTimezone: 'Asia/Shanghai', logger: silentLogger });
  const first = await timed(() => metrics.render());
  const following: number[] = [];
  for (let index = 0; index < 5; index += 1) following.push((await timed(() => metrics.render())).ms);
  following.sort((a, b) => a - b);
  console.log(
    `${label}: first scrape ${first.ms.toFixed(0)} ms, next 5 scrapes median ${following[2]!.toFixed(1)} ms ` +
      `(min ${following[0]!.toFixed(1)}, max ${following[4]!.toFixed(1)})`,
  );
}

/** Prints EXPLAIN (ANALYZE, BUFFERS) of each query of a scrape that follows another one by 10 runs. */
async function explainScrapeQueries(pool: pg.Pool, label: string): Promise<void> {
  const captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  const taskRuns = new TaskRunRepository(db);
  await taskRuns.getUnfinished();
  const settledId = await taskRuns.getSettledId(SETTLE_MARGIN_SECONDS);
  const range = { afterId: String(BigInt(settledId) - 10n), settledId, finishedIds: ['999'] };
  await taskRuns.aggregateFinishedRuns(range, DURATION_BUCKETS_SECONDS);
  await taskRuns.aggregateBillingResults(range);
  await taskRuns.aggregateSourceSyncs(range);

  for (const query of captured) {
    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${query.sql}`,
      query.parameters as unknown[],
    );
    console.log(`\n-- ${label}\n${query.sql.replace(/\s+/g, ' ').trim()}`);
    for (const row of rows) console.log(row['QUERY PLAN']);
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench:metrics --')
    .description('Time /metrics scrapes on several years of task runs (PostgreSQL).')
    .option(
      '--database-url <url>',
      'PostgreSQL server to create the benchmark database on',
      'postgres://postgres@127.0.0.1:5432/test',
    )
    .option('--years <count>', 'years of task runs to seed', Number, 5)
    .option('--keep', 'keep the benchmark database afterwards', false);
  program.parse();
  const options = program.opts<Options>();

  const database = await createPostgresBenchDatabase(options.databaseUrl, options.keep, DATABASE_NAME);
  const pool = new pg.Pool({ connectionString: database.location, max: 2 });
  try {
    console.log(`server: ${JSON.stringify(database.serverInfo)}`);
    const seeded = await timed(() => seed(database.db, options.years));
    console.log(
      `seeded ${seeded.value} task runs (${options.years} years) in ${(seeded.ms / 1000).toFixed(1)} s`,
    );
    const { rows } = await sql<{
      size: string;
    }>`SELECT pg_size_pretty(pg_table_size('task_runs')) AS size`.execute(database.db);
    console.log(`task_runs table size: ${rows[0]!.size}`);

    await scrapes(database.db, 'all runs finished');

    // A run that a crashed worker left `running` in the first year stays among the unfinished ids of every scrape.
    await sql`UPDATE task_runs SET status = 'running', finished_at = NULL WHERE id = 1000`.execute(
      database.db,
    );
    await sql`VACUUM (ANALYZE) task_runs`.execute(database.db);
    await scrapes(database.db, 'one run left running since the first year');

    await explainScrapeQueries(pool, 'with task_runs_unfinished');
    await sql`DROP INDEX task_runs_unfinished`.execute(database.db);
    await sql`ANALYZE task_runs`.execute(database.db);
    await explainScrapeQueries(pool, 'without task_runs_unfinished');
  } finally {
    await pool.end();
    await database.drop();
  }
}

await main();
