import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../../test/support/api.js';

const METRICS_TOKEN = 'prometheus-scrape-token-0123456789';

describe('metrics API', () => {
  let world: ApiWorld;
  let withoutToken: ApiWorld;

  function scrape(target: ApiWorld, authorization?: string, url = '/metrics') {
    return target.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
  }

  beforeAll(async () => {
    world = await createApiWorld('pglite', {
      environment: { METRICS_TOKEN },
      queueDepths: { getCounts: async () => [{ queue: 'billing', state: 'waiting', count: 2 }] },
    });
    withoutToken = await createApiWorld('pglite');
  });

  afterAll(async () => {
    await world?.close();
    await withoutToken?.close();
  });

  it('accepts the metrics token', async () => {
    const response = await scrape(world, `Bearer ${METRICS_TOKEN}`);

    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.body).toContain('cloud_platform_metrics_source_up{source="database"} 1\n');
    expect(response.body).toContain('cloud_platform_queue_jobs{queue="billing",state="waiting"} 2\n');
    expect(response.body).toContain('\nprocess_cpu_seconds_total ');
  });

  it('accepts a trailing slash', async () => {
    const response = await scrape(world, `Bearer ${METRICS_TOKEN}`, '/metrics/');

    expect(response.statusCode).toBe(200);
  });

  it.each([
    ['a wrong token', `Bearer ${METRICS_TOKEN}x`],
    ['a prefix of the token', `Bearer ${METRICS_TOKEN.slice(0, 16)}`],
    ['the token in another scheme', `Basic ${METRICS_TOKEN}`],
    ['no credentials', undefined],
  ])('rejects %s with 401', async (_case, authorization) => {
    const response = await scrape(world, authorization);

    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('not_authenticated');
  });

  it('accepts an admin API token', async () => {
    const response = await world.request('admin', 'GET', '/metrics');

    expect(response.statusCode).toBe(200);
  });

  it('rejects tenant users with 403', async () => {
    for (const caller of ['tenant_admin', 'tenant_viewer'] as const) {
      const response = await world.request(caller, 'GET', '/metrics');

      expect(response.statusCode, caller).toBe(403);
      expect(response.json().code, caller).toBe('permission_denied');
    }
  });

  it('accepts an admin session', async () => {
    const login = await world.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'admin', password: 'admin-password' },
    });
    expect(login.statusCode, login.body).toBe(200);
    const cookie = login.cookies.find((entry) => entry.name === 'cp_session');
    expect(cookie).toBeDefined();

    const response = await world.app.inject({
      method: 'GET',
      url: '/metrics',
      cookies: { cp_session: cookie!.value },
    });

    expect(response.statusCode).toBe(200);
  });

  it('rejects the token when METRICS_TOKEN is unset', async () => {
    const response = await scrape(withoutToken, `Bearer ${METRICS_TOKEN}`);

    expect(response.statusCode).toBe(401);
  });

  it('has no queue metrics without a queue depth source', async () => {
    const response = await withoutToken.request('admin', 'GET', '/metrics');

    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('cloud_platform_queue_jobs');
  });
});
