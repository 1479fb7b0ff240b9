import type { Command } from 'commander';

import { billDemoHistory, loadDemoData } from '../../demo/demo-data.js';
import { translate } from '../../i18n/messages.js';
import { startEmbedded } from '../../tasks/embedded.js';
import { createContext, print, withDatabase } from '../context.js';

export function registerRuntimeCommands(program: Command): void {
  program
    .command('start')
    .description(
      '启动嵌入式运行环境：迁移、演示数据、定时任务 / start the embedded runtime: migrate, demo data, scheduled tasks',
    )
    .option('--no-demo', '空数据库时不载入演示数据 / do not load demo data into an empty database')
    .action(async (options: { demo: boolean }) => {
      const context = createContext();
      const runtime = await startEmbedded(context.settings, context.logger, { demo: options.demo });
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

      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          console.log(translate('cli_stopping', {}, context.locale));
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await runtime.stop();
    });

  program
    .command('migrate')
    .description('应用数据库迁移 / apply database migrations')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const applied = await withDatabase(context, async () => []);
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
