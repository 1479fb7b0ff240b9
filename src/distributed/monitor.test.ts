import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, isPostgresReachable, type TestDatabase } from '../../test/support/databases.js';
import { createSystem } from '../../test/support/fixtures.js';
import {
  deleteRedisPrefix,
  distributedSettings,
  isRedisReachable,
  uniqueRedisPrefix,
} from '../../test/support/redis.js';
import { createUser } from '../api/auth/accounts.js';
import { silentLogger } from '../logger.js';
import { buildMonitor } from './monitor.js';
import { TaskQueues } from './queues.js';

const services = (await isPostgresReachable()) && (await isRedisReachable());

describe.runIf(services)('task monitor', () => {
  let database: TestDatabase;
  let queues: TaskQueues;
  let app: Awaited<ReturnType<typeof buildMonitor>>;
  const prefix = uniqueRedisPrefix();

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const { system } = await createSystem(database.db, {
      at: new Date('2026-03-01T00:00:00Z'),
      runMode: '7x24',
    });
    await createUser(database.db, { username: 'ops', password: 'ops-password', role: 'admin' });
    await createUser(database.db, {
      username: 'viewer',
      password: 'viewer-password',
      role: 'tenant_viewer',
      tenant: system.tenant_id,
    });
    const settings = distributedSettings(database.url!, prefix);
    queues = new TaskQueues(settings);
    app = await buildMonitor({ database, settings, queues, logger: silentLogger, locale: 'zh-CN' });
  });

  afterAll(async () => {
    await app?.close();
    await queues?.close();
    await database?.drop();
    await deleteRedisPrefix(prefix);
  });

  async function login(username: string, password: string): Promise<string> {
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ username, password }).toString(),
    });
    expect(response.statusCode).toBe(302);
    const cookie = response.cookies.find((candidate) => candidate.name === 'cp_session');
    if (!cookie) throw new Error(`login of ${username} set no session cookie: ${response.headers.location}`);
    expect(cookie.httpOnly).toBe(true);
    return `cp_session=${cookie.value}`;
  }

  it('sends anonymous visitors to the login page', async () => {
    const page = await app.inject({ method: 'GET', url: '/admin/', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/login');

    const api = await app.inject({ method: 'GET', url: '/view/api/queues' });
    expect(api.statusCode).toBe(401);

    const form = await app.inject({ method: 'GET', url: '/login' });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('登录 / Log in');
  });

  it('rejects a wrong password', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'username=ops&password=wrong-password',
    });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/login?failed=1');
    expect(response.cookies).toEqual([]);
  });

  it('shows both queues to an admin, with actions', async () => {
    const cookie = await login('ops', 'ops-password');

    const home = await app.inject({ method: 'GET', url: '/', headers: { cookie } });
    expect(home.headers.location).toBe('/admin/');

    const response = await app.inject({ method: 'GET', url: '/admin/api/queues', headers: { cookie } });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ queues: { name: string; readOnlyMode: boolean }[] }>();
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(['billing', 'monitoring']);
    expect(body.queues.every((queue) => !queue.readOnlyMode)).toBe(true);

    const pause = await app.inject({
      method: 'PUT',
      url: '/admin/api/queues/monitoring/pause',
      headers: { cookie },
    });
    expect(pause.statusCode).toBe(200);
    expect(await queues.get('monitoring').isPaused()).toBe(true);
    await queues.get('monitoring').resume();
  });

  it('serves the board page without external requests', async () => {
    const cookie = await login('ops', 'ops-password');
    const page = await app.inject({ method: 'GET', url: '/admin/', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('static/css/');
    expect(page.body).not.toMatch(/https?:\/\//);
  });

  it('gives other users a read-only board', async () => {
    const cookie = await login('viewer', 'viewer-password');

    const home = await app.inject({ method: 'GET', url: '/', headers: { cookie } });
    expect(home.headers.location).toBe('/view/');
    const admin = await app.inject({ method: 'GET', url: '/admin/api/queues', headers: { cookie } });
    expect(admin.statusCode).toBe(302);
    expect(admin.headers.location).toBe('/view/');

    const view = await app.inject({ method: 'GET', url: '/view/api/queues', headers: { cookie } });
    expect(view.statusCode).toBe(200);
    const body = view.json<{ queues: { readOnlyMode: boolean }[] }>();
    expect(body.queues.every((queue) => queue.readOnlyMode)).toBe(true);

    const pause = await app.inject({
      method: 'PUT',
      url: '/view/api/queues/monitoring/pause',
      headers: { cookie },
    });
    expect(pause.statusCode).toBe(403);
    expect(await queues.get('monitoring').isPaused()).toBe(false);
  });
});
