import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiToken, createUser } from './auth/accounts.js';
import { billDay } from '../billing/daily-billing.js';
import { addDays } from '../billing/days.js';
import { InventorySourceRepository } from '../db/repositories/inventory-source.repository.js';
import { PriceVersionRepository } from '../db/repositories/price-version.repository.js';
import { addLocalVm } from '../inventory/local-vms.js';
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

/** A fresh local VM in tenant A's or B's system, for requests that change or delete it. */
async function freshVm(world: ApiWorld, tenant: 'A' | 'B') {
  const system = tenant === 'A' ? world.tenantA.systemCode : world.tenantB.systemCode;
  const { vm } = await addLocalVm(
    world.database.db,
    { external_id: unique('vm'), name: 'Fresh VM', system, cpu: 1, memory: '1', storage: '10' },
    { timezone: 'Asia/Shanghai' },
  );
  return vm.id;
}

/** A fresh tenant_viewer of tenant A, for requests that change or delete a user. */
async function freshUser(world: ApiWorld) {
  const user = await createUser(world.database.db, {
    username: unique('user'),
    password: 'fresh-password',
    role: 'tenant_viewer',
    tenant: world.tenantA.id,
  });
  return user.id;
}

/** A fresh API token of the user named `username`. */
async function freshToken(world: ApiWorld, username: string) {
  const user = await world.database.db
    .selectFrom('users')
    .select('id')
    .where('username', '=', username)
    .executeTakeFirstOrThrow();
  const { record } = await createApiToken(world.database.db, user.id, 'matrix');
  return { id: record.id, userId: user.id };
}

/** Returns the id of tenant A's or B's billing record for 2026-01-02, billing that day on first use. */
async function billedRecord(world: ApiWorld, tenant: 'A' | 'B') {
  const db = world.database.db;
  await billDay(db, '2026-01-02', { timezone: 'Asia/Shanghai', chunkSize: 100 });
  const systemId = tenant === 'A' ? world.tenantA.systemId : world.tenantB.systemId;
  const record = await db
    .selectFrom('billing_records')
    .select('id')
    .where('information_system_id', '=', systemId)
    .where('billing_date', '=', '2026-01-02')
    .executeTakeFirstOrThrow();
  return record.id;
}

/** Returns the id of the first adjustment log of tenant A's or B's system (the world logs each VM it adds). */
async function adjustmentLog(world: ApiWorld, tenant: 'A' | 'B') {
  const systemId = tenant === 'A' ? world.tenantA.systemId : world.tenantB.systemId;
  const log = await world.database.db
    .selectFrom('resource_adjustment_logs')
    .select('id')
    .where('information_system_id', '=', systemId)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  return log.id;
}

/** Returns a start date far in the future that no other request of the matrix uses. */
const futureDay = () => addDays('2090-01-01', (sequence += 1));

/** Creates a price version that starts in the future, for requests that change or delete it. */
async function freshPriceVersion(world: ApiWorld) {
  const version = await new PriceVersionRepository(world.database.db).create({
    effective_from: futureDay(),
    cpu_price: '0.1',
    memory_price: '0.05',
    storage_price: '0.01',
  });
  return version.id;
}

/** Stores a fresh Proxmox VE source through the repository and returns its id. */
async function freshInventorySource(world: ApiWorld) {
  const source = await new InventorySourceRepository(world.database.db).create(
    {
      name: unique('pve'),
      type: 'proxmox',
      options: {
        url: 'https://pve.example.com:8006',
        token_id: 'sync@pve!billing',
        token_secret_env: 'PVE_SECRET',
      },
      secrets: {},
    },
    new Date('2026-01-02T00:00:00Z'),
  );
  return source.id;
}

/** Records a finished run of detect_resource_changes and returns its id. */
async function finishedTaskRun(world: ApiWorld) {
  const at = new Date('2026-01-02T00:00:00Z');
  const run = await world.database.db
    .insertInto('task_runs')
    .values({
      task_name: 'detect_resource_changes',
      queue: 'monitoring',
      trigger: 'schedule',
      status: 'succeeded',
      attempts: 1,
      started_at: at,
      finished_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return run.id;
}

const ADMIN_ONLY: Expected = { anonymous: 401, admin: 200, tenant_admin: 403, tenant_viewer: 403 };

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
    // A tenant named in a body is a bad field (400), whether it does not exist or is hidden.
    expected: { anonymous: 401, admin: 201, tenant_admin: 400, tenant_viewer: 403 },
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

  {
    name: 'billing records list',
    method: 'GET',
    request: () => ({ url: '/api/billing-records/' }),
    expected: READ_ALL,
  },
  {
    name: 'billing summary',
    method: 'GET',
    request: () => ({ url: '/api/billing-records/summary/?group_by=tenant' }),
    expected: READ_ALL,
  },
  {
    name: 'billing export',
    method: 'GET',
    request: () => ({ url: '/api/billing-records/export/?format=csv' }),
    expected: READ_ALL,
  },
  {
    name: 'own billing record',
    method: 'GET',
    request: async (w) => ({ url: `/api/billing-records/${await billedRecord(w, 'A')}/` }),
    expected: READ_ALL,
  },
  {
    name: 'other billing record',
    method: 'GET',
    request: async (w) => ({ url: `/api/billing-records/${await billedRecord(w, 'B')}/` }),
    expected: READ_OWN_ONLY,
  },

  {
    name: 'adjustment logs list',
    method: 'GET',
    request: () => ({ url: '/api/adjustment-logs/' }),
    expected: READ_ALL,
  },
  {
    name: 'own adjustment log',
    method: 'GET',
    request: async (w) => ({ url: `/api/adjustment-logs/${await adjustmentLog(w, 'A')}/` }),
    expected: READ_ALL,
  },
  {
    name: 'other adjustment log',
    method: 'GET',
    request: async (w) => ({ url: `/api/adjustment-logs/${await adjustmentLog(w, 'B')}/` }),
    expected: READ_OWN_ONLY,
  },

  {
    name: 'price versions list',
    method: 'GET',
    request: () => ({ url: '/api/price-versions/' }),
    expected: READ_ALL,
  },
  {
    name: 'price version',
    method: 'GET',
    request: () => ({ url: '/api/price-versions/1/' }),
    expected: READ_ALL,
  },
  {
    name: 'price version create',
    method: 'POST',
    request: () => ({
      url: '/api/price-versions/',
      body: { effective_from: futureDay(), cpu_price: '0.1', memory_price: '0.05', storage_price: '0.01' },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 403, tenant_viewer: 403 },
  },
  {
    name: 'price version update',
    method: 'PATCH',
    request: async (w) => ({
      url: `/api/price-versions/${await freshPriceVersion(w)}/`,
      body: { cpu_price: '0.2' },
    }),
    expected: ADMIN_ONLY,
  },
  {
    name: 'price version delete',
    method: 'DELETE',
    request: async (w) => ({ url: `/api/price-versions/${await freshPriceVersion(w)}/` }),
    expected: { anonymous: 401, admin: 204, tenant_admin: 403, tenant_viewer: 403 },
  },

  { name: 'vms list', method: 'GET', request: () => ({ url: '/api/vms/' }), expected: READ_ALL },
  {
    name: 'own vm create',
    method: 'POST',
    request: (w) => ({
      url: '/api/vms/',
      body: {
        external_id: unique('vm'),
        name: 'New',
        information_system: w.tenantA.systemId,
        cpu: 1,
        memory: 1,
        storage: 1,
      },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 201, tenant_viewer: 403 },
  },
  {
    name: 'other vm create',
    method: 'POST',
    request: (w) => ({
      url: '/api/vms/',
      body: {
        external_id: unique('vm'),
        name: 'New',
        information_system: w.tenantB.systemId,
        cpu: 1,
        memory: 1,
        storage: 1,
      },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 404, tenant_viewer: 403 },
  },
  {
    name: 'own vm',
    method: 'GET',
    request: async (w) => ({ url: `/api/vms/${await freshVm(w, 'A')}/` }),
    expected: READ_ALL,
  },
  {
    name: 'other vm',
    method: 'GET',
    request: async (w) => ({ url: `/api/vms/${await freshVm(w, 'B')}/` }),
    expected: READ_OWN_ONLY,
  },
  {
    name: 'own vm update',
    method: 'PATCH',
    request: async (w) => ({ url: `/api/vms/${await freshVm(w, 'A')}/`, body: { cpu: 2 } }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 200, tenant_viewer: 403 },
  },
  {
    name: 'other vm update',
    method: 'PATCH',
    request: async (w) => ({ url: `/api/vms/${await freshVm(w, 'B')}/`, body: { cpu: 2 } }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 404, tenant_viewer: 403 },
  },
  {
    name: 'own vm delete',
    method: 'DELETE',
    request: async (w) => ({ url: `/api/vms/${await freshVm(w, 'A')}/` }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 200, tenant_viewer: 403 },
  },
  {
    name: 'other vm delete',
    method: 'DELETE',
    request: async (w) => ({ url: `/api/vms/${await freshVm(w, 'B')}/` }),
    expected: { anonymous: 401, admin: 200, tenant_admin: 404, tenant_viewer: 403 },
  },

  { name: 'users list', method: 'GET', request: () => ({ url: '/api/users/' }), expected: ADMIN_ONLY },
  {
    name: 'user create',
    method: 'POST',
    request: (w) => ({
      url: '/api/users/',
      body: {
        username: unique('user'),
        password: 'new-password',
        role: 'tenant_viewer',
        tenant: w.tenantA.id,
      },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 403, tenant_viewer: 403 },
  },
  {
    name: 'user',
    method: 'GET',
    request: async (w) => ({ url: `/api/users/${await freshUser(w)}/` }),
    expected: ADMIN_ONLY,
  },
  {
    name: 'user update',
    method: 'PATCH',
    request: async (w) => ({ url: `/api/users/${await freshUser(w)}/`, body: { role: 'tenant_admin' } }),
    expected: ADMIN_ONLY,
  },
  {
    name: 'user delete',
    method: 'DELETE',
    request: async (w) => ({ url: `/api/users/${await freshUser(w)}/` }),
    expected: { anonymous: 401, admin: 204, tenant_admin: 403, tenant_viewer: 403 },
  },

  { name: 'own tokens list', method: 'GET', request: () => ({ url: '/api/tokens/' }), expected: READ_ALL },
  {
    name: 'other user tokens list',
    method: 'GET',
    request: async (w) => ({ url: `/api/tokens/?user=${(await freshToken(w, 'other_admin')).userId}` }),
    expected: ADMIN_ONLY,
  },
  {
    name: 'token create',
    method: 'POST',
    request: () => ({ url: '/api/tokens/', body: { name: 'script' } }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 201, tenant_viewer: 201 },
  },
  {
    name: 'own token revoke',
    method: 'DELETE',
    request: async (w, caller) => ({
      url: `/api/tokens/${(await freshToken(w, caller === 'anonymous' ? 'admin' : caller)).id}/`,
    }),
    expected: { anonymous: 401, admin: 204, tenant_admin: 204, tenant_viewer: 204 },
  },
  {
    name: 'other user token revoke',
    method: 'DELETE',
    request: async (w) => ({ url: `/api/tokens/${(await freshToken(w, 'other_admin')).id}/` }),
    expected: { anonymous: 401, admin: 404, tenant_admin: 404, tenant_viewer: 404 },
  },
  {
    name: 'other user token revoke by owner id',
    method: 'DELETE',
    request: async (w) => {
      const token = await freshToken(w, 'other_admin');
      return { url: `/api/tokens/${token.id}/?user=${token.userId}` };
    },
    expected: { anonymous: 401, admin: 204, tenant_admin: 403, tenant_viewer: 403 },
  },

  {
    name: 'inventory sources list',
    method: 'GET',
    request: () => ({ url: '/api/inventory-sources/' }),
    expected: ADMIN_ONLY,
  },
  {
    name: 'inventory source create',
    method: 'POST',
    request: () => ({
      url: '/api/inventory-sources/',
      body: {
        name: unique('pve'),
        type: 'proxmox',
        url: 'https://pve.example.com:8006',
        token_id: 'sync@pve!billing',
        token_secret: 'matrix-secret',
      },
    }),
    expected: { anonymous: 401, admin: 201, tenant_admin: 403, tenant_viewer: 403 },
  },
  {
    name: 'inventory source',
    method: 'GET',
    request: async (w) => ({ url: `/api/inventory-sources/${await freshInventorySource(w)}/` }),
    expected: ADMIN_ONLY,
  },
  {
    name: 'inventory source update',
    method: 'PATCH',
    request: async (w) => ({
      url: `/api/inventory-sources/${await freshInventorySource(w)}/`,
      body: { timeout_seconds: 10 },
    }),
    expected: ADMIN_ONLY,
  },
  {
    name: 'inventory source delete',
    method: 'DELETE',
    request: async (w) => ({ url: `/api/inventory-sources/${await freshInventorySource(w)}/` }),
    expected: { anonymous: 401, admin: 204, tenant_admin: 403, tenant_viewer: 403 },
  },

  { name: 'tasks list', method: 'GET', request: () => ({ url: '/api/tasks/' }), expected: READ_ALL },
  {
    name: 'task',
    method: 'GET',
    request: () => ({ url: '/api/tasks/detect_resource_changes/' }),
    expected: READ_ALL,
  },
  {
    name: 'task run start',
    method: 'POST',
    request: () => ({ url: '/api/tasks/detect_resource_changes/run/', body: {} }),
    expected: { anonymous: 401, admin: 202, tenant_admin: 403, tenant_viewer: 403 },
  },
  { name: 'task runs list', method: 'GET', request: () => ({ url: '/api/task-runs/' }), expected: READ_ALL },
  {
    name: 'task run',
    method: 'GET',
    request: async (w) => ({ url: `/api/task-runs/${await finishedTaskRun(w)}/` }),
    expected: READ_ALL,
  },

  // METRICS_TOKEN is unset in this world; src/api/routes/metrics.test.ts covers it.
  { name: 'metrics', method: 'GET', request: () => ({ url: '/metrics' }), expected: ADMIN_ONLY },
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
          const template = url.replace(
            /\/(\d+|create_daily_billing_records|detect_resource_changes|sync_vm_status)\//g,
            '/{id}/',
          );
          return `${testCase.method} ${template.split('?')[0]}`;
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
