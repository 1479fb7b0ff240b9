import { Queue, type DefaultJobOptions } from 'bullmq';
import { Redis } from 'ioredis';

import type { Settings } from '../config/settings.js';
import type { TaskTrigger } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { QueueDepth, QueueDepthSource } from '../metrics/queue-depths.js';
import type { QueueName } from '../tasks/registry.js';

/**
 * BullMQ queues of distributed mode. Queue names and job names are a contract
 * between `serve`, `worker`, `beat` and `monitor`, which may run different
 * builds during a rolling upgrade, so change them only with a migration plan.
 */

export const QUEUE_NAMES: readonly QueueName[] = ['billing', 'monitoring'];

/** Job name of one chunk of a distributed billing run (queue `billing`). */
export const BILL_CHUNK_JOB = 'bill_chunk';

/** Data of a task job; the job name is the task name. */
export interface TaskJobData {
  trigger: TaskTrigger;
  /** Arguments already validated by the task's parseArguments. */
  arguments: Record<string, unknown>;
  /** TaskRun created when the run was requested; absent for scheduled jobs, whose worker creates it. */
  taskRunId?: string;
  /** Step of a billing run that fans out into chunk jobs. */
  step?: 'plan' | 'wait';
  /** Days a fanned-out billing run bills, stored by its plan step. */
  plan?: { runId: string; days: string[]; daysBeyondWindow: number };
}

/** Data of a bill_chunk job. */
export interface ChunkJobData {
  taskRunId: string;
  day: string;
  afterId: number;
  lastId: number;
}

/** Value a bill_chunk job returns to its parent. */
export interface ChunkJobResult {
  day: string;
  systems: number;
  recordsCreated: number;
  amountCreated: string;
  priceVersionId: number;
}

/** Parses `queues` as given to `worker --queues`; throws naming the unknown queue. */
export function parseQueueNames(value: string): QueueName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(QUEUE_NAMES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new DomainError('invalid_queues', { value, names: QUEUE_NAMES.join(', ') });
  }
  return [...new Set(names)] as QueueName[];
}

/**
 * Opens a Redis connection for BullMQ. Workers and QueueEvents (`blocking`)
 * must retry their commands forever (maxRetriesPerRequest null, as BullMQ
 * requires) so that they resume after a Redis restart. A connection that adds
 * jobs keeps ioredis's bounded retries, so that a request made while Redis is
 * down fails with an error instead of hanging.
 */
export function connectRedis(
  settings: Settings,
  purpose: string,
  options: { blocking: boolean; logger?: Logger },
): Redis {
  if (!settings.redisUrl) {
    throw new Error('REDIS_URL is not set; distributed mode needs redis://HOST:PORT and DATABASE_URL');
  }
  const logger = options.logger ?? silentLogger;
  const redis = new Redis(settings.redisUrl, {
    maxRetriesPerRequest: options.blocking ? null : 3,
    connectionName: `cloud-platform:${purpose}`,
  });

  // ioredis reconnects on its own; each distinct error is logged once rather than at every retry.
  let lastError: string | undefined;
  redis.on('error', (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: error, connection: purpose }, 'Redis connection error; reconnecting');
  });
  redis.on('ready', () => {
    if (lastError === undefined) return;
    lastError = undefined;
    logger.info({ connection: purpose }, 'Redis connection restored');
  });
  return redis;
}

/** Retries, backoff and retention of every task job. */
export function defaultJobOptions(settings: Settings): DefaultJobOptions {
  return {
    attempts: settings.taskAttempts,
    backoff: { type: 'exponential', delay: settings.taskBackoffMs },
    removeOnComplete: { age: 24 * 3600, count: 1000 },
    removeOnFail: { age: settings.failedJobRetentionDays * 24 * 3600 },
  };
}

/** Job states whose counts /metrics reports. */
const COUNTED_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'paused',
  'failed',
  'completed',
] as const;

/** The two queues on one shared connection, for code that adds jobs or reads queue state. */
export class TaskQueues implements QueueDepthSource {
  readonly connection: Redis;
  readonly #queues: Map<QueueName, Queue>;

  constructor(
    readonly settings: Settings,
    logger: Logger = silentLogger,
  ) {
    this.connection = connectRedis(settings, 'queues', { blocking: false, logger });
    this.#queues = new Map(
      QUEUE_NAMES.map((name) => {
        const queue = new Queue(name, {
          connection: this.connection,
          prefix: settings.redisPrefix,
          defaultJobOptions: defaultJobOptions(settings),
        });
        // Without a listener, an 'error' event (Redis unreachable) would end the process.
        queue.on('error', (error) => logger.warn({ err: error, queue: name }, 'queue connection error'));
        return [name, queue];
      }),
    );
  }

  get(name: QueueName): Queue {
    return this.#queues.get(name)!;
  }

  all(): Queue[] {
    return [...this.#queues.values()];
  }

  async getCounts(): Promise<QueueDepth[]> {
    const perQueue = await Promise.all(
      this.all().map(async (queue) => {
        const counts = await queue.getJobCounts(...COUNTED_STATES);
        return COUNTED_STATES.map((state) => ({ queue: queue.name, state, count: counts[state] ?? 0 }));
      }),
    );
    return perQueue.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
    this.connection.disconnect();
  }
}
