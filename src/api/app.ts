import type { IncomingMessage, ServerResponse } from 'node:http';

import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import helmet from 'helmet';

import type { Settings } from '../config/settings.js';
import type { DatabaseHandle } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { TaskDispatcher } from '../tasks/dispatcher.js';
import type { QueueDepthSource } from '../metrics/queue-depths.js';
import { authPlugin } from './auth/plugin.js';
import { respondToUnparsableRequest, handleError, localeFromAcceptLanguage, sendError } from './errors.js';
import { adjustmentLogRoutes } from './routes/adjustment-logs.js';
import { authRoutes } from './routes/auth.js';
import { billingRecordRoutes } from './routes/billing-records.js';
import { informationSystemRoutes } from './routes/information-systems.js';
import { inventorySourceRoutes } from './routes/inventory-sources.js';
import { metricsRoutes } from './routes/metrics.js';
import { priceVersionRoutes } from './routes/price-versions.js';
import { taskRunRoutes } from './routes/task-runs.js';
import { taskRoutes } from './routes/tasks.js';
import { tenantRoutes } from './routes/tenants.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';
import { vmRoutes } from './routes/vms.js';
import { ErrorResponse } from './schemas.js';
import { shortenText } from './validation-messages.js';
import { strictValidatorCompiler } from './validator.js';

export interface AppDependencies {
  database: DatabaseHandle;
  settings: Settings;
  logger: Logger;
  /** Starts and awaits task runs for the task endpoints: in this process, or through BullMQ workers. */
  tasks: TaskDispatcher;
  /** Queue depths for /metrics in the distributed shape; unset in the embedded shape, which has no queues. */
  queueDepths?: QueueDepthSource | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDependencies;
  }
}

export type App = FastifyInstance;

/** HTTP methods whose request body Fastify 5 parses: all but GET, HEAD and TRACE. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY']);

/**
 * Returns the headers that helmet sets with the API's options, computed once.
 * @fastify/helmet 13 built helmet's middleware again for every request and
 * called it, which took about 3 % of the server's CPU time under load. The
 * headers are the same for every request as long as no Content-Security-Policy
 * directive is a function (a nonce, for example).
 *
 * `upgrade-insecure-requests` is sent only with SECURE_COOKIES, the setting
 * of a deployment behind HTTPS. Over plain HTTP, such as the embedded shape
 * on a LAN address, it makes browsers load /api/docs/'s scripts over HTTPS,
 * which fails.
 */
function securityHeaders(servedOverHttps: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  const middleware = helmet({
    // The Swagger UI page needs inline styles and scripts of its own origin.
    contentSecurityPolicy: {
      directives: {
        'script-src': ["'self'", "'unsafe-inline'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'upgrade-insecure-requests': servedOverHttps ? [] : null,
      },
    },
  });
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/** Methods that a 405 may list in its Allow header. */
const ROUTE_METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface AppOptions {
  /** Called before any route is registered, so that its hooks apply to every route (tests check responses here). */
  beforeRoutes?: (app: FastifyInstance) => void;
  /** Store of the rate limit counters (e.g. login attempts); the default keeps them in this process. */
  rateLimitStore?: FastifyRateLimitStoreCtor;
}

/** Builds the HTTP API: routes under /api/, OpenAPI at /api/schema/, interactive docs at /api/docs/. */
export async function buildApp(deps: AppDependencies, options: AppOptions = {}) {
  const headers = securityHeaders(deps.settings.secureCookies);
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }),
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
    // A URL the router cannot decode (e.g. `/api/%E0/`) gets the error shape
    // of every other 400 instead of Fastify's English one. No hook has run, so
    // the security headers are added here.
    frameworkErrors: (_error, request, reply) => {
      reply.headers(headers);
      return sendError(
        reply,
        400,
        'invalid_url',
        { url: shortenText(request.raw.url ?? '') },
        localeFromAcceptLanguage(request.headers['accept-language']),
      );
    },
    clientErrorHandler: (error, socket) => respondToUnparsableRequest(error, socket, headers),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('deps', deps);
  // Bodies are JSON only, so Fastify's default text/plain parser goes, and a
  // text body gets the 415 of every other media type.
  app.removeContentTypeParser('text/plain');
  // TypeBox checks requests without coercing JSON bodies (Ajv would turn null into 0).
  app.setValidatorCompiler(strictValidatorCompiler);
  options.beforeRoutes?.(app as unknown as FastifyInstance);
  app.setErrorHandler(handleError);
  // The path of every route by method, so that a known path requested with
  // another method gets a 405 listing the methods it accepts, as in Django
  // REST Framework.
  const routePaths = FindMyWay({ ignoreTrailingSlash: true });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (!routePaths.hasRoute(method as HTTPMethod, route.url)) {
        routePaths.on(method as HTTPMethod, route.url, () => undefined);
      }
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const locale = localeFromAcceptLanguage(request.headers['accept-language']);
    const path = request.url.split('?', 1)[0]!;
    const allowed = ROUTE_METHODS.filter((method) => routePaths.find(method, path) !== null);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        405,
        'method_not_allowed',
        { method: request.method, allowed: allowed.join(', ') },
        locale,
      );
    }
    return sendError(reply, 404, 'not_found', { path: request.url }, locale);
  });

  // helmet's security headers on every response, 404s and errors included.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: false,
    ...(options.rateLimitStore ? { store: options.rateLimitStore } : {}),
  });
  app.addSchema(ErrorResponse);
  // Fastify parses the bodies of these methods and raises 413 or 415 before any
  // handler runs, so every such route documents both in its responses.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (!response || !methods.some((method) => BODY_METHODS.has(method))) return;
    route.schema = { ...route.schema, response: { ...response, 413: ErrorResponse, 415: ErrorResponse } };
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'cloud-platform API',
        description: '云资源计费与监控 / billing and resource monitoring for private and government clouds',
        version: '1',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'cp_session' },
          token: { type: 'http', scheme: 'bearer', description: 'API token: Authorization: Bearer <token>' },
          metricsToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'METRICS_TOKEN setting, accepted by /metrics only: Authorization: Bearer <METRICS_TOKEN>',
          },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`),
    },
    // A group's root route ('/' under a prefix) is registered without the slash;
    // the document spells every /api/ path with its trailing slash, as clients
    // call it. /metrics keeps the spelling that Prometheus uses by default.
    transform: ({ schema, url }) => ({
      schema,
      url: url.endsWith('/') || !url.startsWith('/api') ? url : `${url}/`,
    }),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  await app.register(authPlugin, { database: deps.database });
  await app.register(
    async (api) => {
      api.get('/schema/', { config: { access: 'public' }, schema: { hide: true } }, async () =>
        app.swagger(),
      );
      await api.register(authRoutes, { prefix: '/auth' });
      await api.register(tenantRoutes, { prefix: '/tenants' });
      await api.register(informationSystemRoutes, { prefix: '/information-systems' });
      await api.register(billingRecordRoutes, { prefix: '/billing-records' });
      await api.register(adjustmentLogRoutes, { prefix: '/adjustment-logs' });
      await api.register(priceVersionRoutes, { prefix: '/price-versions' });
      await api.register(vmRoutes, { prefix: '/vms' });
      await api.register(userRoutes, { prefix: '/users' });
      await api.register(tokenRoutes, { prefix: '/tokens' });
      await api.register(taskRoutes, { prefix: '/tasks' });
      await api.register(taskRunRoutes, { prefix: '/task-runs' });
      await api.register(inventorySourceRoutes, { prefix: '/inventory-sources' });
    },
    { prefix: '/api' },
  );
  await app.register(metricsRoutes);

  return app;
}
