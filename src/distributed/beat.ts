import type { Settings } from '../config/settings.js';
import type { Logger } from '../logger.js';
import { TASK_NAMES, TASKS, type QueueName, type TaskName } from '../tasks/registry.js';
import { defaultJobOptions, type TaskJobData, type TaskQueues } from './queues.js';

export interface SchedulerState {
  task: TaskName;
  queue: string;
  pattern: string;
  timezone: string;
  /** Time of the next run, as BullMQ computed it. */
  nextRun: Date | null;
  /** Action taken: created, updated (pattern or zone changed), repaired (next job missing) or kept. */
  action: 'created' | 'updated' | 'repaired' | 'kept';
}

/**
 * Makes the BullMQ job schedulers match the settings: one per task, with the
 * task name as scheduler id, the task's cron pattern and the billing time zone.
 * Schedulers that the settings do not name are removed. Every step is
 * idempotent and BullMQ names each scheduled job after its scheduler and
 * time, so several `beat` processes reconciling at once never add a second
 * job for the same tick.
 */
export async function reconcileSchedulers(
  queues: TaskQueues,
  settings: Settings,
  logger: Logger,
): Promise<SchedulerState[]> {
  const states: SchedulerState[] = [];
  const configured = new Set<string>(TASK_NAMES);

  for (const queue of queues.all()) {
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      if (!configured.has(scheduler.key) || TASKS[scheduler.key as TaskName].queue !== queue.name) {
        await queue.removeJobScheduler(scheduler.key);
        logger.info({ scheduler: scheduler.key, queue: queue.name }, 'job scheduler removed: not configured');
      }
    }
  }

  for (const name of TASK_NAMES) {
    const task = TASKS[name];
    const queue = queues.get(task.queue);
    const pattern = settings.schedules[name] ?? task.defaultSchedule;
    const timezone = settings.billingTimezone;

    const current = await queue.getJobScheduler(name);
    let action: SchedulerState['action'] = 'kept';
    if (!current) action = 'created';
    else if (current.pattern !== pattern || current.tz !== timezone) action = 'updated';
    else if (!(await hasNextJob(queues, task.queue, name, current.next))) action = 'repaired';

    if (action !== 'kept') {
      const data: TaskJobData = { trigger: 'schedule', arguments: {} };
      await queue.upsertJobScheduler(
        name,
        { pattern, tz: timezone },
        { name, data, opts: defaultJobOptions(settings) },
      );
      logger.info(
        { scheduler: name, queue: task.queue, pattern, timezone, action },
        'job scheduler upserted',
      );
    }

    const scheduler = await queue.getJobScheduler(name);
    states.push({
      task: name,
      queue: task.queue,
      pattern,
      timezone,
      nextRun: scheduler?.next ? new Date(scheduler.next) : null,
      action,
    });
  }
  return states;
}

/** Returns whether the job of the scheduler's next tick exists, waiting or already running. */
export async function hasNextJob(
  queues: TaskQueues,
  queueName: QueueName,
  schedulerId: string,
  next: number | undefined,
): Promise<boolean> {
  if (next === undefined) return false;
  const job = await queues.get(queueName).getJob(`repeat:${schedulerId}:${next}`);
  return job !== undefined;
}

/**
 * The `beat` process: reconciles the schedulers at start and then every
 * `intervalMs`, so that a scheduler deleted by hand or lost with Redis data
 * comes back within one interval.
 */
export class Beat {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly queues: TaskQueues,
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
  ) {}

  async start(): Promise<SchedulerState[]> {
    const states = await reconcileSchedulers(this.queues, this.settings, this.logger);
    this.#timer = setInterval(() => {
      this.#running = reconcileSchedulers(this.queues, this.settings, this.logger).catch((error: unknown) => {
        this.logger.error({ err: error }, 'reconciling job schedulers failed; retrying at the next interval');
      });
    }, this.intervalMs);
    return states;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
