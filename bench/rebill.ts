import { Command } from 'commander';
import { Decimal } from 'decimal.js';

import { billDay } from '../src/billing/daily-billing.js';
import { loadSettings } from '../src/config/settings.js';
import { openDatabase } from '../src/db/database.js';
import { measure } from './measure.js';
import { BILLED_DAY } from './seed.js';
import { checkpoint, parseChunkSizes, resetBilling } from './support.js';

/**
 * Times billDay again on a database that `npm run bench -- --keep` left
 * behind, without seeding and detecting again. Each run empties billing_records
 * first, and every run must bill the same number of records and the same total.
 */

async function main(): Promise<void> {
  const settings = loadSettings({});
  const program = new Command()
    .name('npm run bench:rebill --')
    .description('Time daily billing again on a kept benchmark database.')
    .option(
      '--database-url <url>',
      'PostgreSQL benchmark database',
      'postgres://postgres@127.0.0.1:5432/cloud_platform_bench',
    )
    .option('--data-dir <folder>', 'PGlite benchmark data folder (instead of --database-url)')
    .option(
      '--chunk-sizes <sizes>',
      'comma-separated systems per billing statement, one billing run each',
      parseChunkSizes,
      [settings.billingChunkSize],
    );
  program.parse();
  const options = program.opts<{ databaseUrl: string; dataDir?: string; chunkSizes: number[] }>();

  const handle = await openDatabase(
    options.dataDir ? { dataDir: options.dataDir } : { databaseUrl: options.databaseUrl },
  );
  try {
    let first: { records: number; total: string } | undefined;
    for (const chunkSize of options.chunkSizes) {
      await resetBilling(handle.db);
      await checkpoint(handle.db);
      const { result, measurement } = await measure(() =>
        billDay(handle.db, BILLED_DAY, { timezone: settings.billingTimezone, chunkSize, taskRunId: null }),
      );

      first ??= { records: result.recordsCreated, total: result.totalAmount };
      if (result.recordsCreated !== first.records || !new Decimal(result.totalAmount).equals(first.total)) {
        throw new Error(
          `chunk size ${chunkSize} billed ${result.recordsCreated} records totalling ${result.totalAmount}; ` +
            `the first run billed ${first.records} totalling ${first.total}`,
        );
      }
      console.log(
        `chunk size ${chunkSize}: ${result.recordsCreated} records, total ${result.totalAmount} CNY, ` +
          `${measurement.seconds.toFixed(2)} s, ${Math.round(result.recordsCreated / measurement.seconds)} rows/s, ` +
          `peak RSS ${measurement.peakRssMiB.toFixed(0)} MiB, load average ` +
          `${measurement.loadAverage.start.toFixed(1)} at start, ${measurement.loadAverage.end.toFixed(1)} at end`,
      );
    }
  } finally {
    await handle.close();
  }
}

await main();
