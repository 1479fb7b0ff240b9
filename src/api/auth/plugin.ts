import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import '@fastify/cookie';

import type { DatabaseHandle } from '../../db/database.js';
import { AUTH_CHANGED_CHANNEL } from '../../db/migrations/0009_auth_change_notifications.js';
import { UserRepository, type AuthenticatedUser } from '../../db/repositories/user.repository.js';
import { ApiError } from '../errors.js';
import { CredentialCache } from './credential-cache.js';
import { hashSecret, secretsEqual } from './secrets.js';

/**
 * Who may call a route: `public` (anyone), `read` (any signed-in user),
 * `write` (admin, or tenant_admin within its tenant), `admin` (admins only).
 */
export type Access = 'public' | 'read' | 'write' | 'admin';

export const SESSION_COOKIE = 'cp_session';

/** An API token's last_used_at is updated when it is at least this old, so it may lag by up to a minute. */
export const TOKEN_LAST_USED_RESOLUTION_MS = 60_000;

declare module 'fastify' {
  interface FastifyInstance {
    credentialCache: CredentialCache;
  }
  interface FastifyRequest {
    user: AuthenticatedUser | null;
  }
  interface FastifyContextConfig {
    access?: Access;
    /**
     * Shared secret that a machine caller such as Prometheus may send as
     * `Authorization: Bearer <secret>` in place of a user's credential. The
     * request then has no user. Unset or empty accepts user credentials only.
     */
    serviceToken?: string | undefined;
  }
}

/** Reads `Authorization: Bearer <token>` or `Token <token>` (the Django REST Framework form). */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^(?:Bearer|Token)\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** Returns the user's own fields, without what a lookup adds (token id, expiry). */
function callerOf(user: AuthenticatedUser): AuthenticatedUser {
  return { id: user.id, username: user.username, role: user.role, tenant_id: user.tenant_id };
}

async function authenticateToken(
  users: UserRepository,
  cache: CredentialCache,
  token: string,
): Promise<AuthenticatedUser | null> {
  const tokenHash = hashSecret(token);
  const key = `token:${tokenHash}`;
  let credential = cache.get(key);
  if (credential?.kind !== 'token') {
    const generation = cache.generation;
    const found = await users.getByTokenHash(tokenHash);
    if (!found) return null;
    credential = {
      kind: 'token',
      user: callerOf(found),
      tokenId: found.token_id,
      lastUsedAt: found.token_last_used_at,
    };
    cache.set(key, credential, generation);
  }

  // One UPDATE per request would serialize a script's concurrent requests on
  // the token's row and make every read wait for a WAL flush.
  const now = new Date();
  const lastUsed = credential.lastUsedAt;
  if (lastUsed === null || now.getTime() - lastUsed.getTime() >= TOKEN_LAST_USED_RESOLUTION_MS) {
    credential.lastUsedAt = now;
    await users.touchToken(credential.tokenId, now);
  }
  return credential.user;
}

async function authenticateSession(
  users: UserRepository,
  cache: CredentialCache,
  sessionId: string,
): Promise<AuthenticatedUser | null> {
  const idHash = hashSecret(sessionId);
  const key = `session:${idHash}`;
  const now = new Date();
  const credential = cache.get(key);
  if (credential?.kind === 'session') {
    if (credential.expiresAt > now) return credential.user;
    cache.delete(key);
    return null;
  }

  const generation = cache.generation;
  const found = await users.getBySessionHash(idHash, now);
  if (!found) return null;
  const user = callerOf(found);
  cache.set(key, { kind: 'session', user, expiresAt: found.session_expires_at }, generation);
  return user;
}

/**
 * Resolves `request.user` and enforces each route's `config.access` (default
 * `read`). Decorates the app with the credential cache, which routes that
 * revoke a credential empty at once for this process.
 */
export const authPlugin = fp(async (app: FastifyInstance, options: { database: DatabaseHandle }) => {
  const users = new UserRepository(options.database.db);
  const cache = new CredentialCache();
  const subscription = await options.database.listen(AUTH_CHANGED_CHANNEL, cache);
  app.addHook('onClose', () => subscription.close());
  app.decorate('credentialCache', cache);
  app.decorateRequest('user', null);

  app.addHook('preHandler', async (request) => {
    // The interactive API docs are public; the API they describe is not.
    const isDocs = request.routeOptions.url?.startsWith('/api/docs') ?? false;
    const access = request.routeOptions.config.access ?? (isDocs ? 'public' : 'read');
    if (access === 'public') return;

    const serviceToken = request.routeOptions.config.serviceToken;
    const token = bearerToken(request);
    if (serviceToken && token !== undefined && secretsEqual(token, serviceToken)) return;

    const sessionId = token === undefined ? request.cookies[SESSION_COOKIE] : undefined;
    if (token !== undefined) request.user = await authenticateToken(users, cache, token);
    else if (sessionId) request.user = await authenticateSession(users, cache, sessionId);
    if (!request.user) throw new ApiError(401, 'not_authenticated');

    const role = request.user.role;
    if (access === 'admin' && role !== 'admin') throw new ApiError(403, 'permission_denied', { role });
    if (access === 'write' && role === 'tenant_viewer')
      throw new ApiError(403, 'permission_denied', { role });
  });
});

/** The tenant a caller is confined to, or null for an admin, who sees every tenant. */
export function tenantScope(request: FastifyRequest): number | null {
  const user = request.user;
  if (!user) throw new ApiError(401, 'not_authenticated');
  return user.role === 'admin' ? null : user.tenant_id;
}
