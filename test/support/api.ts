import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

import { buildApp } from '../../src/api/app.js';
import { createApiToken, createUser } from '../../src/api/auth/accounts.js';
import { loadSettings } from '../../src/config/settings.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { EmbeddedDispatcher } from '../../src/tasks/dispatcher.js';
import type { QueueDepthSource } from '../../src/metrics/queue-depths.js';
import { TaskRunner } from '../../src/tasks/runner.js';
import { createTestDatabase, type Backend, type TestDatabase } from './databases.js';
import { beijing, createSystem } from './fixtures.js';

/**
 * API test world with two tenants (A and B), each with one information system
 * and one VM. Each caller has a user with an API token. `tenant_admin` and
 * `tenant_viewer` belong to tenant A, and `other_admin` is the tenant_admin of B.
 */

export type Caller = 'anonymous' | 'admin' | 'tenant_admin' | 'tenant_viewer' | 'other_admin';

export interface ApiWorld {
  database: TestDatabase;
  app: Awaited<ReturnType<typeof buildApp>>;
  tenantA: { id: number; code: string; systemId: number; systemCode: string; vmExternalId: string };
  tenantB: { id: number; code: string; systemId: number; systemCode: string; vmExternalId: string };
  tokens: Record<Exclude<Caller, 'anonymous'>, string>;
  /** Sends a request as `caller`, with its API token. */
  request(
    caller: Caller,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createApiWorld(
  backend: Backend = 'pglite',
  options: {
    logger?: Logger;
    /** Settings added to the world's, e.g. METRICS_TOKEN. */
    environment?: Record<string, string>;
    queueDepths?: QueueDepthSource;
  } = {},
): Promise<ApiWorld> {
  const database = await createTestDatabase(backend);
  const settings = loadSettings({
    BILLING_TIMEZONE: 'Asia/Shanghai',
    LOG_LEVEL: 'silent',
    ...options.environment,
  });
  const at = beijing('2026-01-01T09:00:00');

  const a = await createSystem(database.db, { at, runMode: '7x24', cpu: 2, memory: '4', storage: '50' });
  const b = await createSystem(database.db, { at, runMode: '5x8', cpu: 1, memory: '2', storage: '20' });
  const tenantOf = async (code: string) =>
    database.db.selectFrom('tenants').select('id').where('code', '=', code).executeTakeFirstOrThrow();
  const tenantA = {
    ...(await tenantOf(a.tenantCode)),
    code: a.tenantCode,
    systemId: a.system.id,
    systemCode: a.system.code,
    vmExternalId: a.vmExternalId!,
  };
  const tenantB = {
    ...(await tenantOf(b.tenantCode)),
    code: b.tenantCode,
    systemId: b.system.id,
    systemCode: b.system.code,
    vmExternalId: b.vmExternalId!,
  };

  const users = {
    admin: { role: 'admin', tenant: undefined },
    tenant_admin: { role: 'tenant_admin', tenant: tenantA.id },
    tenant_viewer: { role: 'tenant_viewer', tenant: tenantA.id },
    other_admin: { role: 'tenant_admin', tenant: tenantB.id },
  } as const;
  const tokens = {} as Record<keyof typeof users, string>;
  for (const [username, user] of Object.entries(users)) {
    const created = await createUser(database.db, { username, password: `${username}-password`, ...user });
    tokens[username as keyof typeof users] = (await createApiToken(database.db, created.id, 'tests')).token;
  }

  const tasks = new EmbeddedDispatcher(
    new TaskRunner(database, settings, silentLogger),
    database,
    silentLogger,
  );
  const violations: string[] = [];
  const app = await buildApp(
    { database, settings, logger: options.logger ?? silentLogger, tasks, queueDepths: options.queueDepths },
    { beforeRoutes: (instance) => checkResponsesAgainstSchemas(instance, violations) },
  );

  return {
    database,
    app,
    tenantA,
    tenantB,
    tokens,
    request: async (caller, method, url, body, headers = {}) => {
      violations.length = 0;
      const response = await app.inject({
        method,
        url,
        headers: {
          ...(caller === 'anonymous' ? {} : { authorization: `Bearer ${tokens[caller]}` }),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      if (violations.length > 0) {
        throw new Error(`${method} ${url} answered outside its schema: ${violations.join('; ')}`);
      }
      // A handler that returns what its schema cannot serialize ends here too, as a 500.
      if (response.statusCode >= 500)
        throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body}`);
      return response;
    },
    close: async () => {
      await app.close();
      await tasks.close();
      await database.drop();
    },
  };
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
const validators = new WeakMap<object, ValidateFunction>();

/**
 * Validates every JSON response against its route's response schema for the
 * status code, and records any mismatch in `violations`. Fastify only
 * serializes responses by their schema; this makes the tests fail when a
 * handler returns something the OpenAPI document does not describe.
 */
function checkResponsesAgainstSchemas(app: FastifyInstance, violations: string[]): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const contentType = String(reply.getHeader('content-type') ?? '');
    if (!contentType.includes('application/json') || typeof payload !== 'string') return payload;

    const responses = request.routeOptions.schema?.response as Record<string, object> | undefined;
    const schema = responses?.[String(reply.statusCode)];
    if (!schema) {
      if (request.routeOptions.url?.startsWith('/api/') && !request.routeOptions.schema?.hide) {
        violations.push(`no response schema for status ${reply.statusCode}`);
      }
      return payload;
    }

    let validate = validators.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      validators.set(schema, validate);
    }
    if (!validate(JSON.parse(payload))) violations.push(ajv.errorsText(validate.errors));
    return payload;
  });
}
