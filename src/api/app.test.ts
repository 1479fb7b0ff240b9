import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../test/support/api.js';

describe('API basics', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('answers 401 in Chinese by default and in English on request', async () => {
    const chinese = await world.request('anonymous', 'GET', '/api/tenants/');
    const english = await world.request('anonymous', 'GET', '/api/tenants/', undefined, {
      'accept-language': 'en-US,en;q=0.9',
    });

    expect(chinese.statusCode).toBe(401);
    expect(chinese.json()).toMatchObject({ code: 'not_authenticated' });
    expect(chinese.json().message).toContain('未登录');
    expect(english.json().message).toContain('not authenticated');
  });

  it('logs in with a password and sets an HttpOnly session cookie', async () => {
    const login = await world.request('anonymous', 'POST', '/api/auth/login/', {
      username: 'tenant_viewer',
      password: 'tenant_viewer-password',
    });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((candidate) => candidate.name === 'cp_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');

    const me = await world.app.inject({
      method: 'GET',
      url: '/api/auth/me/',
      cookies: { cp_session: cookie!.value },
    });
    expect(me.json()).toMatchObject({
      username: 'tenant_viewer',
      role: 'tenant_viewer',
      tenant_id: world.tenantA.id,
    });

    const wrong = await world.request('anonymous', 'POST', '/api/auth/login/', {
      username: 'tenant_viewer',
      password: 'nope-nope',
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('login_failed');
  });

  it('paginates with count, next and previous', async () => {
    const first = await world.request('admin', 'GET', '/api/tenants/?page_size=1&ordering=code');
    const body = first.json();

    expect(body.count).toBe(2);
    expect(body.results).toHaveLength(1);
    expect(body.previous).toBeNull();
    expect(body.next).toBe('http://localhost/api/tenants/?page_size=1&ordering=code&page=2');

    const second = await world.request('admin', 'GET', '/api/tenants/?page_size=1&ordering=code&page=2');
    expect(second.json().next).toBeNull();
    expect(second.json().results[0].code).not.toBe(body.results[0].code);
  });

  it('hides another tenant as 404', async () => {
    const own = await world.request(
      'tenant_admin',
      'GET',
      `/api/information-systems/${world.tenantA.systemId}/`,
    );
    const other = await world.request(
      'tenant_admin',
      'GET',
      `/api/information-systems/${world.tenantB.systemId}/`,
    );

    expect(own.statusCode).toBe(200);
    expect(other.statusCode).toBe(404);
    expect(other.json().code).toBe('object_not_found');
  });

  it('returns field details for invalid bodies', async () => {
    const response = await world.request('admin', 'POST', '/api/tenants/', {
      code: 'x',
      name: 'X',
      discount_rate: '0',
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'invalid_discount_rate',
      details: [{ field: 'discount_rate', code: 'invalid_discount_rate' }],
    });
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const schema = await world.request('anonymous', 'GET', '/api/schema/');
    expect(schema.statusCode).toBe(200);
    expect(schema.json().openapi).toBe('3.0.3');
    expect(Object.keys(schema.json().paths)).toContain('/api/information-systems/{id}/detailed_info/');

    const docs = await world.request('anonymous', 'GET', '/api/docs/');
    expect(docs.statusCode).toBe(200);
  });

  it('sends security headers on every response', async () => {
    // The headers that @fastify/helmet 13.0 with helmet 8.3 sent for this
    // configuration, without upgrade-insecure-requests over plain HTTP.
    const expected = {
      'content-security-policy':
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';" +
        "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' 'unsafe-inline';" +
        "script-src-attr 'none';style-src 'self' 'unsafe-inline'",
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };

    const responses = {
      ok: await world.request('admin', 'GET', '/api/tenants/'),
      unauthenticated: await world.request('anonymous', 'GET', '/api/tenants/'),
      notFound: await world.request('admin', 'GET', '/api/no-such-resource/'),
      invalid: await world.request('admin', 'GET', '/api/tenants/?page=0'),
    };

    expect(responses.ok.statusCode).toBe(200);
    expect(responses.unauthenticated.statusCode).toBe(401);
    expect(responses.notFound.statusCode).toBe(404);
    expect(responses.invalid.statusCode).toBe(400);
    for (const response of Object.values(responses)) {
      expect(response.headers).toMatchObject(expected);
    }
  });

  it('asks browsers to upgrade requests only behind HTTPS', async () => {
    const upgrade = /(^|;)upgrade-insecure-requests($|;)/;
    const plain = await world.request('anonymous', 'GET', '/api/docs/');
    expect(plain.headers['content-security-policy']).not.toMatch(upgrade);

    const secureWorld = await createApiWorld('pglite', { environment: { SECURE_COOKIES: 'true' } });
    try {
      const secure = await secureWorld.request('anonymous', 'GET', '/api/docs/');
      expect(secure.headers['content-security-policy']).toMatch(upgrade);
    } finally {
      await secureWorld.close();
    }
  });
});
