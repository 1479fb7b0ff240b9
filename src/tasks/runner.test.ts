import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { beijing, createSystem } from '../../test/support/fixtures.js';
import { loadSettings } from '../config/settings.js';
import { DomainError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { TaskAlreadyRunningError, TaskRunner } from './runner.js';

const backends = await availableBackends();
const settings = loadSettings({ BILLING_TIMEZONE: 'Asia/Shanghai', BILLING_CHUNK_SIZE: '3' });

async function billedDays(database: TestDatabase): Promise<string[]> {
  const rows = await database.db
    .selectFrom('billing_days')
    .select('billing_date')
    .orderBy('billing_date')
    .execute();
  return rows.map((row) => row.billing_date);
}

describe.each(backends)('task runner on %s', (backend) => {
  let database: TestDatabase;
  let now: Date;
  let runner: TaskRunner;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    await createSystem(database.db, {
      at: beijing('2026-03-01T09:00:00'),
      runMode: '7x24',
      cpu: 4,
      memory: '8',
      storage: '100',
    });
    runner = new TaskRunner(database, settings, silentLogger, () => now);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('bills the Beijing date while the process runs in UTC', async () => {
    expect(new Date('2026-03-02T16:10:00Z').getTimezoneOffset()).toBe(0);
    now = new Date('2026-03-02T16:10:00Z'); // 2026-03-03 00:10 in Beijing

    const run = await runner.run('create_daily_billing_records', {}, 'schedule');

    expect(run.status).toBe('succeeded');
    expect(run.result).toMatchObject({ days: ['2026-03-02'], records_created: 1, amount_created: '43.20' });
    expect(await billedDays(database)).toEqual(['2026-03-02']);
  });

  it('catches up three days after downtime', async () => {
    now = beijing('2026-03-06T00:10:00');

    const run = await runner.run('create_daily_billing_records', {}, 'catch_up');

    expect(run.result).toMatchObject({
      days: ['2026-03-03', '2026-03-04', '2026-03-05'],
      records_created: 3,
    });
    expect(await billedDays(database)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05']);
  });

  it('adds nothing when the same day runs again', async () => {
    now = beijing('2026-03-06T08:00:00');

    const scheduled = await runner.run('create_daily_billing_records', {}, 'schedule');
    const manual = await runner.run('create_daily_billing_records', { date: '2026-03-05' }, 'manual');

    expect(scheduled.result).toMatchObject({ days: [], records_created: 0 });
    expect(manual.result).toMatchObject({ days: ['2026-03-05'], records_created: 0, records_existing: 1 });
  });

  it('records each run with trigger, arguments and result', async () => {
    now = beijing('2026-03-06T09:00:00');
    const run = await runner.run(
      'create_daily_billing_records',
      { from: '2026-03-01', to: '2026-03-02' },
      'manual',
    );

    const stored = await database.db
      .selectFrom('task_runs')
      .selectAll()
      .where('id', '=', run.id)
      .executeTakeFirstOrThrow();
    expect(stored.task_name).toBe('create_daily_billing_records');
    expect(stored.queue).toBe('billing');
    expect(stored.trigger).toBe('manual');
    expect(stored.status).toBe('succeeded');
    expect(stored.arguments).toEqual({ from: '2026-03-01', to: '2026-03-02' });
    expect(stored.started_at).not.toBeNull();
    expect(stored.finished_at).not.toBeNull();
  });

  it('rejects a second run of a task that is running', async () => {
    now = beijing('2026-03-06T10:00:00');
    const first = runner.run('detect_resource_changes', {}, 'manual');

    await expect(runner.run('detect_resource_changes', {}, 'manual')).rejects.toBeInstanceOf(
      TaskAlreadyRunningError,
    );
    expect((await first).status).toBe('succeeded');
  });

  it.each([
    [{ date: '2026-02-30' }, 'invalid_date'],
    [{ date: 'yesterday' }, 'invalid_date'],
    [{ from: '2026-03-03', to: '2026-03-01' }, 'invalid_date_range'],
    [{ from: '2026-03-01' }, 'missing_option'],
    [{ date: '2026-03-01', from: '2026-03-01', to: '2026-03-02' }, 'conflicting_options'],
    [{ date: '2026-03-06' }, 'day_not_finished'],
    [{ force: true }, 'missing_option'],
    [{ from: '2025-01-01', to: '2026-03-01' }, 'date_range_too_long'],
  ])('rejects billing arguments %j with %s', async (args, code) => {
    now = beijing('2026-03-06T10:00:00');
    const error = await runner
      .run('create_daily_billing_records', args, 'manual')
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(code);
  });

  it('rejects an unknown task and arguments a task does not take', async () => {
    await expect(runner.run('bill_everything', {}, 'manual')).rejects.toMatchObject({ code: 'unknown_task' });
    await expect(runner.run('sync_vm_status', { date: '2026-03-01' }, 'manual')).rejects.toMatchObject({
      code: 'task_arguments_not_supported',
    });
  });
});
