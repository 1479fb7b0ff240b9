import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';

import { TaskRunRepository } from '../../db/repositories/task-run.repository.js';
import type { TaskRun } from '../../db/schema.js';
import { isFinished, TaskRunLostError } from '../../tasks/dispatcher.js';
import { TASK_NAMES } from '../../tasks/registry.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DateTimeString, errorResponses, IdParams } from '../schemas.js';

/**
 * Task runs: list and detail, with `?wait=SECONDS` to await a run's outcome.
 *
 * Runs are operational records, not tenant data, so every signed-in user may
 * list them and see whether a task ran and how it ended. Their `result` and
 * `error` are shown to admins only, because they contain figures and
 * inventory details of every tenant (e.g. the amount billed across all
 * tenants, external ids of VMs that failed to sync). Tenant users receive
 * null for both.
 */

/** Longest `?wait` a request may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 300;

const ORDERING = ['id', 'started_at', 'finished_at'] as const;
const TaskRunStatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
]);
const TaskTriggerSchema = Type.Union([
  Type.Literal('schedule'),
  Type.Literal('manual'),
  Type.Literal('catch_up'),
]);
const JsonObject = Type.Object({}, { additionalProperties: true });

export const TaskRunSchema = Type.Object({
  id: Type.Integer(),
  task_name: Type.String(),
  queue: Type.String(),
  trigger: TaskTriggerSchema,
  arguments: JsonObject,
  status: TaskRunStatusSchema,
  attempts: Type.Integer(),
  result: Type.Union([JsonObject, Type.Null()], {
    description: '执行摘要，仅管理员可见 / JSON summary of the run; null for tenant users',
  }),
  error: Type.Union([Type.String(), Type.Null()], {
    description: '失败原因，仅管理员可见 / why the run failed; null for tenant users',
  }),
  created_at: DateTimeString,
  started_at: Type.Union([DateTimeString, Type.Null()]),
  finished_at: Type.Union([DateTimeString, Type.Null()]),
  duration_seconds: Type.Union([Type.Number(), Type.Null()], {
    description: '耗时（秒），未结束时为 null / seconds from start to finish; null until finished',
  }),
});

export function serializeTaskRun(run: TaskRun, request: FastifyRequest) {
  const isAdmin = request.user?.role === 'admin';
  return {
    id: Number(run.id),
    task_name: run.task_name,
    queue: run.queue,
    trigger: run.trigger,
    arguments: run.arguments,
    status: run.status,
    attempts: run.attempts,
    result: isAdmin ? run.result : null,
    error: isAdmin ? run.error : null,
    created_at: run.created_at.toISOString(),
    started_at: run.started_at?.toISOString() ?? null,
    finished_at: run.finished_at?.toISOString() ?? null,
    duration_seconds:
      run.started_at && run.finished_at
        ? (run.finished_at.getTime() - run.started_at.getTime()) / 1000
        : null,
  };
}

/** Absolute URL of a run's detail endpoint, on the host the request came to. */
export function taskRunUrl(request: FastifyRequest, id: string | number): string {
  return new URL(`/api/task-runs/${id}/`, `${request.protocol}://${request.host}`).toString();
}

export const taskRunRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const taskRuns = new TaskRunRepository(app.deps.database.db);

  // Waiting requests stop early when the server shuts down, so that close() does not wait minutes for them.
  const shutdown = new AbortController();
  app.addHook('preClose', async () => {
    shutdown.abort();
  });

  async function requireRun(id: number): Promise<TaskRun> {
    const run = await taskRuns.getById(String(id));
    if (!run) throw new ApiError(404, 'object_not_found', { resource: 'task run', id });
    return run;
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['tasks'],
        summary: '任务执行记录列表（默认按 id 倒序）/ list task runs, newest first by default',
        description:
          '所有登录用户可见；result 与 error 仅管理员可见 / visible to every signed-in user; result and error to admins only',
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            task_name: Type.Optional(Type.String({ enum: [...TASK_NAMES] })),
            status: Type.Optional(TaskRunStatusSchema),
            trigger: Type.Optional(TaskTriggerSchema),
            ordering: Type.Optional(
              Type.String({
                enum: ORDERING.flatMap((field) => [field, `-${field}`]),
                description: '排序字段 / sort field (default -id)',
              }),
            ),
          }),
        ]),
        response: { 200: Paginated(TaskRunSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const ordering = request.query.ordering ?? '-id';
      const descending = ordering.startsWith('-');
      const { rows, count } = await taskRuns.getPage({
        taskName: request.query.task_name,
        status: request.query.status,
        trigger: request.query.trigger,
        orderBy: (descending ? ordering.slice(1) : ordering) as (typeof ORDERING)[number],
        direction: descending ? 'desc' : 'asc',
        limit: page.pageSize,
        offset: page.offset,
      });
      return paginated(
        request,
        page,
        count,
        rows.map((run) => serializeTaskRun(run, request)),
      );
    },
  );

  app.get(
    '/:id/',
    {
      schema: {
        tags: ['tasks'],
        summary: '任务执行记录；可等待其结束 / a task run, optionally awaiting its outcome',
        description:
          `wait=N：若执行未结束，最多等待 N 秒（0–${MAX_WAIT_SECONDS}），然后返回当前状态 / ` +
          `wait=N: while the run is queued or running, wait up to N seconds (0-${MAX_WAIT_SECONDS}) ` +
          'for it to finish, then return its current state; a status of queued or running means the wait ended first',
        params: IdParams,
        querystring: Type.Object({
          wait: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: MAX_WAIT_SECONDS,
              description: `最长等待秒数 / maximum seconds to wait, 0 to ${MAX_WAIT_SECONDS}`,
            }),
          ),
        }),
        response: { 200: TaskRunSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      let run = await requireRun(request.params.id);
      const waitSeconds = request.query.wait ?? 0;
      if (isFinished(run) || waitSeconds === 0) return serializeTaskRun(run, request);

      // The dispatcher finds runs started by any process: through the queue's events, or by reading the row.
      const clientGone = new AbortController();
      const onClientGone = () => clientGone.abort();
      reply.raw.once('close', onClientGone);
      try {
        run = await app.deps.tasks.waitForRun(run.id, {
          timeoutMs: waitSeconds * 1000,
          signal: AbortSignal.any([clientGone.signal, shutdown.signal]),
        });
      } catch (error) {
        // The dispatcher has marked a run whose job left the queue as failed, and the row contains the reason.
        if (!(error instanceof TaskRunLostError)) throw error;
        run = await requireRun(request.params.id);
      } finally {
        reply.raw.off('close', onClientGone);
      }
      return serializeTaskRun(run, request);
    },
  );
};
