import { QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Settings } from '../config/settings.js';
import type { DatabaseHandle } from '../db/database.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import type { TaskRun, TaskTrigger } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { translate } from '../i18n/messages.js';
import type { Logger } from '../logger.js';
import type { QueueDepthSource } from '../metrics/queue-depths.js';
import {
  EmbeddedDispatcher,
  isFinished,
  pollRun,
  requireRun,
  TaskRunLostError,
  type TaskDispatcher,
} from '../tasks/dispatcher.js';
import { getTask, type QueueName } from '../tasks/registry.js';
import { TaskAlreadyRunningError, TaskRunner } from '../tasks/runner.js';
import { connectRedis, QUEUE_NAMES, TaskQueues, type TaskJobData } from './queues.js';

/** Job states in which a run of a task counts as queued or running. */
const PENDING_STATES = ['active', 'waiting', 'waiting-children', 'prioritized', 'paused'] as const;

/**
 * Starts runs by adding BullMQ jobs and awaits them through one QueueEvents
 * per queue, shared by every waiting caller. Every wait has a timeout, and a
 * wait ends with TaskRunLostError as soon as the run's job leaves the queue
 * without finishing.
 */
export class DistributedDispatcher implements TaskDispatcher {
  readonly #taskRuns: TaskRunRepository;
  readonly #queues: TaskQueues;
  readonly #events: Map<QueueName, QueueEvents>;
  /** Connections of the QueueEvents, which BullMQ leaves open because this class created them. */
  readonly #connections: Redis[] = [];

  constructor(
    database: DatabaseHandle,
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.#taskRuns = new TaskRunRepository(database.db);
    this.#queues = new TaskQueues(settings, logger);
    this.#events = new Map(
      QUEUE_NAMES.map((name) => {
        const connection = connectRedis(settings, `events:${name}`, { blocking: true, logger });
        this.#connections.push(connection);
        const events = new QueueEvents(name, {
          connection,
          prefix: settings.redisPrefix,
        });
        events.on('error', (error) => logger.error({ err: error, queue: name }, 'queue events error'));
        // Many callers may wait at once, each with its own listeners.
        events.setMaxListeners(0);
        return [name, events];
      }),
    );
  }

  get queues(): TaskQueues {
    return this.#queues;
  }

  /** Waits until the event streams are subscribed, so that no event of a job added afterwards is missed. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.#events.values()].map((events) => events.waitUntilReady()));
  }

  async start(name: string, rawArguments: Record<string, unknown>, trigger: TaskTrigger): Promise<string> {
    const task = getTask(name);
    const args = task.parseArguments(rawArguments, { now: this.clock(), settings: this.settings });
    const queue = this.#queues.get(task.queue);

    let pendingJobs: Job<TaskJobData>[];
    try {
      const jobs = (await queue.getJobs([...PENDING_STATES], 0, 1000)) as (Job<TaskJobData> | undefined)[];
      pendingJobs = jobs.filter((job): job is Job<TaskJobData> => job?.name === task.name);
    } catch (error) {
      throw new DomainError('task_queue_unavailable', { name: task.name, reason: (error as Error).message });
    }
    if (await this.#anyUnfinished(pendingJobs)) {
      const last = await this.#taskRuns.getLastByTask(task.name);
      const active = last && !isFinished(last) ? last.id : null;
      throw new TaskAlreadyRunningError(task.name, active);
    }

    const run = await this.#taskRuns.createQueued({
      task_name: task.name,
      queue: task.queue,
      trigger,
      arguments: args,
    });
    const jobId = `task-run-${run.id}`;
    await this.#taskRuns.setJobId(run.id, jobId);

    const data: TaskJobData = { trigger, arguments: args, taskRunId: run.id };
    try {
      await queue.add(task.name, data, { jobId });
    } catch (error) {
      const reason = (error as Error).message;
      await this.#taskRuns.markFailed(run.id, `could not add the job to Redis: ${reason}`, new Date());
      throw new DomainError('task_queue_unavailable', { name: task.name, reason });
    }
    this.logger.info({ task: task.name, run_id: run.id, job_id: jobId, trigger }, 'task run queued');
    return run.id;
  }

  async waitForRun(runId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TaskRun> {
    const run = await requireRun(this.#taskRuns, runId);
    if (isFinished(run) || options.timeoutMs <= 0) return run;
    // A run started by `task exec` in another process has no job: its row is all there is to watch.
    if (!run.job_id) return pollRun(this.#taskRuns, runId, options);

    const jobId = run.job_id;
    const queueName = run.queue as QueueName;
    const events = this.#events.get(queueName);
    if (!events) return pollRun(this.#taskRuns, runId, options);

    return new Promise<TaskRun>((resolve, reject) => {
      let settled = false;
      const cleanup = () => {
        settled = true;
        clearTimeout(timer);
        events.off('completed', onFinished);
        events.off('failed', onFinished);
        events.off('removed', onRemoved);
        options.signal?.removeEventListener('abort', onTimeoutOrAbort);
      };
      const settleWithRow = () => {
        if (settled) return;
        cleanup();
        requireRun(this.#taskRuns, runId).then(resolve, reject);
      };
      const settleLost = () => {
        if (settled) return;
        cleanup();
        this.#markLost(runId, jobId).then(() => reject(new TaskRunLostError(runId, jobId)), reject);
      };
      const onFinished = ({ jobId: id }: { jobId: string }) => {
        if (id === jobId) settleWithRow();
      };
      const onRemoved = ({ jobId: id }: { jobId: string }) => {
        if (id === jobId) settleLost();
      };
      const onTimeoutOrAbort = () => settleWithRow();

      events.on('completed', onFinished);
      events.on('failed', onFinished);
      events.on('removed', onRemoved);
      const timer = setTimeout(onTimeoutOrAbort, options.timeoutMs);
      options.signal?.addEventListener('abort', onTimeoutOrAbort, { once: true });

      // The job may have finished or gone before the listeners were attached.
      this.#checkJob(queueName, jobId, runId).then(
        (state) => {
          if (state === 'finished') settleWithRow();
          else if (state === 'missing') settleLost();
        },
        (error: unknown) => {
          if (settled) return;
          cleanup();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#events.values()].map((events) => events.close()));
    for (const connection of this.#connections) connection.disconnect();
    await this.#queues.close();
  }

  /**
   * Whether one of `jobs` still runs. A worker records the outcome in the
   * TaskRun before BullMQ marks the job completed, so a job whose run has
   * finished no longer counts, and a caller that awaited the run may start
   * the next one at once.
   */
  async #anyUnfinished(jobs: Job<TaskJobData>[]): Promise<boolean> {
    for (const job of jobs) {
      const run = job.data.taskRunId
        ? await this.#taskRuns.getById(job.data.taskRunId)
        : await this.#taskRuns.getByJobId(job.id!);
      if (!run || !isFinished(run)) return true;
    }
    return false;
  }

  async #checkJob(
    queue: QueueName,
    jobId: string,
    runId: string,
  ): Promise<'pending' | 'finished' | 'missing'> {
    const run = await requireRun(this.#taskRuns, runId);
    if (isFinished(run)) return 'finished';
    const job = await this.#queues.get(queue).getJob(jobId);
    if (!job) {
      // The worker may have finished the run and the job retention removed it in between.
      return isFinished(await requireRun(this.#taskRuns, runId)) ? 'finished' : 'missing';
    }
    const state = await job.getState();
    return state === 'completed' || state === 'failed' ? 'finished' : 'pending';
  }

  /** Fails a run whose job is gone, unless a worker recorded its outcome first. */
  async #markLost(runId: string, jobId: string): Promise<void> {
    const run = await requireRun(this.#taskRuns, runId);
    if (isFinished(run)) return;
    const message = translate('task_run_lost', { run_id: runId, job_id: jobId }, 'en');
    await this.#taskRuns.markFailed(runId, message, new Date());
    this.logger.warn({ run_id: runId, job_id: jobId }, 'task run failed: its job left the queue unfinished');
  }
}

/**
 * Returns the dispatcher of an API process: BullMQ when REDIS_URL is set
 * (distributed mode), with its queues as the queue depths of /metrics, else
 * the embedded runner in this process, which has no queues.
 */
export async function openTaskDispatcher(
  database: DatabaseHandle,
  settings: Settings,
  logger: Logger,
): Promise<{ tasks: TaskDispatcher; queueDepths: QueueDepthSource | undefined }> {
  if (!settings.redisUrl) {
    const runner = new TaskRunner(database, settings, logger);
    return { tasks: new EmbeddedDispatcher(runner, database, logger), queueDepths: undefined };
  }
  const dispatcher = new DistributedDispatcher(database, settings, logger);
  await dispatcher.waitUntilReady();
  return { tasks: dispatcher, queueDepths: dispatcher.queues };
}
