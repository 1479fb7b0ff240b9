import type { Settings } from '../config/settings.js';
import type { DatabaseHandle } from '../db/database.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import type { TaskRun, TaskTrigger } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { translate } from '../i18n/messages.js';
import type { Logger } from '../logger.js';
import { TaskPartlyFailedError } from './errors.js';
import { withTryAdvisoryLock } from './locks.js';
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
  /** Runs in progress in this process by task name, with the TaskRun id once the row exists. */
  readonly #running = new Map<
    string,
    { readonly finished: Promise<TaskRun>; readonly runId: string | null }
  >();

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
    const { finished } = await this.start(name, rawArguments, trigger);
    return finished;
  }

  /**
   * Starts `name` and resolves as soon as its TaskRun row exists, with the run
   * id and a promise of the finished TaskRun. Rejects like `run` when the run
   * cannot start. A failure of the task itself resolves `finished` with a
   * failed TaskRun. `finished` rejects only when the database cannot record
   * the outcome, so a caller that does not await it must still catch it.
   */
  async start(
    name: string,
    rawArguments: Record<string, unknown>,
    trigger: TaskTrigger,
  ): Promise<{ runId: string; finished: Promise<TaskRun> }> {
    const task = getTask(name);
    const args = task.parseArguments(rawArguments, { now: this.clock(), settings: this.settings });

    // No await may come before #running.set, because a second call in the same tick must see this run.
    const current = this.#running.get(task.name);
    if (current) throw new TaskAlreadyRunningError(task.name, current.runId);
    let runId: string | null = null;
    let recordCreated: (id: string) => void = () => undefined;
    const created = new Promise<string>((resolve) => {
      recordCreated = (id) => {
        runId = id;
        resolve(id);
      };
    });
    const finished = this.#withCrossProcessLock(task, () =>
      this.#execute(task, args, trigger, recordCreated),
    );
    this.#running.set(task.name, {
      finished,
      get runId() {
        return runId;
      },
    });
    const forget = () => {
      this.#running.delete(task.name);
    };
    finished.then(forget, forget);

    // `finished` settles first only when the run failed to start (lock taken, insert failed).
    return { runId: await Promise.race([created, finished.then((run) => run.id)]), finished };
  }

  /** Waits for every run in progress in this process to finish. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running.values()].map((entry) => entry.finished));
  }

  #withCrossProcessLock(task: TaskDefinition, execute: () => Promise<TaskRun>): Promise<TaskRun> {
    return withTryAdvisoryLock(this.database, task.lockKey, async (locked) => {
      if (locked) return execute();
      const last = await new TaskRunRepository(this.database.db).getLastByTask(task.name);
      throw new TaskAlreadyRunningError(task.name, last?.status === 'running' ? last.id : null);
    });
  }

  async #execute(
    task: TaskDefinition,
    args: Record<string, unknown>,
    trigger: TaskTrigger,
    recordCreated: (runId: string) => void,
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
    recordCreated(record.id);
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
      const message = describeTaskError(error);
      logger.error({ err: error, duration_ms: finishedAt.getTime() - startedAt.getTime() }, 'task failed');
      const result = error instanceof TaskPartlyFailedError ? error.result : null;
      return taskRuns.markFailed(record.id, message, finishedAt, result);
    }
  }
}

/** Returns the English text stored in `task_runs.error` for a failed run. */
export function describeTaskError(error: unknown): string {
  if (error instanceof DomainError) return translate(error.code, error.parameters, 'en');
  if (error instanceof TaskPartlyFailedError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Drops long lists from a task result so that log lines stay short. */
export function summarize(result: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(result).filter(([, value]) => !Array.isArray(value) || value.length <= 10),
  );
}
