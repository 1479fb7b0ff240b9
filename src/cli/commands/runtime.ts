import type { Command } from 'commander';

import { billDemoHistory, loadDemoData } from '../../demo/demo-data.js';
import { translate, type Locale } from '../../i18n/messages.js';
import {
  checkWorkerSettings,
  isClusterWorker,
  runClusterPrimary,
  runClusterWorker,
} from '../../api/cluster.js';
import { startServer } from '../../api/server.js';
import { migrate, openDatabase } from '../../db/database.js';
import { openTaskDispatcher } from '../../distributed/dispatcher.js';
import { startEmbedded } from '../../tasks/embedded.js';
import { createContext, print, withDatabase } from '../context.js';

export function registerRuntimeCommands(program: Command): void {
  program
    .command('start')
    .description(
      '启动嵌入式运行环境：迁移、演示数据、定时任务与 API / start the embedded runtime: migrations, demo data, scheduled tasks and the API',
    )
    .option('--no-demo', '空数据库时不载入演示数据 / do not load demo data into an empty database')
    .action(async (options: { demo: boolean }) => {
      const context = createContext();
      const runtime = await startEmbedded(context.settings, context.logger, { demo: options.demo });
      const server = await startServer({
        ...runtime,
        settings: context.settings,
        logger: context.logger,
        locale: context.locale,
      }).catch(async (error: unknown) => {
        // Without the API the runtime must not keep the data folder and run tasks unseen.
        await runtime.stop();
        throw error;
      });
      console.log(
        translate(
          'cli_listening',
          { url: `http://${context.settings.host}:${context.settings.port}` },
          context.locale,
        ),
      );
      console.log(
        translate(
          'cli_started',
          {
            database: context.settings.databaseUrl ? 'PostgreSQL' : `PGlite ${context.settings.dataDir}`,
            timezone: context.settings.billingTimezone,
          },
          context.locale,
        ),
      );

      await waitForShutdownSignal(context.locale);
      await server.close();
      await runtime.stop();
    });

  program
    .command('serve')
    .description(
      '只启动 HTTP API（不运行定时任务）；设置 REDIS_URL 时任务交给 worker 执行 / start only the HTTP API, without the scheduler; with REDIS_URL set, task runs go to the workers',
    )
    .option('--port <port>', 'HTTP 端口 / HTTP port (setting PORT, default 8000)')
    .option(
      '--workers <count>',
      '处理请求的进程数，大于 1 时需要 PostgreSQL / processes that answer requests; more than 1 needs PostgreSQL (setting API_WORKERS, default 1)',
    )
    .action(async (options: { port?: string; workers?: string }) => {
      const context = createContext({
        ...(options.port === undefined ? {} : { PORT: options.port }),
        ...(options.workers === undefined ? {} : { API_WORKERS: options.workers }),
      });
      if (isClusterWorker()) {
        // The primary prints the stopping message; a worker only stops.
        await runClusterWorker(context, waitForShutdownSignal(context.locale, { worker: true }));
        return;
      }
      checkWorkerSettings(context.settings);
      // With REDIS_URL the workers run the tasks, so serve has none to wait for.
      const stopping = context.settings.redisUrl ? 'cli_stopping_service' : 'cli_stopping';
      if (context.settings.apiWorkers > 1) {
        await runClusterPrimary(context, waitForShutdownSignal(context.locale, { message: stopping }));
        return;
      }

      const database = await openDatabase({
        databaseUrl: context.settings.databaseUrl,
        dataDir: context.settings.dataDir,
        poolSize: context.settings.databasePoolSize,
        logger: context.logger,
      });
      try {
        await migrate(database.db);
        const { tasks, queueDepths } = await openTaskDispatcher(database, context.settings, context.logger);
        const server = await startServer({
          database,
          tasks,
          queueDepths,
          settings: context.settings,
          logger: context.logger,
          locale: context.locale,
        });
        console.log(
          translate(
            'cli_listening',
            { url: `http://${context.settings.host}:${context.settings.port}` },
            context.locale,
          ),
        );
        await waitForShutdownSignal(context.locale, { message: stopping });
        await server.close();
        await tasks.close();
      } finally {
        await database.close();
      }
    });

  program
    .command('migrate')
    .description('应用数据库迁移 / apply database migrations')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const database = await openDatabase({
        databaseUrl: context.settings.databaseUrl,
        dataDir: context.settings.dataDir,
        logger: context.logger,
      });
      let applied: string[];
      try {
        applied = await migrate(database.db);
      } finally {
        await database.close();
      }
      print(options, { applied }, () => translate('cli_migrated', { count: applied.length }, context.locale));
    });

  program
    .command('demo')
    .description('演示数据 / demo data')
    .command('load')
    .description(
      '向空数据库载入演示数据并为过去的日期计费 / load demo data into an empty database and bill its past days',
    )
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const result = await withDatabase(context, async ({ db }) => {
        const now = new Date();
        const timezone = context.settings.billingTimezone;
        const demo = await loadDemoData(db, { now, timezone });
        const billed = await billDemoHistory(db, {
          now,
          timezone,
          chunkSize: context.settings.billingChunkSize,
        });
        return { ...demo, ...billed };
      });
      print(options, result, () => translate('cli_demo_loaded', result, context.locale));
    });
}

/**
 * Resolves on the first SIGINT or SIGTERM, after saying that the process is
 * stopping. A second signal then ends the process at once. A cluster worker
 * (`worker`) prints nothing and ignores later signals, because Ctrl-C reaches
 * it together with the SIGTERM that its primary sends.
 */
export function waitForShutdownSignal(
  locale: Locale,
  options: { worker?: boolean; message?: 'cli_stopping' | 'cli_stopping_service' } = {},
): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      if (options.worker) {
        resolve();
        return;
      }
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      console.log(translate(options.message ?? 'cli_stopping', {}, locale));
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
