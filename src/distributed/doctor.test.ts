import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, isPostgresReachable, type TestDatabase } from '../../test/support/databases.js';
import {
  deleteRedisPrefix,
  distributedSettings,
  isRedisReachable,
  uniqueRedisPrefix,
} from '../../test/support/redis.js';
import { loadSettings } from '../config/settings.js';
import { openDatabase } from '../db/database.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import { silentLogger } from '../logger.js';
import { reconcileSchedulers } from './beat.js';
import { runDoctor, type DoctorCheck } from './doctor.js';
import { TaskQueues } from './queues.js';
import { TaskWorker } from './worker.js';

const services = (await isPostgresReachable()) && (await isRedisReachable());

function check(checks: DoctorCheck[], name: string): DoctorCheck {
  const found = checks.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no check named ${name}: ${checks.map((c) => c.name).join(', ')}`);
  return found;
}

describe.runIf(services)('doctor in distributed mode', () => {
  let database: TestDatabase;
  const prefix = uniqueRedisPrefix();

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });

  afterAll(async () => {
    await database?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('names each missing part with its fix', async () => {
    const settings = distributedSettings(database.url!, prefix);

    const checks = await runDoctor(settings, 'en');

    expect(check(checks, 'database').ok).toBe(true);
    expect(check(checks, 'migrations')).toMatchObject({ ok: true, detail: 'up to date' });
    expect(check(checks, 'redis')).toMatchObject({ ok: true, detail: 'PING returned PONG' });
    expect(check(checks, 'scheduler create_daily_billing_records')).toMatchObject({
      ok: false,
      detail: 'missing',
      fix: 'start cloud-platform beat',
    });
    expect(check(checks, 'workers billing')).toMatchObject({
      ok: false,
      detail: '0 online',
      fix: 'start cloud-platform worker --queues billing',
    });
  });

  it('passes once beat and a worker run', async () => {
    const settings = distributedSettings(database.url!, prefix);
    const queues = new TaskQueues(settings);
    const worker = new TaskWorker(database, settings, silentLogger, {
      queues: ['billing', 'monitoring'],
      concurrency: 1,
    });
    try {
      await reconcileSchedulers(queues, settings, silentLogger);
      worker.start();
      await worker.waitUntilReady();

      const checks = await runDoctor(settings, 'en');

      expect(checks.filter((item) => !item.ok)).toEqual([]);
      expect(check(checks, 'scheduler sync_vm_status').detail).toMatch(
        /^\*\/5 \* \* \* \* \(Asia\/Shanghai\), next \d{4}-\d\d-\d\d \d\d:\d[05] \+08:00$/,
      );
      expect(check(checks, 'workers monitoring').detail).toBe('1 online');
    } finally {
      await worker.close();
      await queues.close();
    }
  });

  it('reports a schedule that differs from the settings', async () => {
    const settings = distributedSettings(database.url!, prefix, { SCHEDULE_SYNC_VM_STATUS: '*/10 * * * *' });

    const checks = await runDoctor(settings, 'zh-CN');

    expect(check(checks, 'scheduler sync_vm_status')).toMatchObject({
      label: '任务计划 sync_vm_status',
      ok: false,
      fix: '配置为 */10 * * * *（Asia/Shanghai）：用当前配置重启 cloud-platform beat',
    });
  });

  it('reports a failed last run and an overdue task', async () => {
    const settings = distributedSettings(database.url!, prefix);
    const taskRuns = new TaskRunRepository(database.db);
    const failed = await taskRuns.createRunning({
      task_name: 'sync_vm_status',
      queue: 'monitoring',
      trigger: 'schedule',
      arguments: {},
      started_at: new Date('2026-03-02T00:00:00Z'),
    });
    await taskRuns.markFailed(failed.id, 'source vc1 failed: timed out', new Date('2026-03-02T00:00:05Z'));
    const old = await taskRuns.createRunning({
      task_name: 'create_daily_billing_records',
      queue: 'billing',
      trigger: 'schedule',
      arguments: {},
      started_at: new Date('2026-02-20T16:10:00Z'),
    });
    await taskRuns.markSucceeded(old.id, {}, new Date('2026-02-20T16:10:01Z'));

    const checks = await runDoctor(settings, 'en', new Date('2026-03-02T00:10:00Z'));

    expect(check(checks, 'last run sync_vm_status')).toMatchObject({
      ok: false,
      detail: `#${failed.id} failed, 10 min ago: source vc1 failed: timed out`,
    });
    expect(check(checks, 'last run create_daily_billing_records')).toMatchObject({
      ok: false,
      detail: `#${old.id} succeeded, 9 d ago`,
      fix: 'check that beat and a worker for its queue are running',
    });
    const chinese = await runDoctor(settings, 'zh-CN', new Date('2026-03-02T00:10:00Z'));
    expect(check(chinese, 'last run sync_vm_status')).toMatchObject({
      label: '最近执行 sync_vm_status',
      detail: `#${failed.id} 失败，10 分钟前：source vc1 failed: timed out`,
    });
  });

  it('fails the Redis check when Redis does not answer', async () => {
    const settings = loadSettings({
      DATABASE_URL: database.url!,
      REDIS_URL: 'redis://127.0.0.1:1',
      LOG_LEVEL: 'silent',
    });

    const checks = await runDoctor(settings, 'en');

    expect(check(checks, 'redis')).toMatchObject({ ok: false, fix: 'check REDIS_URL and the Redis server' });
  });
});

describe('doctor in embedded mode', () => {
  it('checks the database and skips Redis', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cloud-platform-doctor-'));
    const settings = loadSettings({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });

    const checks = await runDoctor(settings, 'en').finally(() =>
      rm(dataDir, { recursive: true, force: true }),
    );

    expect(check(checks, 'database').ok).toBe(true);
    expect(check(checks, 'migrations')).toMatchObject({ ok: false, fix: 'run cloud-platform migrate' });
    expect(check(checks, 'redis')).toMatchObject({
      ok: true,
      detail: 'REDIS_URL is not set: tasks run inside the API process (embedded)',
    });
  });
});

describe('doctor beside a running embedded service', () => {
  it('reports the data folder in use as fine', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cloud-platform-doctor-'));
    const running = await openDatabase({ dataDir });
    try {
      const checks = await runDoctor(loadSettings({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), 'en');

      expect(checks.map((item) => item.name)).toEqual(['database', 'redis']);
      expect(check(checks, 'database')).toMatchObject({
        ok: true,
        detail: `PGlite ${dataDir} is in use by the running cloud-platform service; stop it to check migrations and last runs`,
      });
    } finally {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
