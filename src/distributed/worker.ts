import { UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Settings } from '../config/settings.js';
import type { DatabaseHandle } from '../db/database.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import type { TaskRun } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { translate } from '../i18n/messages.js';
import type { Logger } from '../logger.js';
import { TaskPartlyFailedError } from '../tasks/errors.js';
import { withTryAdvisoryLock } from '../tasks/locks.js';
import { getTask, type QueueName, type TaskDefinition } from '../tasks/registry.js';
import { describeTaskError, summarize } from '../tasks/runner.js';
import { BillingFanOut } from './billing-fan-out.js';
import { BILL_CHUNK_JOB, connectRedis, TaskQueues, type ChunkJobData, type TaskJobData } from './queues.js';

export interface TaskWorkerOptions {
  queues: readonly QueueName[];
  /** Jobs processed at once per queue by this process. */
  concurrency: number;
  /** Source of "now" for the tasks; tests fix it. */
  clock?: () => Date;
}

/**
 * A BullMQ worker process: takes task jobs from its queues, records each run
 * as a TaskRun and bills daily billing runs chunk by chunk (BillingFanOut).
 *
 * A job that fails is retried with exponential backoff (TASK_ATTEMPTS,
 * TASK_BACKOFF_MS). Errors that a retry cannot fix (bad arguments, a missing
 * price version, a failed inventory source) fail the job at once. A worker that dies
 * stops renewing its job lock, and another worker takes the job over after
 * WORKER_LOCK_DURATION_MS. `close()` lets the jobs in progress finish.
 */
export class TaskWorker {
  readonly #workers: Worker[] = [];
  /** Connections of the workers, which BullMQ leaves open because this class created them. */
  readonly #connections: Redis[] = [];
  readonly #taskRuns: TaskRunRepository;
  readonly #queues: TaskQueues;
  readonly #fanOut: BillingFanOut;
  readonly #clock: () => Date;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly options: TaskWorkerOptions,
  ) {
    this.#taskRuns = new TaskRunRepository(database.db);
    this.#queues = new TaskQueues(settings, logger);
    this.#fanOut = new BillingFanOut(database.db, settings, this.#queues.get('billing'));
    this.#clock = options.clock ?? (() => new Date());
  }

  start(): void {
    for (const queue of this.options.queues) {
      const connection = connectRedis(this.settings, `worker:${queue}`, {
        blocking: true,
        logger: this.logger,
      });
      this.#connections.push(connection);
      const worker = new Worker(queue, (job, token) => this.#process(job, token), {
        connection,
        prefix: this.settings.redisPrefix,
        concurrency: this.options.concurrency,
        lockDuration: this.settings.workerLockDurationMs,
        stalledInterval: this.settings.workerLockDurationMs,
        // A job whose worker died twice is failed rather than taken over a third time.
        maxStalledCount: 2,
      });
      worker.on('failed', (job, error) => {
        if (job) void this.#afterFinalFailure(job, error);
      });
      worker.on('error', (error) => {
        this.logger.error({ err: error, queue }, 'worker error');
      });
      this.#workers.push(worker);
      this.logger.info({ queue, concurrency: this.options.concurrency }, 'worker started');
    }
  }

  /** Waits until the workers are connected to Redis and ready to take jobs. */
  async waitUntilReady(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.waitUntilReady()));
  }

  /** Stops taking jobs, lets the jobs in progress finish, and closes the Redis connections. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.close()));
    for (const connection of this.#connections) connection.disconnect();
    await this.#queues.close();
  }

  async #process(job: Job, token: string | undefined): Promise<unknown> {
    if (job.name === BILL_CHUNK_JOB) return this.#processChunk(job as Job<ChunkJobData>);

    const task = getTask(job.name);
    const taskJob = job as Job<TaskJobData>;
    if (task.name === 'create_daily_billing_records' && taskJob.data.arguments?.force !== true) {
      return this.#runFannedOut(task, taskJob, token!);
    }
    return this.#runWhole(task, taskJob);
  }

  /** Runs a task in this worker under its advisory lock, so that runs of one task never overlap. */
  #runWhole(task: TaskDefinition, job: Job<TaskJobData>): Promise<Record<string, unknown>> {
    return withTryAdvisoryLock(this.database, task.lockKey, async (locked) => {
      if (!locked) return this.#skipBusy(task, job);

      const now = this.#clock();
      const run = await this.#beginRun(task, job, now);
      const logger = this.#runLogger(task, job, run);
      logger.info({ arguments: job.data.arguments }, 'task started');
      try {
        const result = await task.run(
          { db: this.database.db, settings: this.settings, logger, taskRunId: run.id, now },
          job.data.arguments ?? {},
        );
        await this.#recordSuccess(run, result, logger, now);
        return result;
      } catch (error) {
        throw await this.#recordFailure(job, run, error, logger);
      }
    });
  }

  async #runFannedOut(
    task: TaskDefinition,
    job: Job<TaskJobData>,
    token: string,
  ): Promise<Record<string, unknown>> {
    const now = this.#clock();
    const plannedRun = job.data.plan ? await this.#taskRuns.getById(job.data.plan.runId) : undefined;
    const run = plannedRun ?? (await this.#beginRun(task, job, now));
    const logger = this.#runLogger(task, job, run);
    if (!plannedRun) logger.info({ arguments: job.data.arguments }, 'task started');

    try {
      const result = await this.#fanOut.process(job, token, run, logger, now);
      await this.#recordSuccess(run, result, logger, new Date(run.started_at ?? now));
      return result;
    } catch (error) {
      if (error instanceof WaitingChildrenError) throw error;
      throw await this.#recordFailure(job, run, error, logger);
    }
  }

  async #processChunk(job: Job<ChunkJobData>) {
    try {
      return await this.#fanOut.billChunk(job);
    } catch (error) {
      const { taskRunId, day, afterId, lastId } = job.data;
      const message = `billing ${day} for systems ${afterId + 1} to ${lastId} failed: ${describeTaskError(error)}`;
      const permanent = error instanceof DomainError;
      if (permanent || isLastAttempt(job)) {
        await this.#taskRuns.markFailed(taskRunId, message, new Date());
        this.logger.error({ err: error, run_id: taskRunId, job_id: job.id, day }, 'billing chunk failed');
      } else {
        this.logger.warn(
          { err: error, run_id: taskRunId, job_id: job.id, day, attempt: job.attemptsMade + 1 },
          'billing chunk attempt failed; retrying',
        );
      }
      throw permanent ? new UnrecoverableError(message) : error;
    }
  }

  /** Marks the run of `job` running: the TaskRun made at request time, or one made now for a scheduled job. */
  async #beginRun(task: TaskDefinition, job: Job<TaskJobData>, now: Date): Promise<TaskRun> {
    if (job.data.taskRunId) {
      const run = await this.#taskRuns.markRunning(job.data.taskRunId, now);
      if (!run)
        throw new UnrecoverableError(`task run ${job.data.taskRunId} of job ${job.id} does not exist`);
      return run;
    }
    return this.#taskRuns.startForJob({
      job_id: job.id!,
      task_name: task.name,
      queue: task.queue,
      trigger: job.data.trigger ?? 'schedule',
      arguments: job.data.arguments ?? {},
      started_at: now,
    });
  }

  /** A scheduled tick is skipped while the previous run goes on; a requested run fails with the reason. */
  async #skipBusy(task: TaskDefinition, job: Job<TaskJobData>): Promise<Record<string, unknown>> {
    if (job.data.taskRunId) {
      const message = translate('task_already_running', { name: task.name, run_id: '?' }, 'en');
      await this.#taskRuns.markFailed(job.data.taskRunId, message, new Date());
      throw new UnrecoverableError(message);
    }
    this.logger.warn(
      { task: task.name, job_id: job.id },
      'scheduled run skipped: the previous run is still going',
    );
    return { skipped: true, reason: 'the previous run of the task is still going' };
  }

  async #recordSuccess(run: TaskRun, result: Record<string, unknown>, logger: Logger, startedAt: Date) {
    const finishedAt = new Date();
    await this.#taskRuns.markSucceeded(run.id, result, finishedAt);
    logger.info(
      { duration_ms: finishedAt.getTime() - startedAt.getTime(), result: summarize(result) },
      'task succeeded',
    );
  }

  /**
   * Records a failed attempt and returns the error for BullMQ: the run fails
   * for good on its last attempt or when a retry cannot help, and otherwise
   * goes back to queued with the attempt's error.
   */
  async #recordFailure(job: Job, run: TaskRun, error: unknown, logger: Logger): Promise<unknown> {
    const message = describeTaskError(error);
    const permanent =
      error instanceof DomainError ||
      error instanceof TaskPartlyFailedError ||
      error instanceof UnrecoverableError;

    if (permanent || isLastAttempt(job)) {
      const result = error instanceof TaskPartlyFailedError ? error.result : null;
      await this.#taskRuns.markFailed(run.id, message, new Date(), result);
      logger.error({ err: error, attempt: job.attemptsMade + 1 }, 'task failed');
      return permanent ? new UnrecoverableError(message) : error;
    }

    const attempts = job.opts.attempts ?? 1;
    await this.#taskRuns.markRetrying(
      run.id,
      `attempt ${job.attemptsMade + 1} of ${attempts} failed: ${message}`,
    );
    logger.warn({ err: error, attempt: job.attemptsMade + 1, attempts }, 'task attempt failed; retrying');
    return error;
  }

  /**
   * Fails the TaskRun of a job that BullMQ failed without the processor
   * recording it, such as a job whose workers died more often than
   * maxStalledCount allows.
   */
  async #afterFinalFailure(job: Job, error: Error): Promise<void> {
    if (!(error instanceof UnrecoverableError) && !isFinalFailure(job)) return;
    try {
      const data = job.data as Partial<TaskJobData & ChunkJobData>;
      const runId = data.taskRunId ?? data.plan?.runId ?? (await this.#taskRuns.getByJobId(job.id!))?.id;
      if (!runId) return;
      const run = await this.#taskRuns.getById(runId);
      if (run && (run.status === 'queued' || run.status === 'running')) {
        await this.#taskRuns.markFailed(runId, `job ${job.id} failed: ${error.message}`, new Date());
        this.logger.error({ err: error, run_id: runId, job_id: job.id }, 'task failed in the queue');
      }
    } catch (recordError) {
      this.logger.error({ err: recordError, job_id: job.id }, 'could not record the failure of a job');
    }
  }

  #runLogger(task: TaskDefinition, job: Job, run: TaskRun): Logger {
    return this.logger.child({ task: task.name, run_id: run.id, job_id: job.id, trigger: run.trigger });
  }
}

function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** Whether BullMQ will not retry `job` after the failure it just reported. */
function isFinalFailure(job: Job): boolean {
  return job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined;
}
