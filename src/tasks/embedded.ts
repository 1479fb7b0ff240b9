import type { Settings } from '../config/settings.js';
import { migrate, openDatabase, type DatabaseHandle } from '../db/database.js';
import { billDemoHistory, isEmptyForDemoData, loadDemoData } from '../demo/demo-data.js';
import type { Logger } from '../logger.js';
import { EmbeddedDispatcher } from './dispatcher.js';
import { TaskRunner } from './runner.js';
import { EmbeddedScheduler } from './scheduler.js';

export interface EmbeddedRuntime {
  database: DatabaseHandle;
  tasks: EmbeddedDispatcher;
  /** Stops the scheduler, waits for running tasks and closes the database. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded shape in this process: migrate, load the demo data into
 * an empty database, schedule the three tasks, and bill any days missed while
 * the process was down.
 */
export async function startEmbedded(
  settings: Settings,
  logger: Logger,
  options: { demo: boolean },
): Promise<EmbeddedRuntime> {
  const database = await openDatabase({
    databaseUrl: settings.databaseUrl,
    dataDir: settings.dataDir,
    poolSize: settings.databasePoolSize,
    logger,
  });
  try {
    const applied = await migrate(database.db);
    logger.info({ applied, database: database.kind }, 'database migrated');

    if (options.demo && (await isEmptyForDemoData(database.db))) {
      const now = new Date();
      const demo = await loadDemoData(database.db, { now, timezone: settings.billingTimezone });
      const billed = await billDemoHistory(database.db, {
        now,
        timezone: settings.billingTimezone,
        chunkSize: settings.billingChunkSize,
      });
      logger.info({ ...demo, ...billed }, 'demo data loaded and billed');
    }
  } catch (error) {
    await database.close();
    throw error;
  }

  const runner = new TaskRunner(database, settings, logger);
  const scheduler = new EmbeddedScheduler(runner, settings, logger);
  scheduler.start();

  // Days missed while the process was down are billed now, not at the next 00:10.
  void runner.run('create_daily_billing_records', {}, 'catch_up').catch((error: unknown) => {
    logger.error({ err: error }, 'catch-up billing could not start');
  });

  return {
    database,
    tasks: new EmbeddedDispatcher(runner, database, logger),
    stop: async () => {
      scheduler.stop();
      await runner.drain();
      await database.close();
    },
  };
}
