import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { TaskRunRepository } from '../../db/repositories/task-run.repository.js';
import { TASK_NAMES, TASKS, type TaskName } from '../../tasks/registry.js';
import { describeSchedules } from '../../tasks/scheduler.js';
import { ApiError, localeFromAcceptLanguage } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DateTimeString, errorResponses } from '../schemas.js';
import { taskRunUrl } from './task-runs.js';

/** The periodic tasks: schedule, next and last run, and manual runs that proceed in the background. */

const NameParams = Type.Object({
  name: Type.String({ maxLength: 100, description: `任务名 / task name: ${TASK_NAMES.join(', ')}` }),
});

const LastRunSchema = Type.Object({
  id: Type.Integer(),
  status: Type.String(),
  trigger: Type.String(),
  started_at: Type.Union([DateTimeString, Type.Null()]),
  finished_at: Type.Union([DateTimeString, Type.Null()]),
});

const TaskSchema = Type.Object({
  name: Type.String(),
  queue: Type.String(),
  schedule: Type.String({ description: 'cron 表达式 / cron pattern, in `timezone`' }),
  timezone: Type.String({ description: '计费时区 / billing time zone' }),
  next_run: Type.Union([DateTimeString, Type.Null()]),
  description: Type.String({ description: '按 Accept-Language / in the caller language' }),
  last_run: Type.Union([LastRunSchema, Type.Null()]),
});

// Strings, not dates: the task's own parser validates them, so that a bad value gets its specific error code.
const RunBody = Type.Object(
  {
    date: Type.Optional(Type.String({ maxLength: 40, description: '计费日期 / day to bill, YYYY-MM-DD' })),
    from: Type.Optional(Type.String({ maxLength: 40, description: '起始日期（含）/ first day, included' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: '结束日期（含）/ last day, included' })),
    force: Type.Optional(
      Type.Boolean({
        description: '重新计费已计费的日期 / re-rate days already billed, keeping an audit trail',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      '仅 create_daily_billing_records 接受参数 / only create_daily_billing_records takes arguments',
  },
);

const RunAccepted = Type.Object({
  task_run: Type.Integer({ description: '任务执行记录 ID / TaskRun id' }),
  status: Type.String(),
  url: Type.String({ description: '执行记录地址，可加 ?wait=秒 / the run, add ?wait=SECONDS to await it' }),
});

function requireTaskName(name: string): TaskName {
  if ((TASK_NAMES as readonly string[]).includes(name)) return name as TaskName;
  throw new ApiError(404, 'unknown_task', { name, names: TASK_NAMES.join(', ') });
}

export const taskRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { database, settings, tasks } = app.deps;
  const taskRuns = new TaskRunRepository(database.db);

  async function describeTasks(names: readonly TaskName[], acceptLanguage: string | undefined) {
    const locale = localeFromAcceptLanguage(acceptLanguage);
    const schedules = describeSchedules(settings).filter((schedule) => names.includes(schedule.name));
    return Promise.all(
      schedules.map(async (schedule) => {
        const last = await taskRuns.getLastByTask(schedule.name);
        return {
          name: schedule.name,
          queue: schedule.queue,
          schedule: schedule.schedule,
          timezone: schedule.timezone,
          next_run: schedule.nextRun?.toISOString() ?? null,
          description: TASKS[schedule.name].description[locale],
          last_run: last
            ? {
                id: Number(last.id),
                status: last.status,
                trigger: last.trigger,
                started_at: last.started_at?.toISOString() ?? null,
                finished_at: last.finished_at?.toISOString() ?? null,
              }
            : null,
        };
      }),
    );
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['tasks'],
        summary:
          '周期任务：队列、计划、下次与上次执行 / periodic tasks with queue, schedule, next and last run',
        querystring: PageQuery,
        response: { 200: Paginated(TaskSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const tasks = await describeTasks(TASK_NAMES, request.headers['accept-language']);
      return paginated(request, page, tasks.length, tasks.slice(page.offset, page.offset + page.pageSize));
    },
  );

  app.get(
    '/:name/',
    {
      schema: {
        tags: ['tasks'],
        summary: '一个周期任务 / a periodic task',
        params: NameParams,
        response: { 200: TaskSchema, ...errorResponses },
      },
    },
    async (request) => {
      const name = requireTaskName(request.params.name);
      const [task] = await describeTasks([name], request.headers['accept-language']);
      return task!;
    },
  );

  app.post(
    '/:name/run/',
    {
      config: { access: 'admin' },
      // A POST without a body runs the task without arguments.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags: ['tasks'],
        summary: '立即执行任务（后台）/ start a run now, in the background',
        description:
          '返回 202 与执行记录 ID；用 GET /api/task-runs/{id}/?wait=秒 等待结果。同一任务正在执行时返回 409。' +
          ' / Returns 202 with the TaskRun id; await the result with GET /api/task-runs/{id}/?wait=SECONDS.' +
          ' A run of a task that is already running returns 409.',
        params: NameParams,
        body: RunBody,
        response: { 202: RunAccepted, ...errorResponses, 503: errorResponses[400] },
      },
    },
    async (request, reply) => {
      const name = requireTaskName(request.params.name);
      const runId = await tasks.start(name, request.body, 'manual');
      request.log.info({ task: name, run_id: runId, user_id: request.user!.id }, 'manual task run started');

      const url = taskRunUrl(request, runId);
      const run = await taskRuns.getById(runId);
      return reply
        .status(202)
        .header('location', url)
        .send({ task_run: Number(runId), status: run?.status ?? 'running', url });
    },
  );
};
