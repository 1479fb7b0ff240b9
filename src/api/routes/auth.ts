import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { UserRepository } from '../../db/repositories/user.repository.js';
import { hashSecret, verifyPassword } from '../auth/secrets.js';
import { SESSION_COOKIE } from '../auth/plugin.js';
import { DUMMY_HASH, SESSION_DAYS, startSession } from '../auth/sessions.js';
import { ApiError } from '../errors.js';
import { errorResponses } from '../schemas.js';

export const CurrentUser = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('tenant_admin'), Type.Literal('tenant_viewer')]),
  tenant_id: Type.Union([Type.Integer(), Type.Null()]),
});

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.deps.database.db;

  app.post(
    '/login/',
    {
      config: { access: 'public', rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        tags: ['auth'],
        summary: '登录并取得会话 Cookie / log in and receive a session cookie',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 150 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: CurrentUser, ...errorResponses, 429: errorResponses[400] },
        security: [],
      },
    },
    async (request, reply) => {
      const users = new UserRepository(db);
      const user = await users.getByUsername(request.body.username);
      // Verify against a hash even for an unknown user, so response time does not reveal which usernames exist.
      const valid = await verifyPassword(request.body.password, user?.password_hash ?? DUMMY_HASH);
      if (!user || !valid || !user.is_active) throw new ApiError(401, 'login_failed');

      const sessionId = await startSession(db, user.id, new Date());
      reply.setCookie(SESSION_COOKIE, sessionId, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: app.deps.settings.secureCookies,
        maxAge: SESSION_DAYS * 24 * 3600,
      });
      return { id: user.id, username: user.username, role: user.role, tenant_id: user.tenant_id };
    },
  );

  app.post(
    '/logout/',
    {
      config: { access: 'public' },
      schema: { tags: ['auth'], summary: '退出登录 / log out', response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const sessionId = request.cookies[SESSION_COOKIE];
      if (sessionId) {
        await new UserRepository(db).deleteSession(hashSecret(sessionId));
        app.credentialCache.clear();
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me/',
    {
      schema: {
        tags: ['auth'],
        summary: '当前用户 / the signed-in user',
        response: { 200: CurrentUser, ...errorResponses },
      },
    },
    async (request) => request.user!,
  );
};
