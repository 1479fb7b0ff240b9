import { sql } from 'kysely';

import type { Settings } from '../config/settings.js';
import type { DatabaseHandle } from '../db/database.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import type { TaskRun, TaskTrigger } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { translate } from '../i18n/messages.js';
import type { Logger } from '../logger.js';
import { TaskPartlyFailedError } from './errors.js';
import { getTask, type TaskDefinition } from './registry.js';

export class TaskAlreadyRunningError extends DomainError {
  constructor(name: string, runId: string | null) {
    super('task_already_running', { name, run_id: runId ?? '?' });
  }
}

/**
 * Runs tasks in this process and records each run as a TaskRun. One task never
 * runs twice at once: within the process a map of running tasks guards it, and
 * on PostgreSQL a session advisory lock per task guards it across processes
 * (PGlite is already single-process through its data folder lock).
 */
export class TaskRunner {
  readonly #running = new Map<string, Promise<TaskRun>>();

  constructor(
    private readonly database: DatabaseHandle,
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Names of the tasks running now in this process. */
  get runningTasks(): string[] {
    return [...this.#running.keys()];
  }

  /**
   * Runs `name` now and resolves with its finished TaskRun (status succeeded or
   * failed). Rejects with DomainError for bad arguments and with
   * TaskAlreadyRunningError when a run of the task is in progress.
   */
  async run(name: string, rawArguments: Record<string, unknown>, trigger: TaskTrigger): Promise<TaskRun> {
    const task = getTask(name);
    const args = task.parseArguments(rawArguments, { now: this.clock(), settings: this.settings });

    if (this.#running.has(task.name)) throw new TaskAlreadyRunningError(task.name, null);
    const run = this.#withCrossProcessLock(task, () => this.#execute(task, args, trigger));
    this.#running.set(task.name, run);
    try {
      return await run;
    } finally {
      this.#running.delete(task.name);
    }
  }

  /** Waits for every run in progress in this process to finish. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }

  async #withCrossProcessLock(task: TaskDefinition, execute: () => Promise<TaskRun>): Promise<TaskRun> {
    if (this.database.kind !== 'postgres') return execute();

    return this.database.db.connection().execute(async (connection) => {
      const { rows } = await sql<{
        locked: boolean;
      }>`SELECT pg_try_advisory_lock(${task.lockKey}::bigint) AS locked`.execute(connection);
      if (!rows[0]?.locked) {
        const last = await new TaskRunRepository(this.database.db).getLastByTask(task.name);
        throw new TaskAlreadyRunningError(task.name, last?.status === 'running' ? last.id : null);
      }
      try {
        return await execute();
      } finally {
        await sql`SELECT pg_advisory_unlock(${task.lockKey}::bigint)`.execute(connection);
      }
    });
  }

  async #execute(
    task: TaskDefinition,
    args: Record<string, unknown>,
    trigger: TaskTrigger,
  ): Promise<TaskRun> {
    const taskRuns = new TaskRunRepository(this.database.db);
    const startedAt = this.clock();
    const record = await taskRuns.createRunning({
      task_name: task.name,
      queue: task.queue,
      trigger,
      arguments: args,
      started_at: startedAt,
    });
    const logger = this.logger.child({ task: task.name, run_id: record.id, trigger });
    logger.info({ arguments: args }, 'task started');

    try {
      const result = await task.run(
        { db: this.database.db, settings: this.settings, logger, taskRunId: record.id, now: startedAt },
        args,
      );
      const finishedAt = new Date();
      const finished = await taskRuns.markSucceeded(record.id, result, finishedAt);
      logger.info(
        { duration_ms: finishedAt.getTime() - startedAt.getTime(), result: summarize(result) },
        'task succeeded',
      );
      return finished;
    } catch (error) {
      const finishedAt = new Date();
      const message =
        error instanceof DomainError
          ? translate(error.code, error.parameters, 'en')
          : error instanceof TaskPartlyFailedError
            ? error.message
            : describeError(error);
      logger.error({ err: error, duration_ms: finishedAt.getTime() - startedAt.getTime() }, 'task failed');
      const result = error instanceof TaskPartlyFailedError ? error.result : null;
      return taskRuns.markFailed(record.id, message, finishedAt, result);
    }
  }
}

/** Drops long lists from a task result so that log lines stay short. */
function summarize(result: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(result).filter(([, value]) => !Array.isArray(value) || value.length <= 10),
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
