import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

import { SESSION_COOKIE } from '../api/auth/plugin.js';
import { hashSecret, verifyPassword } from '../api/auth/secrets.js';
import { DUMMY_HASH, SESSION_DAYS, startSession } from '../api/auth/sessions.js';
import type { Settings } from '../config/settings.js';
import type { DatabaseHandle } from '../db/database.js';
import { UserRepository, type AuthenticatedUser } from '../db/repositories/user.repository.js';
import type { Locale } from '../i18n/messages.js';
import type { Logger } from '../logger.js';
import type { TaskQueues } from './queues.js';

/** Base path of the board with actions (retry, remove, pause), for admins. */
const ADMIN_BOARD = '/admin';
/** Base path of the read-only board, for every signed-in user. */
const VIEW_BOARD = '/view';

declare module 'fastify' {
  interface FastifyRequest {
    monitorUser: AuthenticatedUser | null;
  }
}

/** The stylesheet link of Bull Board's page to Google's font service. */
const EXTERNAL_FONT_LINK = /<link[^>]*fonts\.googleapis\.com[^>]*>\s*/g;

/**
 * The task dashboard (`cloud-platform monitor`): Bull Board for both queues
 * and their job schedulers, behind the product's own login. It shares users
 * and sessions with the API, so a session cookie from either works in both.
 * Admins get the board with actions, and other users a read-only board. The
 * server rejects every request of a non-admin that would change a queue,
 * whatever the page shows.
 */
export async function buildMonitor(deps: {
  database: DatabaseHandle;
  settings: Settings;
  queues: TaskQueues;
  logger: Logger;
  locale: Locale;
}) {
  const app = Fastify({ loggerInstance: deps.logger.child({ component: 'monitor' }) });
  const users = new UserRepository(deps.database.db);

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false });
  app.decorateRequest('monitorUser', null);
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  // Bull Board's page links its fonts from fonts.googleapis.com, which
  // isolated networks cannot reach. Without the link the board uses the
  // browser's sans-serif font and makes no request outside this server.
  app.addHook('onSend', async (_request, reply, payload) => {
    const isHtml = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
    return isHtml && typeof payload === 'string' ? payload.replace(EXTERNAL_FONT_LINK, '') : payload;
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path === '/login' || path === '/healthz') return;

    const sessionId = request.cookies[SESSION_COOKIE];
    request.monitorUser = sessionId
      ? ((await users.getBySessionHash(hashSecret(sessionId), new Date())) ?? null)
      : null;
    if (!request.monitorUser) return denyAnonymous(request, reply);

    const isAdmin = request.monitorUser.role === 'admin';
    const readOnlyMethod = request.method === 'GET' || request.method === 'HEAD';
    if (path.startsWith(ADMIN_BOARD) && !isAdmin) return reply.redirect(`${VIEW_BOARD}/`);
    if (!readOnlyMethod && !isAdmin && path !== '/logout') {
      return reply
        .status(403)
        .send({ error: '只读：仅管理员可操作队列 / read-only: only admins may change queues' });
    }
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/', async (request, reply) =>
    reply.redirect(request.monitorUser?.role === 'admin' ? `${ADMIN_BOARD}/` : `${VIEW_BOARD}/`),
  );

  app.get('/login', async (request, reply) => {
    const failed = (request.query as { failed?: string }).failed === '1';
    return reply.type('text/html; charset=utf-8').send(loginPage(failed));
  });

  app.post(
    '/login',
    { config: { rateLimit: { max: 10, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const body = (request.body ?? {}) as { username?: unknown; password?: unknown };
      const username = typeof body.username === 'string' ? body.username : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const user = username ? await users.getByUsername(username) : undefined;
      // Verify against a hash even for an unknown user, so response time does not reveal which usernames exist.
      const valid = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
      if (!user || !valid || !user.is_active) {
        request.log.warn({ username }, 'monitor login failed');
        return reply.redirect('/login?failed=1');
      }

      const sessionId = await startSession(deps.database.db, user.id, new Date());
      reply.setCookie(SESSION_COOKIE, sessionId, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: deps.settings.secureCookies,
        maxAge: SESSION_DAYS * 24 * 3600,
      });
      return reply.redirect('/');
    },
  );

  app.post('/logout', async (request, reply) => {
    const sessionId = request.cookies[SESSION_COOKIE];
    if (sessionId) await users.deleteSession(hashSecret(sessionId));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login');
  });

  for (const [basePath, readOnlyMode] of [
    [ADMIN_BOARD, false],
    [VIEW_BOARD, true],
  ] as const) {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(basePath);
    createBullBoard({
      queues: deps.queues
        .all()
        .map((queue) => new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode })),
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: readOnlyMode ? 'cloud-platform 任务（只读）' : 'cloud-platform 任务',
          locale: { lng: deps.locale === 'zh-CN' ? 'zh-CN' : 'en-US' },
        },
      },
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: basePath });
  }

  return app;
}

function denyAnonymous(request: FastifyRequest, reply: FastifyReply) {
  const wantsPage = request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
  if (wantsPage) return reply.redirect('/login');
  return reply.status(401).send({ error: '未登录 / not authenticated' });
}

function loginPage(failed: boolean): string {
  return `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>cloud-platform 任务监控 / task monitor</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}</style></head>
<body>
<h1>任务监控 / Task monitor</h1>
${failed ? '<p role="alert">用户名或密码错误 / wrong username or password</p>' : ''}
<form method="post" action="/login">
<label>用户名 / Username <input name="username" autocomplete="username" required></label>
<label>密码 / Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">登录 / Log in</button>
</form>
</body></html>`;
}
