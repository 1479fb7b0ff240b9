import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld, type Caller } from '../../test/support/api.js';
import { createSystem } from '../../test/support/fixtures.js';
import { beijing } from '../../test/support/fixtures.js';

/**
 * Every route × every caller × the caller's own tenant and the other tenant,
 * each with its exact expected status. The tenant_admin and tenant_viewer
 * belong to tenant A; "other" objects belong to tenant B, which they must not
 * see (404) and must not change (403 or 404).
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Expected = Record<Exclude<Caller, 'other_admin'>, number>;

interface Case {
  name: string;
  method: Method;
  /** Builds the URL and body for one request; called once per caller, so created objects never collide. */
  request: (
    world: ApiWorld,
    caller: Caller,
    index: number,
  ) => Promise<{ url: string; body?: unknown }> | { url: string; body?: unknown };
  expected: Expected;
}

const READ_ALL: Expected = { anonymous: 401, admin: 200, tenant_admin: 200, tenant_viewer: 200 };
const READ_OWN_ONLY: Expected = { anonymous: 401, admin: 200, tenant_admin: 404, tenant_viewer: 404 };

let sequence = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(sequence += 1)}`;

/** A fresh system of tenant A or B, for requests that change or retire it. */
async function freshSystem(world: ApiWorld, tenant: 'A' | 'B') {
  const tenantCode = tenant === 'A' ? world.tenantA.code : world.tenantB.code;
  const { system } = await createSystem(world.database.db, {
    at: beijing('2026-01-02T09:00:00'),
    runMode: '7x24',
    tenantCode,
  });
  return system.id;
}

const CASES: Case[] = [
  {
    name: 'schema',
    method: 'GET',
    request: () => ({ url: '/api/schema/' }),
    expected: { anonymous: 200, admin: 200, tenant_admin: 200, tenant_viewer: 200 },
  },
  { name: 'me', method: 'GET', request: () => ({ url: '/api/auth/me/' }), expected: READ_ALL },

  { name: 'tenants list', method: 'GET', request: () => ({ url: '/api/tenants/' }), expected: READ_ALL },
  {
    name: 'tenant create',
    method: 'POST',
    request: () => ({
      url: '/api/tenants/',
      body: { code: unique('t'), name: 'New tenant', discount_rate: '0.9' },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 403, tenant_viewer: 403 },
  },
  {
    name: 'own tenant',
    method: 'GET',
    request: (w) => ({ url: `/api/tenants/${w.tenantA.id}/` }),
    expected: READ_ALL,
  },
  {
    name: 'other tenant',
    method: 'GET',
    request: (w) => ({ url: `/api/tenants/${w.tenantB.id}/` }),
    expected: READ_OWN_ONLY,
  },
  {
    name: 'own tenant update',
    method: 'PATCH',
    request: (w) => ({ url: `/api/tenants/${w.tenantA.id}/`, body: { name: 'Renamed' } }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 403, tenant_viewer: 403 },
  },
  {
    name: 'other tenant update',
    method: 'PATCH',
    request: (w) => ({ url: `/api/tenants/${w.tenantB.id}/`, body: { name: 'Renamed' } }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 403, tenant_viewer: 403 },
  },
  {
    name: 'own discount history',
    method: 'GET',
    request: (w) => ({ url: `/api/tenants/${w.tenantA.id}/discount_history/` }),
    expected: READ_ALL,
  },
  {
    name: 'other discount history',
    method: 'GET',
    request: (w) => ({ url: `/api/tenants/${w.tenantB.id}/discount_history/` }),
    expected: READ_OWN_ONLY,
  },

  {
    name: 'systems list',
    method: 'GET',
    request: () => ({ url: '/api/information-systems/' }),
    expected: READ_ALL,
  },
  {
    name: 'own system create',
    method: 'POST',
    request: (w) => ({
      url: '/api/information-systems/',
      body: { tenant: w.tenantA.id, code: unique('s'), name: 'New', run_mode: '5x8' },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 201, tenant_viewer: 403 },
  },
  {
    name: 'other system create',
    method: 'POST',
    request: (w) => ({
      url: '/api/information-systems/',
      body: { tenant: w.tenantB.id, code: unique('s'), name: 'New', run_mode: '5x8' },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 404, tenant_viewer: 403 },
  },
  {
    name: 'own system',
    method: 'GET',
    request: (w) => ({ url: `/api/information-systems/${w.tenantA.systemId}/` }),
    expected: READ_ALL,
  },
  {
    name: 'other system',
    method: 'GET',
    request: (w) => ({ url: `/api/information-systems/${w.tenantB.systemId}/` }),
    expected: READ_OWN_ONLY,
  },
  {
    name: 'own system update',
    method: 'PATCH',
    request: (w) => ({ url: `/api/information-systems/${w.tenantA.systemId}/`, body: { name: 'Renamed' } }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 200, tenant_viewer: 403 },
  },
  {
    name: 'other system update',
    method: 'PATCH',
    request: (w) => ({ url: `/api/information-systems/${w.tenantB.systemId}/`, body: { name: 'Renamed' } }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 404, tenant_viewer: 403 },
  },
  {
    name: 'own system decommission',
    method: 'POST',
    request: async (w) => ({ url: `/api/information-systems/${await freshSystem(w, 'A')}/decommission/` }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 200, tenant_viewer: 403 },
  },
  {
    name: 'other system decommission',
    method: 'POST',
    request: async (w) => ({ url: `/api/information-systems/${await freshSystem(w, 'B')}/decommission/` }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 404, tenant_viewer: 403 },
  },
  {
    name: 'own detailed info',
    method: 'GET',
    request: (w) => ({ url: `/api/information-systems/${w.tenantA.systemId}/detailed_info/` }),
    expected: READ_ALL,
  },
  {
    name: 'other detailed info',
    method: 'GET',
    request: (w) => ({ url: `/api/information-systems/${w.tenantB.systemId}/detailed_info/` }),
    expected: READ_OWN_ONLY,
  },
  {
    name: 'own billing records',
    method: 'GET',
    request: (w) => ({ url: `/api/information-systems/${w.tenantA.systemId}/billing_records/` }),
    expected: READ_ALL,
  },
  {
    name: 'other billing records',
    method: 'GET',
    request: (w) => ({ url: `/api/information-systems/${w.tenantB.systemId}/billing_records/` }),
    expected: READ_OWN_ONLY,
  },
];

const CALLERS = ['anonymous', 'admin', 'tenant_admin', 'tenant_viewer'] as const;

describe('access matrix', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it.each(CASES.flatMap((testCase) => CALLERS.map((caller) => [testCase.name, caller, testCase] as const)))(
    '%s as %s',
    async (_name, caller, testCase) => {
      const { url, body } = await testCase.request(world, caller, 0);
      const response = await world.request(caller, testCase.method, url, body);
      expect(response.statusCode, response.body).toBe(testCase.expected[caller]);
    },
  );

  it('covers every route of the OpenAPI document', async () => {
    const document = (await world.request('anonymous', 'GET', '/api/schema/')).json() as {
      paths: Record<string, object>;
    };
    const covered = new Set(
      await Promise.all(
        CASES.map(async (testCase) => {
          const { url } = await testCase.request(world, 'admin', 0);
          return `${testCase.method} ${url.replace(/\/\d+\//g, '/{id}/').split('?')[0]}`;
        }),
      ),
    );
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{id}')}`),
    );
    const public_ = new Set(['POST /api/auth/login/', 'POST /api/auth/logout/']);
    expect(routes.filter((route) => !covered.has(route) && !public_.has(route))).toEqual([]);
  });
});
