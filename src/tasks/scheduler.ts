import { Cron } from 'croner';

import type { Settings } from '../config/settings.js';
import type { Logger } from '../logger.js';
import { TASK_NAMES, TASKS, type TaskName } from './registry.js';
import { TaskAlreadyRunningError, type TaskRunner } from './runner.js';

export interface ScheduledTask {
  name: TaskName;
  queue: string;
  schedule: string;
  timezone: string;
  nextRun: Date | null;
}

/** Lists each task with its schedule and next run time in the billing time zone, without starting anything. */
export function describeSchedules(settings: Settings, from = new Date()): ScheduledTask[] {
  return TASK_NAMES.map((name) => {
    const schedule = settings.schedules[name] ?? TASKS[name].defaultSchedule;
    const cron = new Cron(schedule, { timezone: settings.billingTimezone, paused: true, startAt: from });
    return {
      name,
      queue: TASKS[name].queue,
      schedule,
      timezone: settings.billingTimezone,
      nextRun: cron.nextRun(from),
    };
  });
}

/**
 * The embedded scheduler: one croner job per task, in the billing time zone.
 * A tick that finds the previous run of its task still going is skipped and
 * logged, so runs of one task never overlap.
 */
export class EmbeddedScheduler {
  readonly #jobs: Cron[] = [];

  constructor(
    private readonly runner: TaskRunner,
    private readonly settings: Settings,
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const name of TASK_NAMES) {
      const schedule = this.settings.schedules[name] ?? TASKS[name].defaultSchedule;
      const job = new Cron(schedule, { name, timezone: this.settings.billingTimezone }, () =>
        this.#tick(name),
      );
      this.#jobs.push(job);
      this.logger.info(
        { task: name, schedule, timezone: this.settings.billingTimezone, next_run: job.nextRun() },
        'task scheduled',
      );
    }
  }

  stop(): void {
    for (const job of this.#jobs) job.stop();
    this.#jobs.length = 0;
  }

  async #tick(name: TaskName): Promise<void> {
    try {
      await this.runner.run(name, {}, 'schedule');
    } catch (error) {
      if (error instanceof TaskAlreadyRunningError) {
        this.logger.warn({ task: name }, 'scheduled run skipped: the previous run is still going');
        return;
      }
      this.logger.error({ task: name, err: error }, 'scheduled run could not start');
    }
  }
}
