import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadSettings } from '../../config/settings.js';
import { openDatabase, type DatabaseHandle } from '../../db/database.js';
import { silentLogger } from '../../logger.js';
import { EmbeddedDispatcher } from '../../tasks/dispatcher.js';
import { TaskRunner } from '../../tasks/runner.js';
import { availableBackends } from '../../../test/support/databases.js';
import { createApiWorld, type ApiWorld } from '../../../test/support/api.js';
import { buildApp } from '../app.js';
import { CREDENTIAL_MAX_AGE_MS, CredentialCache } from './credential-cache.js';
import { hashSecret } from './secrets.js';
import { startSession } from './sessions.js';

const user = { id: 1, username: 'ops', role: 'admin', tenant_id: null } as const;
const credential = () => ({ kind: 'token' as const, user, tokenId: 7, lastUsedAt: null });

describe('CredentialCache', () => {
  it('is unused until its subscription listens', () => {
    const cache = new CredentialCache();
    cache.set('token:a', credential(), cache.generation);
    expect(cache.get('token:a')).toBeUndefined();

    cache.onListening();
    cache.set('token:a', credential(), cache.generation);
    expect(cache.get('token:a')).toEqual(credential());
  });

  it('empties on a notification and on an interruption', () => {
    const cache = new CredentialCache();
    cache.onListening();
    cache.set('token:a', credential(), cache.generation);
    cache.onNotification();
    expect(cache.size).toBe(0);

    cache.set('token:a', credential(), cache.generation);
    cache.onInterrupted();
    expect(cache.size).toBe(0);
    expect(cache.isListening).toBe(false);
    cache.set('token:a', credential(), cache.generation);
    expect(cache.size).toBe(0);
  });

  it('drops a lookup that started before an emptying', () => {
    const cache = new CredentialCache();
    cache.onListening();
    const generation = cache.generation;
    // A revocation's notification arrives while the lookup runs.
    cache.onNotification();
    cache.set('token:a', credential(), generation);
    expect(cache.get('token:a')).toBeUndefined();
  });

  it('looks a credential up again after a minute', () => {
    const cache = new CredentialCache();
    cache.onListening();
    const storedAt = Date.parse('2026-12-05T00:00:00Z');
    cache.set('token:a', credential(), cache.generation, storedAt);
    expect(cache.get('token:a', storedAt + CREDENTIAL_MAX_AGE_MS - 1)).toEqual(credential());
    expect(cache.get('token:a', storedAt + CREDENTIAL_MAX_AGE_MS)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most 10,000 credentials, dropping the oldest', () => {
    const cache = new CredentialCache();
    cache.onListening();
    for (let index = 0; index <= 10_000; index += 1) {
      cache.set(`token:${index}`, credential(), cache.generation);
    }
    expect(cache.size).toBe(10_000);
    expect(cache.get('token:0')).toBeUndefined();
    expect(cache.get('token:10000')).toBeDefined();
  });
});

const backends = await availableBackends();

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe.each(backends)('credential cache of the API (%s)', (backend) => {
  let world: ApiWorld;
  /** A second API process on the same PostgreSQL database, with its own pool and subscription; on PGlite, the same app. */
  let other: ApiWorld['app'];
  let otherDatabase: DatabaseHandle | undefined;

  beforeAll(async () => {
    world = await createApiWorld(backend);
    if (backend === 'postgres') {
      otherDatabase = await openDatabase({ databaseUrl: world.database.url });
      const settings = loadSettings({ BILLING_TIMEZONE: 'Asia/Shanghai', LOG_LEVEL: 'silent' });
      const tasks = new EmbeddedDispatcher(
        new TaskRunner(otherDatabase, settings, silentLogger),
        otherDatabase,
        silentLogger,
      );
      other = await buildApp({ database: otherDatabase, settings, logger: silentLogger, tasks });
    } else {
      other = world.app;
    }
    await eventually(async () => other.credentialCache.isListening && world.app.credentialCache.isListening);
  });

  afterAll(async () => {
    if (other !== world.app) await other.close();
    await otherDatabase?.close();
    await world.close();
  });

  const me = (token: string) =>
    other.inject({ method: 'GET', url: '/api/auth/me/', headers: { authorization: `Bearer ${token}` } });

  /** Whether `token` is rejected by the other process, within the time a notification takes. */
  const rejectedSoon = (token: string) => eventually(async () => (await me(token)).statusCode === 401);

  it('serves a known token from the cache', async () => {
    expect((await me(world.tokens.tenant_viewer)).statusCode).toBe(200);
    const key = `token:${hashSecret(world.tokens.tenant_viewer)}`;
    expect(other.credentialCache.get(key)?.user.username).toBe('tenant_viewer');
  });

  it('rejects a token revoked through the API at once in that process', async () => {
    const created = await world.request('admin', 'POST', '/api/tokens/', { name: 'revoked-by-api' });
    const { id, token } = created.json<{ id: number; token: string }>();
    const inOwnProcess = () =>
      world.app.inject({
        method: 'GET',
        url: '/api/auth/me/',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await inOwnProcess()).statusCode).toBe(200);
    expect((await me(token)).statusCode).toBe(200);

    expect((await world.request('admin', 'DELETE', `/api/tokens/${id}/`)).statusCode).toBe(204);
    expect((await inOwnProcess()).statusCode).toBe(401);
    expect(await rejectedSoon(token)).toBe(true);
  });

  it('rejects a token revoked by another program', async () => {
    const created = await world.request('admin', 'POST', '/api/tokens/', { name: 'revoked-by-sql' });
    const { id, token } = created.json<{ id: number; token: string }>();
    expect((await me(token)).statusCode).toBe(200);

    await world.database.db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .execute();
    expect(await rejectedSoon(token)).toBe(true);
  });

  it('rejects the token of a user deactivated by another program', async () => {
    expect((await me(world.tokens.other_admin)).statusCode).toBe(200);
    await world.database.db
      .updateTable('users')
      .set({ is_active: false })
      .where('username', '=', 'other_admin')
      .execute();
    expect(await rejectedSoon(world.tokens.other_admin)).toBe(true);
    await world.database.db
      .updateTable('users')
      .set({ is_active: true })
      .where('username', '=', 'other_admin')
      .execute();
    expect((await me(world.tokens.other_admin)).statusCode).toBe(200);
  });

  it('follows a role change made by another program', async () => {
    const viewer = world.tokens.tenant_viewer;
    expect((await me(viewer)).json<{ role: string }>().role).toBe('tenant_viewer');
    await world.database.db
      .updateTable('users')
      .set({ role: 'tenant_admin' })
      .where('username', '=', 'tenant_viewer')
      .execute();
    const promoted = await eventually(
      async () => (await me(viewer)).json<{ role: string }>().role === 'tenant_admin',
    );
    await world.database.db
      .updateTable('users')
      .set({ role: 'tenant_viewer' })
      .where('username', '=', 'tenant_viewer')
      .execute();
    expect(promoted).toBe(true);
  });

  it('rejects a session deleted by another program', async () => {
    const userId = (
      await world.database.db
        .selectFrom('users')
        .select('id')
        .where('username', '=', 'tenant_admin')
        .executeTakeFirstOrThrow()
    ).id;
    const sessionId = await startSession(world.database.db, userId, new Date());
    const withSession = () =>
      other.inject({ method: 'GET', url: '/api/auth/me/', cookies: { cp_session: sessionId } });
    expect((await withSession()).statusCode).toBe(200);
    expect(other.credentialCache.get(`session:${hashSecret(sessionId)}`)).toBeDefined();

    await world.database.db.deleteFrom('sessions').where('id_hash', '=', hashSecret(sessionId)).execute();
    expect(await eventually(async () => (await withSession()).statusCode === 401)).toBe(true);
  });

  // PGlite runs in the process, so only PostgreSQL has a connection to lose.
  if (backend === 'postgres') {
    it('recovers when its subscription is lost', async () => {
      const created = await world.request('admin', 'POST', '/api/tokens/', { name: 'during-outage' });
      const { id, token } = created.json<{ id: number; token: string }>();
      expect((await me(token)).statusCode).toBe(200);

      // Ends both processes' LISTEN connections, as a PostgreSQL restart would.
      await sql`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN %'
      `.execute(world.database.db);
      expect(await eventually(async () => !other.credentialCache.isListening, 2000)).toBe(true);

      await world.database.db
        .updateTable('api_tokens')
        .set({ revoked_at: new Date() })
        .where('id', '=', id)
        .execute();
      expect((await me(token)).statusCode).toBe(401);

      // The subscription comes back by itself and the cache is used again.
      expect(await eventually(async () => other.credentialCache.isListening)).toBe(true);
      expect((await me(world.tokens.admin)).statusCode).toBe(200);
      expect(other.credentialCache.get(`token:${hashSecret(world.tokens.admin)}`)).toBeDefined();
    });
  }
});
