import { defaultRepeatStrategy } from 'bullmq';
import { Cron } from 'croner';
import { DateTime } from 'luxon';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

import { deleteRedisPrefix, isRedisReachable, uniqueRedisPrefix } from '../../test/support/redis.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { silentLogger } from '../logger.js';
import { reconcileSchedulers } from './beat.js';
import { TaskQueues } from './queues.js';

const redis = await isRedisReachable();

/** Settings whose DATABASE_URL is never opened: reconciling schedulers touches Redis only. */
function beatSettings(prefix: string, overrides: Record<string, string> = {}): Settings {
  return loadSettings({
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    BILLING_TIMEZONE: 'Asia/Shanghai',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

describe.runIf(redis)('job schedulers', () => {
  const prefixes: string[] = [];
  const opened: TaskQueues[] = [];

  function openQueues(prefix: string, settings = beatSettings(prefix)): TaskQueues {
    const queues = new TaskQueues(settings);
    opened.push(queues);
    return queues;
  }

  function newPrefix(): string {
    const prefix = uniqueRedisPrefix();
    prefixes.push(prefix);
    return prefix;
  }

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await Promise.all(opened.map((queues) => queues.close()));
    await Promise.all(prefixes.map((prefix) => deleteRedisPrefix(prefix)));
  });

  it('fires billing at 00:10 Beijing, 16:10 UTC the day before', async () => {
    expect(new Date().getTimezoneOffset()).toBe(0);
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-03-02T12:00:00Z') });
    const prefix = newPrefix();
    const queues = openQueues(prefix);

    const states = await reconcileSchedulers(queues, beatSettings(prefix), silentLogger);

    const billing = states.find((state) => state.task === 'create_daily_billing_records')!;
    expect(billing).toMatchObject({ queue: 'billing', pattern: '10 0 * * *', timezone: 'Asia/Shanghai' });
    expect(billing.nextRun?.toISOString()).toBe('2026-03-02T16:10:00.000Z');
    const sync = states.find((state) => state.task === 'sync_vm_status')!;
    expect(sync.nextRun?.toISOString()).toBe('2026-03-02T12:05:00.000Z');

    const delayed = await queues.get('billing').getDelayed();
    expect(delayed.map((job) => job.id)).toEqual([
      `repeat:create_daily_billing_records:${Date.parse('2026-03-02T16:10:00Z')}`,
    ]);
  });

  it('keeps one scheduler and one next job with three beats at once', async () => {
    const prefix = newPrefix();
    const beats = [openQueues(prefix), openQueues(prefix), openQueues(prefix)];

    const results = await Promise.all(
      beats.map((queues) => reconcileSchedulers(queues, beatSettings(prefix), silentLogger)),
    );

    expect(results.every((states) => states.length === 3)).toBe(true);
    const queues = beats[0]!;
    expect(await queues.get('billing').getJobSchedulersCount()).toBe(1);
    expect(await queues.get('monitoring').getJobSchedulersCount()).toBe(2);
    expect(await queues.get('billing').getDelayedCount()).toBe(1);
    expect(await queues.get('monitoring').getDelayedCount()).toBe(2);

    const again = await reconcileSchedulers(queues, beatSettings(prefix), silentLogger);
    expect(again.map((state) => state.action)).toEqual(['kept', 'kept', 'kept']);
  });

  it('leaves only the new pattern after a schedule change', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-03-02T12:01:00Z') });
    const prefix = newPrefix();
    const queues = openQueues(prefix);
    await reconcileSchedulers(queues, beatSettings(prefix), silentLogger);

    const changed = beatSettings(prefix, { SCHEDULE_SYNC_VM_STATUS: '*/10 * * * *' });
    const states = await reconcileSchedulers(queues, changed, silentLogger);

    expect(states.find((state) => state.task === 'sync_vm_status')).toMatchObject({
      action: 'updated',
      pattern: '*/10 * * * *',
    });
    const scheduler = await queues.get('monitoring').getJobScheduler('sync_vm_status');
    expect(scheduler?.pattern).toBe('*/10 * * * *');
    const delayed = await queues.get('monitoring').getDelayed();
    const syncJobs = delayed.filter((job) => job.name === 'sync_vm_status');
    expect(syncJobs.map((job) => job.id)).toEqual([
      `repeat:sync_vm_status:${Date.parse('2026-03-02T12:10:00Z')}`,
    ]);
  });

  it('removes a scheduler that is not configured', async () => {
    const prefix = newPrefix();
    const queues = openQueues(prefix);
    await queues.get('monitoring').upsertJobScheduler('retired_task', { pattern: '0 * * * *' });

    await reconcileSchedulers(queues, beatSettings(prefix), silentLogger);

    expect(await queues.get('monitoring').getJobScheduler('retired_task')).toBeUndefined();
    expect(await queues.get('monitoring').getJobSchedulersCount()).toBe(2);
  });

  it('repairs a scheduler whose next job was lost', async () => {
    const prefix = newPrefix();
    const queues = openQueues(prefix);
    await reconcileSchedulers(queues, beatSettings(prefix), silentLogger);
    // BullMQ refuses to remove a scheduler's job, so the loss (e.g. evicted keys) is made in Redis itself.
    const [job] = await queues.get('billing').getDelayed();
    await queues.connection.zrem(`${prefix}:billing:delayed`, job!.id!);
    await queues.connection.del(`${prefix}:billing:${job!.id!}`);
    expect(await queues.get('billing').getDelayedCount()).toBe(0);

    const states = await reconcileSchedulers(queues, beatSettings(prefix), silentLogger);

    expect(states.find((state) => state.task === 'create_daily_billing_records')?.action).toBe('repaired');
    expect(await queues.get('billing').getDelayedCount()).toBe(1);
  });
});

describe('daily schedule across a DST change', () => {
  const zone = 'America/New_York';
  const pattern = '10 0 * * *';

  /** Local days of the runs from `from`, following each run to the next as the scheduler does. */
  function localRuns(next: (after: Date) => Date | null, from: string, count: number): string[] {
    const runs: string[] = [];
    let after = new Date(from);
    for (let index = 0; index < count; index += 1) {
      const run = next(after);
      if (!run) break;
      runs.push(DateTime.fromJSDate(run, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ'));
      after = run;
    }
    return runs;
  }

  const springForward = [
    '2027-03-13 00:10 -05:00',
    '2027-03-14 00:10 -05:00',
    '2027-03-15 00:10 -04:00',
    '2027-03-16 00:10 -04:00',
  ];
  const fallBack = [
    '2027-11-06 00:10 -04:00',
    '2027-11-07 00:10 -04:00',
    '2027-11-08 00:10 -05:00',
    '2027-11-09 00:10 -05:00',
  ];

  it('runs once per local day in BullMQ', () => {
    const next = (after: Date) => {
      const millis = defaultRepeatStrategy(after.getTime(), { pattern, tz: zone });
      return millis === undefined ? null : new Date(millis);
    };
    expect(localRuns(next, '2027-03-12T12:00:00Z', 4)).toEqual(springForward);
    expect(localRuns(next, '2027-11-05T12:00:00Z', 4)).toEqual(fallBack);
  });

  it('runs once per local day in the embedded scheduler', () => {
    const cron = new Cron(pattern, { timezone: zone, paused: true });
    const next = (after: Date) => cron.nextRun(after);
    expect(localRuns(next, '2027-03-12T12:00:00Z', 4)).toEqual(springForward);
    expect(localRuns(next, '2027-11-05T12:00:00Z', 4)).toEqual(fallBack);
  });
});
