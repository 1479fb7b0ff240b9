import type { Command } from 'commander';

import { migrate, openDatabase } from '../../db/database.js';
import { Beat } from '../../distributed/beat.js';
import { runDoctor } from '../../distributed/doctor.js';
import { buildMonitor } from '../../distributed/monitor.js';
import { parseQueueNames, QUEUE_NAMES, TaskQueues } from '../../distributed/queues.js';
import { TaskWorker } from '../../distributed/worker.js';
import { DomainError } from '../../errors.js';
import { translate } from '../../i18n/messages.js';
import { createContext, print, type CommandContext } from '../context.js';
import { formatTable } from '../output.js';
import { waitForShutdownSignal } from './runtime.js';

/** Maximum jobs one worker process runs at once per queue. */
const MAX_CONCURRENCY = 64;

export function registerDistributedCommands(program: Command): void {
  program
    .command('worker')
    .description(
      '启动 BullMQ worker，执行队列中的任务（需要 REDIS_URL 与 DATABASE_URL）/ start a BullMQ worker that runs queued tasks (needs REDIS_URL and DATABASE_URL)',
    )
    .option(
      '--queues <names>',
      `要处理的队列，逗号分隔 / queues to take jobs from, comma-separated (${QUEUE_NAMES.join(',')})`,
      QUEUE_NAMES.join(','),
    )
    .option(
      '--concurrency <n>',
      `每个队列同时执行的作业数 / jobs run at once per queue, 1 to ${MAX_CONCURRENCY}`,
      '1',
    )
    .action(async (options: { queues: string; concurrency: string }) => {
      const context = requireDistributed(createContext(), 'worker');
      const queues = parseQueueNames(options.queues);
      const concurrency = parseConcurrency(options.concurrency);

      const database = await openDatabase({
        databaseUrl: context.settings.databaseUrl,
        poolSize: concurrency * queues.length + 2,
        logger: context.logger,
      });
      try {
        await migrate(database.db);
        const worker = new TaskWorker(database, context.settings, context.logger, { queues, concurrency });
        worker.start();
        await worker.waitUntilReady();
        console.log(
          translate('cli_worker_started', { queues: queues.join(', '), concurrency }, context.locale),
        );

        await waitForShutdownSignal(context.locale);
        // close() lets the jobs in progress finish; a second signal is not handled, so the OS default ends the process.
        await worker.close();
      } finally {
        await database.close();
      }
    });

  program
    .command('beat')
    .description(
      '按配置写入任务计划（BullMQ job scheduler）并保持其存在；可同时运行多个 / write the task schedules to BullMQ job schedulers and keep them there; several may run at once',
    )
    .action(async () => {
      const context = requireDistributed(createContext(), 'beat');
      const queues = new TaskQueues(context.settings, context.logger);
      const beat = new Beat(queues, context.settings, context.logger);
      try {
        const states = await beat.start();
        console.log(
          formatTable(
            states.map((state) => ({
              name: state.task,
              queue: state.queue,
              schedule: state.pattern,
              timezone: state.timezone,
              next_run: state.nextRun,
              action: state.action,
            })),
            ['name', 'queue', 'schedule', 'timezone', 'next_run', 'action'],
            { locale: context.locale, timezone: context.settings.billingTimezone },
          ),
        );
        await waitForShutdownSignal(context.locale, { message: 'cli_stopping_service' });
        await beat.stop();
      } finally {
        await queues.close();
      }
    });

  program
    .command('monitor')
    .description(
      '启动任务监控面板（Bull Board），需登录；非管理员只读 / start the task dashboard (Bull Board), behind login; read-only for non-admins',
    )
    .option('--port <port>', '监听端口 / port to listen on (setting MONITOR_PORT, default 5555)')
    .action(async (options: { port?: string }) => {
      const context = requireDistributed(
        createContext(options.port === undefined ? {} : { MONITOR_PORT: options.port }),
        'monitor',
      );
      const database = await openDatabase({
        databaseUrl: context.settings.databaseUrl,
        logger: context.logger,
      });
      const queues = new TaskQueues(context.settings, context.logger);
      try {
        await migrate(database.db);
        const app = await buildMonitor({ database, queues, ...context });
        try {
          await app.listen({ port: context.settings.monitorPort, host: context.settings.host });
        } catch (error) {
          await app.close();
          const code = (error as NodeJS.ErrnoException).code;
          throw new DomainError('listen_failed', {
            host: context.settings.host,
            port: context.settings.monitorPort,
            reason: code ?? (error as Error).message,
          });
        }
        console.log(
          translate(
            'cli_monitor_listening',
            { url: `http://${context.settings.host}:${context.settings.monitorPort}` },
            context.locale,
          ),
        );
        await waitForShutdownSignal(context.locale, { message: 'cli_stopping_service' });
        await app.close();
      } finally {
        await queues.close();
        await database.close();
      }
    });

  program
    .command('doctor')
    .description(
      '检查数据库、迁移、Redis、任务计划、worker 与最近执行；有问题时退出码非零 / check the database, migrations, Redis, schedules, workers and last runs; exits non-zero when something is wrong',
    )
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options: { json?: boolean }) => {
      const context = createContext();
      const checks = await runDoctor(context.settings, context.locale);
      const problems = checks.filter((check) => !check.ok).length;
      print(options, { ok: problems === 0, checks }, () =>
        [
          ...checks.map(
            (check) =>
              `${check.ok ? '✓' : '✗'} ${check.label}: ${check.detail}${check.fix ? `\n    → ${check.fix}` : ''}`,
          ),
          '',
          problems === 0
            ? translate('cli_doctor_ok', {}, context.locale)
            : translate('cli_doctor_problems', { count: problems }, context.locale),
        ].join('\n'),
      );
      if (problems > 0) process.exitCode = 1;
    });
}

/** Returns `context` when distributed mode is configured; else throws naming the missing setting. */
function requireDistributed(context: CommandContext, command: string): CommandContext {
  if (!context.settings.redisUrl || !context.settings.databaseUrl) {
    throw new DomainError('distributed_mode_required', { command });
  }
  return context;
}

function parseConcurrency(value: string): number {
  const concurrency = Number(value);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new DomainError('invalid_concurrency', { value, max: MAX_CONCURRENCY });
  }
  return concurrency;
}
