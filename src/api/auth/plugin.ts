import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import '@fastify/cookie';

import type { Db } from '../../db/database.js';
import { UserRepository, type AuthenticatedUser } from '../../db/repositories/user.repository.js';
import { ApiError } from '../errors.js';
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

async function authenticate(db: Db, request: FastifyRequest): Promise<AuthenticatedUser | null> {
  const users = new UserRepository(db);
  const token = bearerToken(request);
  if (token) {
    const user = await users.getByTokenHash(hashSecret(token));
    if (!user) return null;
    // One UPDATE per request would serialize a script's concurrent requests on
    // the token's row and make every read wait for a WAL flush.
    const now = new Date();
    const lastUsed = user.token_last_used_at;
    if (lastUsed === null || now.getTime() - lastUsed.getTime() >= TOKEN_LAST_USED_RESOLUTION_MS) {
      await users.touchToken(user.token_id, now);
    }
    return { id: user.id, username: user.username, role: user.role, tenant_id: user.tenant_id };
  }

  const sessionId = request.cookies[SESSION_COOKIE];
  if (!sessionId) return null;
  return (await users.getBySessionHash(hashSecret(sessionId), new Date())) ?? null;
}

/** Resolves `request.user` and enforces each route's `config.access` (default `read`). */
export const authPlugin = fp(async (app: FastifyInstance, options: { db: Db }) => {
  app.decorateRequest('user', null);

  app.addHook('preHandler', async (request) => {
    // The interactive API docs are public; the API they describe is not.
    const isDocs = request.routeOptions.url?.startsWith('/api/docs') ?? false;
    const access = request.routeOptions.config.access ?? (isDocs ? 'public' : 'read');
    if (access === 'public') return;

    const serviceToken = request.routeOptions.config.serviceToken;
    const token = bearerToken(request);
    if (serviceToken && token !== undefined && secretsEqual(token, serviceToken)) return;

    request.user = await authenticate(options.db, request);
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
