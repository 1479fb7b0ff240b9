import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../../test/support/api.js';
import { availableBackends } from '../../../test/support/databases.js';
import { dayOf } from '../../billing/days.js';
import { loadSettings } from '../../config/settings.js';
import { silentLogger } from '../../logger.js';
import { TASKS, type TaskName } from '../../tasks/registry.js';
import { TaskRunner } from '../../tasks/runner.js';

const backends = await availableBackends();

/** Replaces a task's work with a wait for `release()`, so that its run stays `running` until then. */
function blockTask(name: TaskName) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  vi.spyOn(TASKS[name], 'run').mockImplementation(async () => {
    await gate;
    return { blocked: true };
  });
  return { release };
}

async function countRuns(world: ApiWorld): Promise<number> {
  const { count } = await world.database.db
    .selectFrom('task_runs')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(count);
}

describe('task API', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('lists the three tasks in the caller language', async () => {
    const english = await world.request('tenant_viewer', 'GET', '/api/tasks/', undefined, {
      'accept-language': 'en',
    });
    const chinese = await world.request('tenant_viewer', 'GET', '/api/tasks/');

    expect(english.statusCode).toBe(200);
    const body = english.json();
    expect(body.count).toBe(3);
    expect(body.next).toBeNull();
    expect(
      body.results.map((task: { name: string; queue: string; schedule: string; timezone: string }) => [
        task.name,
        task.queue,
        task.schedule,
        task.timezone,
      ]),
    ).toEqual([
      ['create_daily_billing_records', 'billing', '10 0 * * *', 'Asia/Shanghai'],
      ['detect_resource_changes', 'monitoring', '0 * * * *', 'Asia/Shanghai'],
      ['sync_vm_status', 'monitoring', '*/5 * * * *', 'Asia/Shanghai'],
    ]);
    expect(body.results[0].description).toBe(
      'bills the previous day (and missing days) for every information system',
    );
    expect(chinese.json().results[0].description).toBe('为每个信息系统生成前一日（及缺失日期）的计费记录');

    const nextRun = new Date(body.results[0].next_run);
    expect(nextRun.getTime()).toBeGreaterThan(Date.now());
    // 00:10 in Beijing is 16:10 UTC of the day before.
    expect(body.results[0].next_run).toMatch(/T16:10:00\.000Z$/);
  });

  it('answers 404 for an unknown task', async () => {
    const detail = await world.request('admin', 'GET', '/api/tasks/bill_everything/');
    const run = await world.request('admin', 'POST', '/api/tasks/bill_everything/run/', {});

    expect(detail.statusCode).toBe(404);
    expect(detail.json().code).toBe('unknown_task');
    expect(run.statusCode).toBe(404);
    expect(run.json().code).toBe('unknown_task');
  });

  it('bills a chosen day and returns the exact summary', async () => {
    const started = await world.request('admin', 'POST', '/api/tasks/create_daily_billing_records/run/', {
      date: '2026-01-02',
    });

    expect(started.statusCode).toBe(202);
    const accepted = started.json();
    expect(accepted.task_run).toBeGreaterThan(0);
    expect(accepted.url).toBe(`http://localhost/api/task-runs/${accepted.task_run}/`);
    expect(started.headers.location).toBe(accepted.url);

    const awaited = await world.request('admin', 'GET', `/api/task-runs/${accepted.task_run}/?wait=30`);
    expect(awaited.statusCode).toBe(200);
    const run = awaited.json();
    expect(run).toMatchObject({
      id: accepted.task_run,
      task_name: 'create_daily_billing_records',
      queue: 'billing',
      trigger: 'manual',
      arguments: { date: '2026-01-02' },
      status: 'succeeded',
      attempts: 1,
      error: null,
    });
    // Tenant A: 2 cores, 4 GB, 50 GB for 24 h = 21.60. Tenant B: 1 core, 2 GB, 20 GB for 8 h = 3.20.
    expect(run.result).toEqual({
      days: ['2026-01-02'],
      days_billed: 1,
      days_beyond_window: 0,
      first_day: '2026-01-02',
      last_day: '2026-01-02',
      records_created: 2,
      records_existing: 0,
      amount_created: '24.80',
      records_rerated: 0,
      per_day: [
        {
          day: '2026-01-02',
          systems_billable: 2,
          records_created: 2,
          records_existing: 0,
          amount_created: '24.80',
          total_amount: '24.80',
        },
      ],
      yesterday: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
    expect(run.duration_seconds).toBeGreaterThanOrEqual(0);
    expect(new Date(run.finished_at).getTime()).toBeGreaterThanOrEqual(new Date(run.started_at).getTime());
  });

  it('starts a run from a POST without a body', async () => {
    const vm = await world.database.db
      .selectFrom('virtual_machines')
      .select('id')
      .where('external_id', '=', world.tenantA.vmExternalId)
      .executeTakeFirstOrThrow();
    await world.database.db
      .updateTable('virtual_machines')
      .set({ observed_cpu: 6 })
      .where('id', '=', vm.id)
      .execute();

    const started = await world.request('admin', 'POST', '/api/tasks/detect_resource_changes/run/');
    expect(started.statusCode).toBe(202);

    const run = (
      await world.request('admin', 'GET', `/api/task-runs/${started.json().task_run}/?wait=30`)
    ).json();
    expect(run.status).toBe('succeeded');
    expect(run.result).toMatchObject({
      changes: 1,
      by_type: { vm_resized: 1 },
      vms_changed: 1,
      systems_changed: 1,
    });
  });

  it('shows the last run of a task', async () => {
    const response = await world.request('tenant_viewer', 'GET', '/api/tasks/detect_resource_changes/');

    expect(response.statusCode).toBe(200);
    expect(response.json().last_run).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    expect(response.json().last_run.finished_at).not.toBeNull();
  });

  it('rejects a second run while the first is running', async () => {
    const blocked = blockTask('sync_vm_status');
    const first = await world.request('admin', 'POST', '/api/tasks/sync_vm_status/run/', {});
    expect(first.statusCode).toBe(202);
    expect(first.json().status).toBe('running');
    const runId = first.json().task_run;

    const second = await world.request(
      'admin',
      'POST',
      '/api/tasks/sync_vm_status/run/',
      {},
      {
        'accept-language': 'en',
      },
    );
    expect(second.statusCode).toBe(409);
    expect(second.json().code).toBe('task_already_running');
    expect(second.json().message).toBe(
      `task sync_vm_status is already running (run ${runId}); wait for it to finish`,
    );

    const startedWaiting = Date.now();
    const stillRunning = await world.request('admin', 'GET', `/api/task-runs/${runId}/?wait=1`);
    expect(Date.now() - startedWaiting).toBeGreaterThanOrEqual(900);
    expect(stillRunning.json()).toMatchObject({
      status: 'running',
      finished_at: null,
      duration_seconds: null,
    });

    blocked.release();
    const finished = await world.request('admin', 'GET', `/api/task-runs/${runId}/?wait=30`);
    expect(finished.json()).toMatchObject({ status: 'succeeded', result: { blocked: true } });
  });

  it('records a failed run and hides its error from tenant users', async () => {
    vi.spyOn(TASKS.sync_vm_status, 'run').mockRejectedValue(new Error('inventory host 10.0.0.5 refused'));

    const started = await world.request('admin', 'POST', '/api/tasks/sync_vm_status/run/', {});
    const runId = started.json().task_run;
    const asAdmin = (await world.request('admin', 'GET', `/api/task-runs/${runId}/?wait=30`)).json();
    const asViewer = (await world.request('tenant_viewer', 'GET', `/api/task-runs/${runId}/`)).json();

    expect(asAdmin.status).toBe('failed');
    expect(asAdmin.error).toBe('Error: inventory host 10.0.0.5 refused');
    expect(asViewer.status).toBe('failed');
    expect(asViewer.error).toBeNull();
    expect(asViewer.result).toBeNull();
  });

  it.each([
    ['create_daily_billing_records', { date: '2026-02-30' }, 'invalid_date', 'date'],
    ['create_daily_billing_records', { date: 'yesterday' }, 'invalid_date', 'date'],
    ['create_daily_billing_records', { from: '2026-01-05', to: '2026-01-01' }, 'invalid_date_range', 'from'],
    ['create_daily_billing_records', { from: '2020-01-01', to: '2026-01-01' }, 'date_range_too_long', 'to'],
    ['create_daily_billing_records', { from: '2026-01-01' }, 'missing_option', 'to'],
    ['create_daily_billing_records', { force: true }, 'missing_option', 'force'],
    [
      'create_daily_billing_records',
      { date: '2026-01-01', from: '2026-01-01', to: '2026-01-02' },
      'conflicting_options',
      'date',
    ],
    ['create_daily_billing_records', { day: '2026-01-02' }, 'validation_failed', 'body.day'],
    ['create_daily_billing_records', { force: 'maybe' }, 'validation_failed', 'body.force'],
    ['create_daily_billing_records', { date: 'x'.repeat(41) }, 'validation_failed', 'body.date'],
    ['create_daily_billing_records', { date: 20260102 }, 'validation_failed', 'body.date'],
    [
      'create_daily_billing_records',
      { date: '2026-01-02', force: 'true' },
      'validation_failed',
      'body.force',
    ],
    ['detect_resource_changes', { date: '2026-01-02' }, 'task_arguments_not_supported', 'date'],
    ['sync_vm_status', { force: true }, 'task_arguments_not_supported', 'force'],
  ])('rejects %s with %j as %s of %s', async (task, body, code, field) => {
    const before = await countRuns(world);

    const response = await world.request('admin', 'POST', `/api/tasks/${task}/run/`, body);

    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe(code);
    expect(response.json().details[0].field).toBe(field);
    expect(await countRuns(world)).toBe(before);
  });

  it('rejects a day that has not ended, in English on request', async () => {
    const today = dayOf(new Date(), 'Asia/Shanghai');

    const response = await world.request(
      'admin',
      'POST',
      '/api/tasks/create_daily_billing_records/run/',
      { date: today },
      { 'accept-language': 'en-US,en;q=0.9' },
    );

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'day_not_finished',
      message: `${today} has not ended yet in the billing time zone Asia/Shanghai; only finished days can be billed`,
      details: [{ field: 'date', code: 'day_not_finished' }],
    });
  });

  it.each([
    ['anonymous', 401, 'not_authenticated'],
    ['tenant_admin', 403, 'permission_denied'],
    ['tenant_viewer', 403, 'permission_denied'],
    ['other_admin', 403, 'permission_denied'],
  ] as const)('lets only admins start a run: %s gets %i', async (caller, status, code) => {
    const before = await countRuns(world);

    const response = await world.request(caller, 'POST', '/api/tasks/detect_resource_changes/run/', {});

    expect(response.statusCode).toBe(status);
    expect(response.json().code).toBe(code);
    expect(await countRuns(world)).toBe(before);
  });

  it('lets tenant users read runs without result and error', async () => {
    const list = await world.request('tenant_admin', 'GET', '/api/task-runs/');
    const anonymous = await world.request('anonymous', 'GET', '/api/task-runs/');

    expect(list.statusCode).toBe(200);
    expect(list.json().count).toBeGreaterThan(0);
    for (const run of list.json().results) {
      expect(run.result).toBeNull();
      expect(run.error).toBeNull();
    }
    expect(anonymous.statusCode).toBe(401);
  });

  it.each(['-1', '301', '1.5', 'soon', ''])('rejects wait=%s', async (wait) => {
    const response = await world.request('admin', 'GET', `/api/task-runs/1/?wait=${wait}`);

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'querystring.wait' }],
    });
  });

  it('returns a finished run at once for the longest wait', async () => {
    const startedWaiting = Date.now();
    const response = await world.request('admin', 'GET', '/api/task-runs/1/?wait=300');

    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe('succeeded');
    expect(Date.now() - startedWaiting).toBeLessThan(5000);
  });

  it('answers 404 for an unknown run', async () => {
    const response = await world.request('admin', 'GET', '/api/task-runs/999999/?wait=5');

    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('object_not_found');
  });

  it('filters, orders and paginates runs', async () => {
    const at = new Date('2026-02-01T00:00:00Z');
    const inserted = await world.database.db
      .insertInto('task_runs')
      .values(
        (
          [
            ['create_daily_billing_records', 'billing', 'succeeded'],
            ['detect_resource_changes', 'monitoring', 'failed'],
            ['sync_vm_status', 'monitoring', 'running'],
          ] as const
        ).map(([task_name, queue, status]) => ({
          task_name,
          queue,
          status,
          trigger: 'schedule' as const,
          attempts: 1,
          started_at: at,
          finished_at: status === 'running' ? null : at,
        })),
      )
      .returning('id')
      .execute();
    const [billing, detect, sync] = inserted.map((row) => Number(row.id));
    const ids = async (query: string) =>
      (await world.request('admin', 'GET', `/api/task-runs/?${query}`))
        .json()
        .results.map((run: { id: number }) => run.id);

    expect(await ids('trigger=schedule')).toEqual([sync, detect, billing]);
    expect(await ids('trigger=schedule&ordering=id')).toEqual([billing, detect, sync]);
    expect(await ids('trigger=schedule&task_name=detect_resource_changes')).toEqual([detect]);
    expect(await ids('trigger=schedule&status=running')).toEqual([sync]);
    expect(await ids('trigger=schedule&status=failed&task_name=sync_vm_status')).toEqual([]);

    const first = (
      await world.request('admin', 'GET', '/api/task-runs/?trigger=schedule&page_size=2')
    ).json();
    expect(first.count).toBe(3);
    expect(first.results.map((run: { id: number }) => run.id)).toEqual([sync, detect]);
    expect(first.next).toBe('http://localhost/api/task-runs/?trigger=schedule&page_size=2&page=2');
    const second = (await world.request('admin', 'GET', first.next.replace('http://localhost', ''))).json();
    expect(second.results.map((run: { id: number }) => run.id)).toEqual([billing]);
    expect(second.previous).toBe('http://localhost/api/task-runs/?trigger=schedule&page_size=2');
  });

  it.each(['status=done', 'trigger=cron', 'task_name=bill_everything', 'ordering=name'])(
    'rejects the filter %s',
    async (query) => {
      const response = await world.request('admin', 'GET', `/api/task-runs/?${query}`);

      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('validation_failed');
    },
  );
});

describe('task run wait during shutdown', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await world?.close();
  });

  it('ends a wait when the server closes', async () => {
    const blocked = blockTask('sync_vm_status');
    const started = await world.request('admin', 'POST', '/api/tasks/sync_vm_status/run/', {});
    const waiting = world.request('admin', 'GET', `/api/task-runs/${started.json().task_run}/?wait=120`);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const startedClosing = Date.now();
    const closing = world.app.close();
    const response = await waiting;
    blocked.release();
    await closing;

    expect(Date.now() - startedClosing).toBeLessThan(5000);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe('running');
  });
});

describe.runIf(backends.includes('postgres'))('task API across processes on PostgreSQL', () => {
  let world: ApiWorld;
  let otherProcess: TaskRunner;

  beforeAll(async () => {
    world = await createApiWorld('postgres');
    // A second runner on the same database stands for a worker in another process.
    otherProcess = new TaskRunner(world.database, loadSettings({}), silentLogger);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await otherProcess?.drain();
    await world?.close();
  });

  it('rejects a run that another process holds and awaits its result', async () => {
    const blocked = blockTask('detect_resource_changes');
    const { runId } = await otherProcess.start('detect_resource_changes', {}, 'schedule');

    const rejected = await world.request('admin', 'POST', '/api/tasks/detect_resource_changes/run/', {});
    expect(rejected.statusCode).toBe(409);
    expect(rejected.json().code).toBe('task_already_running');
    expect(rejected.json().message).toContain(`执行记录 ${runId}`);

    const waiting = world.request('admin', 'GET', `/api/task-runs/${runId}/?wait=30`);
    setTimeout(blocked.release, 500);
    const finished = (await waiting).json();
    expect(finished).toMatchObject({ id: Number(runId), status: 'succeeded', trigger: 'schedule' });
  });
});
