import type { Command } from 'commander';

import { TaskRunRepository } from '../../db/repositories/task-run.repository.js';
import { translate } from '../../i18n/messages.js';
import { TASK_NAMES, TASKS } from '../../tasks/registry.js';
import { TaskRunner } from '../../tasks/runner.js';
import { describeSchedules } from '../../tasks/scheduler.js';
import { createContext, print, withDatabase } from '../context.js';
import { formatTable } from '../output.js';

export function registerTaskCommands(program: Command): void {
  const task = program.command('task').description('周期任务 / periodic tasks');

  task
    .command('list')
    .description('列出任务、队列、计划与下次执行时间 / list tasks with queue, schedule and next run')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const schedules = describeSchedules(context.settings);
      const rows = await withDatabase(
        context,
        async ({ db }) => {
          const runs = new TaskRunRepository(db);
          return Promise.all(
            schedules.map(async (schedule) => {
              const last = await runs.getLastByTask(schedule.name);
              return {
                ...schedule,
                description: TASKS[schedule.name].description[context.locale],
                last_run: last
                  ? {
                      id: last.id,
                      status: last.status,
                      started_at: last.started_at,
                      finished_at: last.finished_at,
                    }
                  : null,
              };
            }),
          );
        },
        { readOnly: true },
      );
      print(options, rows, () =>
        formatTable(
          rows.map((row) => ({
            task: row.name,
            queue: row.queue,
            schedule: `${row.schedule} (${row.timezone})`,
            next_run: row.nextRun,
            last_run: row.last_run?.started_at ?? null,
            status: row.last_run?.status ?? '',
          })),
          ['task', 'queue', 'schedule', 'next_run', 'last_run', 'status'],
          { locale: context.locale, timezone: context.settings.billingTimezone },
        ),
      );
    });

  task
    .command('exec')
    .description('在本进程中立即执行任务并输出结果 / run a task now in this process and print its result')
    .argument('<name>', `任务名 / task name: ${TASK_NAMES.join(', ')}`)
    .option('--date <date>', '计费日期 YYYY-MM-DD（仅计费任务）/ day to bill (billing task only)')
    .option('--from <date>', '起始日期（含）/ first day of a range, included')
    .option('--to <date>', '结束日期（含）/ last day of a range, included')
    .option('--force', '重新计费已计费的日期并保留审计记录 / re-rate billed days, keeping an audit trail')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (name: string, options) => {
      const context = createContext();
      const run = await withDatabase(context, (database) =>
        new TaskRunner(database, context.settings, context.logger).run(
          name,
          { date: options.date, from: options.from, to: options.to, force: options.force },
          'manual',
        ),
      );

      const seconds =
        run.started_at && run.finished_at
          ? ((run.finished_at.getTime() - run.started_at.getTime()) / 1000).toFixed(1)
          : '?';
      print(options, run, () =>
        run.status === 'succeeded'
          ? `${translate('cli_task_succeeded', { name, run_id: run.id, seconds }, context.locale)}\n${JSON.stringify(run.result, null, 2)}`
          : translate('cli_task_failed', { name, run_id: run.id, error: run.error }, context.locale),
      );
      if (run.status !== 'succeeded') process.exitCode = 1;
    });
}
