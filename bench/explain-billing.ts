import { Command } from 'commander';
import {
  CompiledQuery,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

import { billDay } from '../src/billing/daily-billing.js';
import { loadSettings } from '../src/config/settings.js';
import { openDatabase, type Db } from '../src/db/database.js';
import { BILLED_DAY } from './seed.js';
import { parsePositiveInteger, resetBilling } from './support.js';

/**
 * Prints EXPLAIN (ANALYZE, BUFFERS) of one chunk statement of daily billing, on
 * a database that `npm run bench -- --keep` left behind. The statement is the
 * one billDay sends, captured while billDay runs. Before the explained chunk,
 * billing_records is emptied and the earlier chunks are inserted again, so the
 * explained chunk meets the same table state as in a real run. EXPLAIN ANALYZE
 * executes the INSERT.
 */

/** Records every billing chunk statement that passes through Kysely, unchanged. */
class ChunkStatementCapture implements KyselyPlugin {
  readonly statements: CompiledQuery[] = [];

  constructor(private readonly db: Db) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const compiled = this.db.getExecutor().compileQuery(args.node, args.queryId);
    if (/INSERT INTO billing_records/.test(compiled.sql)) this.statements.push(compiled);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

async function main(): Promise<void> {
  const settings = loadSettings({});
  const program = new Command()
    .name('npm run bench:explain --')
    .description('Print the query plan of one daily billing chunk statement on a kept benchmark database.')
    .option(
      '--database-url <url>',
      'PostgreSQL benchmark database',
      'postgres://postgres@127.0.0.1:5432/cloud_platform_bench',
    )
    .option('--data-dir <folder>', 'PGlite benchmark data folder (instead of --database-url)')
    .option(
      '--chunk-size <systems>',
      'systems per billing statement',
      parsePositiveInteger,
      settings.billingChunkSize,
    )
    .option('--chunk <number>', 'which chunk statement to explain, from 1', parsePositiveInteger, 1)
    .option('--print-sql', 'also print the statement and its parameters', false);
  program.parse();
  const options = program.opts<{
    databaseUrl: string;
    dataDir?: string;
    chunkSize: number;
    chunk: number;
    printSql: boolean;
  }>();

  const handle = await openDatabase(
    options.dataDir ? { dataDir: options.dataDir } : { databaseUrl: options.databaseUrl },
  );
  try {
    const capture = new ChunkStatementCapture(handle.db);
    await resetBilling(handle.db);
    await billDay(handle.db.withPlugin(capture), BILLED_DAY, {
      timezone: settings.billingTimezone,
      chunkSize: options.chunkSize,
    });

    // The last captured statement is the empty chunk that ends the loop.
    const chunks = capture.statements.length - 1;
    if (options.chunk > chunks) {
      console.error(
        `--chunk ${options.chunk} is out of range: the day has ${chunks} chunks, pass 1 to ${chunks}`,
      );
      process.exitCode = 1;
      return;
    }

    await resetBilling(handle.db);
    for (const statement of capture.statements.slice(0, options.chunk - 1)) {
      await handle.db.executeQuery(statement);
    }
    const explained = capture.statements[options.chunk - 1]!;
    if (options.printSql) {
      console.log(explained.sql);
      console.log(`parameters: ${JSON.stringify(explained.parameters)}\n`);
    }

    const plan = await handle.db.executeQuery<{ 'QUERY PLAN': string }>(
      CompiledQuery.raw(`EXPLAIN (ANALYZE, BUFFERS) ${explained.sql}`, [...explained.parameters]),
    );
    console.log(`chunk ${options.chunk} of ${chunks}, chunk size ${options.chunkSize}:`);
    for (const row of plan.rows) console.log(row['QUERY PLAN']);
  } finally {
    await handle.close();
  }
}

await main();
