import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../../test/support/api.js';
import { TOKEN_LAST_USED_RESOLUTION_MS } from '../auth/plugin.js';

describe('API token API', () => {
  let world: ApiWorld;
  /** Every log line the app wrote, as text. */
  const logLines: string[] = [];

  /** Sends a request with a raw API token rather than one of the world's callers. */
  function withToken(token: string, method: 'GET' | 'POST' | 'DELETE', url: string, body?: object) {
    return world.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body ? { payload: body } : {}),
    });
  }

  async function userId(username: string): Promise<number> {
    const row = await world.database.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function createToken(
    caller: 'admin' | 'tenant_admin' | 'tenant_viewer' | 'other_admin',
    name: string,
  ) {
    const response = await world.request(caller, 'POST', '/api/tokens/', { name });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: number; token: string; prefix: string };
  }

  beforeAll(async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
    world = await createApiWorld('pglite', { logger });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('creates a token shown once, which authenticates', async () => {
    const response = await world.request('tenant_viewer', 'POST', '/api/tokens/', { name: ' 报表脚本 ' });

    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({
      id: expect.any(Number),
      user: await userId('tenant_viewer'),
      name: '报表脚本',
      prefix: body.token.slice(0, 10),
      created_at: expect.any(String),
      last_used_at: null,
      revoked_at: null,
      token: expect.stringMatching(/^cpt_[A-Za-z0-9_-]{43}$/),
    });

    const me = await withToken(body.token, 'GET', '/api/auth/me/');
    expect(me.statusCode).toBe(200);
    expect(me.json().username).toBe('tenant_viewer');

    const stored = await world.database.db
      .selectFrom('api_tokens')
      .select(['token_hash', 'last_used_at'])
      .where('id', '=', body.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.last_used_at).not.toBeNull();
  });

  it('updates last use at most once a minute', async () => {
    const created = await createToken('tenant_viewer', 'last use');
    const lastUsedAt = async () =>
      (
        await world.database.db
          .selectFrom('api_tokens')
          .select('last_used_at')
          .where('id', '=', created.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;

    expect((await withToken(created.token, 'GET', '/api/auth/me/')).statusCode).toBe(200);
    const firstUse = await lastUsedAt();
    expect(firstUse).not.toBeNull();

    expect((await withToken(created.token, 'GET', '/api/auth/me/')).statusCode).toBe(200);
    expect(await lastUsedAt()).toEqual(firstUse);

    // Two minutes later the next request records its time again. Only Date is
    // faked, so the server's I/O and timers run as usual.
    const twoMinutesLater = new Date(firstUse!.getTime() + 2 * TOKEN_LAST_USED_RESOLUTION_MS);
    vi.useFakeTimers({ toFake: ['Date'], now: twoMinutesLater });
    try {
      expect((await withToken(created.token, 'GET', '/api/auth/me/')).statusCode).toBe(200);
    } finally {
      vi.useRealTimers();
    }
    expect(await lastUsedAt()).toEqual(twoMinutesLater);
  });

  it('lists own tokens without secrets or hashes', async () => {
    const created = await createToken('tenant_admin', 'listing');
    const response = await world.request('tenant_admin', 'GET', '/api/tokens/');

    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain(created.token);
    expect(response.body).not.toContain('token_hash');
    expect(response.body).not.toContain('"token"');
    const body = response.json();
    const ownerId = await userId('tenant_admin');
    // Newest first: the token made here, then the world's own `tests` token.
    expect(body.count).toBe(2);
    expect(body.results.map((token: { name: string }) => token.name)).toEqual(['listing', 'tests']);
    expect(body.results[0]).toEqual({
      id: created.id,
      user: ownerId,
      name: 'listing',
      prefix: created.prefix,
      created_at: expect.any(String),
      last_used_at: null,
      revoked_at: null,
    });
    expect(body.results[1].last_used_at).not.toBeNull();
  });

  it('paginates the list', async () => {
    await createToken('other_admin', 'first');
    await createToken('other_admin', 'second');

    const first = await world.request('other_admin', 'GET', '/api/tokens/?page_size=2');
    const second = await world.request('other_admin', 'GET', '/api/tokens/?page_size=2&page=2');

    expect(first.json().count).toBe(3);
    expect(first.json().next).toBe('http://localhost/api/tokens/?page_size=2&page=2');
    expect(first.json().results.map((token: { name: string }) => token.name)).toEqual(['second', 'first']);
    expect(second.json().results.map((token: { name: string }) => token.name)).toEqual(['tests']);
  });

  it('revokes a token, which stops working at once', async () => {
    const created = await createToken('tenant_admin', 'to revoke');
    expect((await withToken(created.token, 'GET', '/api/vms/')).statusCode).toBe(200);

    const response = await withToken(created.token, 'DELETE', `/api/tokens/${created.id}/`);

    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    const after = await withToken(created.token, 'GET', '/api/vms/');
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('not_authenticated');

    const listed = (await world.request('tenant_admin', 'GET', '/api/tokens/')).json().results;
    const revoked = listed.find((token: { id: number }) => token.id === created.id);
    expect(revoked.revoked_at).not.toBeNull();

    // Revoking again succeeds and keeps the first revocation time.
    const again = await world.request('tenant_admin', 'DELETE', `/api/tokens/${created.id}/`);
    expect(again.statusCode).toBe(204);
    const relisted = (await world.request('tenant_admin', 'GET', '/api/tokens/')).json().results;
    expect(relisted.find((token: { id: number }) => token.id === created.id).revoked_at).toBe(
      revoked.revoked_at,
    );
  });

  it('hides another user token as 404', async () => {
    const others = await createToken('tenant_viewer', 'not yours');

    const response = await world.request('tenant_admin', 'DELETE', `/api/tokens/${others.id}/`);
    const asAdmin = await world.request('admin', 'DELETE', `/api/tokens/${others.id}/`);
    const missing = await world.request('tenant_admin', 'DELETE', '/api/tokens/999999/');

    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('object_not_found');
    expect(asAdmin.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect((await withToken(others.token, 'GET', '/api/auth/me/')).statusCode).toBe(200);
  });

  it('lets an admin list and revoke the tokens of a user', async () => {
    const target = await createToken('tenant_viewer', 'leaked');
    const viewerId = await userId('tenant_viewer');

    const listed = await world.request('admin', 'GET', `/api/tokens/?user=${viewerId}`);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(target.token);
    expect(listed.json().results.every((token: { user: number }) => token.user === viewerId)).toBe(true);
    expect(listed.json().results.map((token: { id: number }) => token.id)).toContain(target.id);

    const revoked = await world.request('admin', 'DELETE', `/api/tokens/${target.id}/?user=${viewerId}`);
    expect(revoked.statusCode).toBe(204);
    expect((await withToken(target.token, 'GET', '/api/auth/me/')).statusCode).toBe(401);

    const missingUser = await world.request('admin', 'GET', '/api/tokens/?user=999999');
    expect(missingUser.statusCode).toBe(404);
  });

  it('keeps other users tokens from non-admins', async () => {
    const adminId = await userId('admin');
    const ownId = await userId('tenant_admin');

    const list = await world.request('tenant_admin', 'GET', `/api/tokens/?user=${adminId}`);
    const revoke = await world.request('tenant_viewer', 'DELETE', `/api/tokens/1/?user=${adminId}`);
    const own = await world.request('tenant_admin', 'GET', `/api/tokens/?user=${ownId}`);

    expect(list.statusCode).toBe(403);
    expect(list.json().code).toBe('permission_denied');
    expect(revoke.statusCode).toBe(403);
    expect(own.statusCode).toBe(200);
  });

  it('requires a signed-in caller', async () => {
    expect((await world.request('anonymous', 'GET', '/api/tokens/')).statusCode).toBe(401);
    expect((await world.request('anonymous', 'POST', '/api/tokens/', { name: 'x' })).statusCode).toBe(401);
    expect((await withToken('cpt_not-a-real-token', 'GET', '/api/tokens/')).statusCode).toBe(401);
  });

  it('validates the name and ids', async () => {
    const cases: [string, unknown, string, string][] = [
      ['empty name', { name: '' }, 'body.name', 'minLength'],
      ['blank name', { name: '   ' }, 'name', 'invalid_name'],
      ['over-long name', { name: 'n'.repeat(201) }, 'body.name', 'maxLength'],
      ['name as number', { name: 42 }, 'body.name', 'type'],
      ['name as null', { name: null }, 'body.name', 'type'],
      ['missing name', {}, 'body.name', 'required'],
      ['chosen secret', { name: 'x', token: 'cpt_mine' }, 'body.token', 'additionalProperties'],
    ];
    for (const [label, body, field, code] of cases) {
      const response = await world.request('tenant_viewer', 'POST', '/api/tokens/', body);
      expect(response.statusCode, label).toBe(400);
      expect(response.json().details, label).toContainEqual(expect.objectContaining({ field, code }));
    }

    for (const url of ['/api/tokens/abc/', '/api/tokens/0/', '/api/tokens/1.5/', '/api/tokens/1/?user=me']) {
      const response = await world.request('tenant_viewer', 'DELETE', url);
      expect(response.statusCode, url).toBe(400);
    }
    expect((await world.request('admin', 'GET', '/api/tokens/?user=-1')).statusCode).toBe(400);
  });

  it('never logs a password or token', async () => {
    const password = 'log-check-password-8c1f';
    const user = await world.request('admin', 'POST', '/api/users/', {
      username: 'log-check',
      password,
      role: 'tenant_viewer',
      tenant: world.tenantA.id,
    });
    expect(user.statusCode).toBe(201);
    const login = await world.request('anonymous', 'POST', '/api/auth/login/', {
      username: 'log-check',
      password,
    });
    const session = login.cookies.find((cookie) => cookie.name === 'cp_session')!.value;
    const created = await createToken('tenant_viewer', 'log check');
    await withToken(created.token, 'GET', '/api/tokens/?page_size=1');
    await withToken(created.token, 'DELETE', `/api/tokens/${created.id}/`);
    await withToken(created.token, 'GET', '/api/tokens/');

    const log = logLines.join('\n');
    expect(log).toContain('API token created');
    expect(log).toContain('API token revoked');
    for (const secret of [password, created.token, session, world.tokens.admin]) {
      expect(log).not.toContain(secret);
    }
  });
});
