import { setTimeout as sleep } from 'node:timers/promises';

import type { DatabaseHandle } from '../db/database.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import type { TaskRun, TaskTrigger } from '../db/schema.js';
import { DomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TaskRunner } from './runner.js';

/**
 * Starts task runs and awaits their outcome, whether the embedded runner in
 * this process or BullMQ workers in other processes execute them. The API and
 * the CLI use only this interface.
 */
export interface TaskDispatcher {
  /**
   * Starts a run of `name` and resolves with its TaskRun id once the row
   * exists. Rejects with DomainError for bad arguments and with
   * TaskAlreadyRunningError while a run of the task is queued or running.
   */
  start(name: string, rawArguments: Record<string, unknown>, trigger: TaskTrigger): Promise<string>;

  /**
   * Resolves with the run once it has finished, or with its current state
   * when `timeoutMs` passes or `signal` aborts first. Rejects with
   * TaskRunLostError when the run can no longer finish because its job left
   * the queue.
   */
  waitForRun(runId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TaskRun>;

  /** Waits for the runs executing in this process and releases connections. */
  close(): Promise<void>;
}

export class TaskRunLostError extends DomainError {
  constructor(runId: string, jobId: string) {
    super('task_run_lost', { run_id: runId, job_id: jobId });
  }
}

export function isFinished(run: TaskRun): boolean {
  return run.status === 'succeeded' || run.status === 'failed';
}

/** Interval between two reads of a task_runs row while a caller waits for it, in milliseconds. */
const POLL_INTERVAL_MS = 200;

/** Reads the run until it finishes, the timeout passes or the signal aborts. */
export async function pollRun(
  taskRuns: TaskRunRepository,
  runId: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<TaskRun> {
  const deadline = Date.now() + options.timeoutMs;
  let run = await requireRun(taskRuns, runId);
  while (!isFinished(run) && !options.signal?.aborted) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      await sleep(Math.min(POLL_INTERVAL_MS, remaining), undefined, { signal: options.signal });
    } catch {
      // Aborted: the run is returned as it is now.
    }
    run = await requireRun(taskRuns, runId);
  }
  return run;
}

export async function requireRun(taskRuns: TaskRunRepository, runId: string): Promise<TaskRun> {
  const run = await taskRuns.getById(runId);
  if (!run) throw new DomainError('object_not_found', { resource: 'task run', id: runId });
  return run;
}

/** Runs tasks in this process through the embedded TaskRunner (PGlite, or PostgreSQL without Redis). */
export class EmbeddedDispatcher implements TaskDispatcher {
  readonly #taskRuns: TaskRunRepository;

  constructor(
    private readonly runner: TaskRunner,
    database: DatabaseHandle,
    private readonly logger: Logger,
  ) {
    this.#taskRuns = new TaskRunRepository(database.db);
  }

  async start(name: string, rawArguments: Record<string, unknown>, trigger: TaskTrigger): Promise<string> {
    const { runId, finished } = await this.runner.start(name, rawArguments, trigger);

    // The runner records a failed task in its TaskRun, so a rejection here means the outcome was not recorded.
    finished.catch((error: unknown) => {
      this.logger.error({ err: error, task: name, run_id: runId }, 'background task run failed');
    });
    return runId;
  }

  waitForRun(runId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TaskRun> {
    return pollRun(this.#taskRuns, runId, options);
  }

  async close(): Promise<void> {
    await this.runner.drain();
  }
}
