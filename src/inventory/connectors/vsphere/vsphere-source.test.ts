import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  availableBackends,
  createTestDatabase,
  type TestDatabase,
} from '../../../../test/support/databases.js';
import { fakeVm, FakeVsphere, type FakeVsphereOptions } from '../../../../test/support/fake-vsphere.js';
import { beijing, ZONE } from '../../../../test/support/fixtures.js';
import { DomainError } from '../../../errors.js';
import { translate } from '../../../i18n/messages.js';
import { syncVmStatus } from '../../../monitoring/sync-vm-status.js';
import { RejectedSourceRecord, type InventoryPageItem } from '../../source.js';
import { addSystem } from '../../systems.js';
import { addTenant } from '../../tenants.js';
import { parseSourceConfig } from '../registry.js';
import type { VsphereConfig } from '../vsphere.js';
import { forgetVsphereSessions } from './session.js';
import { VmListing } from './vm-listing.js';
import { VsphereSession } from './session.js';
import { VsphereInventorySource, type VsphereSourceTuning } from './vsphere-source.js';
import { SourceHttpClient } from '../http.js';

const silent = pino({ level: 'silent' });
const GIB = 2 ** 30;
const CATEGORY = 'urn:vmomi:InventoryServiceCategory:6a1d4c2e-0c1d-4d5e-9a7b-1f2e3d4c5b6a:GLOBAL';
const tagId = (name: string) => `urn:vmomi:InventoryServiceTag:${name}:GLOBAL`;

const servers: FakeVsphere[] = [];

afterEach(() => {
  forgetVsphereSessions();
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

/** Starts a fake vCenter with two datacenters, a tag category and five VMs. */
async function startVcenter(options: FakeVsphereOptions): Promise<FakeVsphere> {
  const server = new FakeVsphere(options);
  await server.start();
  servers.push(server);
  server.data.datacenters.push(
    { datacenter: 'datacenter-1', name: 'DC-Beijing' },
    { datacenter: 'datacenter-2', name: 'DC-Shanghai' },
  );
  server.data.folders.push(
    { folder: 'group-v4', name: 'vm', datacenter: 'datacenter-1' },
    { folder: 'group-v10', name: 'licensing', datacenter: 'datacenter-1' },
    { folder: 'group-v20', name: 'vm', datacenter: 'datacenter-2' },
  );
  server.data.categories.push(
    { id: 'urn:vmomi:InventoryServiceCategory:other:GLOBAL', name: 'Backup' },
    { id: CATEGORY, name: '信息系统' },
  );
  server.data.tags.push(
    { id: tagId('lic'), name: 'LICENSE-PORTAL', category_id: CATEGORY },
    { id: tagId('ops'), name: 'OPS', category_id: CATEGORY },
    { id: tagId('daily'), name: 'daily', category_id: 'urn:vmomi:InventoryServiceCategory:other:GLOBAL' },
  );
  server.data.vms.push(
    fakeVm('vm-101', {
      name: 'lic-web-01',
      cpu: 4,
      memory_MiB: 8192,
      disks: [
        { label: 'Hard disk 1', capacity: 40 * GIB },
        { label: 'Hard disk 2', capacity: 60 * GIB },
      ],
      folder: 'group-v10',
      tags: [tagId('daily'), tagId('lic')],
    }),
    fakeVm('vm-102', {
      name: 'lic-db-01',
      power_state: 'POWERED_OFF',
      memory_MiB: 4100,
      disks: [{ label: 'Hard disk 1', capacity: 10 * GIB + 1 }],
      folder: 'group-v10',
      tags: [tagId('lic')],
    }),
    fakeVm('vm-103', { name: 'batch', power_state: 'SUSPENDED', tags: [] }),
    fakeVm('vm-201', {
      name: 'sh-app',
      datacenter: 'datacenter-2',
      folder: 'group-v20',
      tags: [tagId('ops')],
    }),
    fakeVm('vm-202', {
      name: 'two-systems',
      datacenter: 'datacenter-2',
      folder: 'group-v20',
      tags: [tagId('ops'), tagId('lic')],
    }),
  );
  return server;
}

function sourceFor(
  server: FakeVsphere,
  overrides: Record<string, unknown> = {},
  tuning: VsphereSourceTuning = { backoffMs: 1 },
  password = server.password,
): VsphereInventorySource {
  const { config } = parseSourceConfig(
    {
      name: 'vcenter-bj',
      type: 'vsphere',
      url: server.url,
      username: server.username,
      password,
      tag_category: '信息系统',
      timeout_seconds: 5,
      retries: 2,
      ...overrides,
    },
    'test',
  );
  return new VsphereInventorySource(config as VsphereConfig, password, silent, tuning);
}

async function readAll(source: VsphereInventorySource) {
  const pages: InventoryPageItem[][] = [];
  for await (const page of source.readPages()) pages.push(page);
  return { pages, items: pages.flat() };
}

async function readError(source: VsphereInventorySource): Promise<DomainError> {
  const error = await readAll(source).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

const EXPECTED_RECORDS = [
  {
    external_id: 'vm-101',
    name: 'lic-web-01',
    system_code: 'LICENSE-PORTAL',
    cpu: 4,
    memory_gb: '8',
    storage_gb: '100',
    power_status: 'running',
  },
  {
    external_id: 'vm-102',
    name: 'lic-db-01',
    system_code: 'LICENSE-PORTAL',
    cpu: 2,
    memory_gb: '4.00390625',
    storage_gb: '10.000000000931322574615478515625',
    power_status: 'stopped',
  },
  {
    external_id: 'vm-103',
    name: 'batch',
    system_code: null,
    cpu: 2,
    memory_gb: '4',
    storage_gb: '40',
    power_status: 'suspended',
  },
  {
    external_id: 'vm-201',
    name: 'sh-app',
    system_code: 'OPS',
    cpu: 2,
    memory_gb: '4',
    storage_gb: '40',
    power_status: 'running',
  },
];

describe.each(['api', 'rest'] as const)('vSphere connector, %s form', (api) => {
  it('reads VMs with exact sizes and tags', async () => {
    const server = await startVcenter({ api });
    const { items } = await readAll(sourceFor(server, { api }));

    expect(items.slice(0, 4)).toEqual(EXPECTED_RECORDS);
    const several = items[4] as RejectedSourceRecord;
    expect(several).toBeInstanceOf(RejectedSourceRecord);
    expect(several.externalId).toBe('vm-202');
    expect(translate(several.error.code, several.error.parameters, 'en')).toBe(
      'VM vm-202 has several tags in category "信息系统": OPS, LICENSE-PORTAL; keep one, because the tag name is the information system code',
    );
    expect(server.logins).toBe(1);
    const authenticated = server.requests.filter((request) => !request.path.endsWith('session'));
    expect(authenticated.every((request) => request.sessionId !== undefined)).toBe(true);
  });

  it('caches tag and category look-ups', async () => {
    const server = await startVcenter({ api });
    await readAll(sourceFor(server, { api }));

    const tagReads = server.requests.filter((request) => /\/tagging\/tag\/(id:)?urn/.test(request.path));
    expect(tagReads.map((request) => request.path).sort()).toEqual(
      [tagId('daily'), tagId('lic'), tagId('ops')]
        .map((id) =>
          api === 'api'
            ? `/api/cis/tagging/tag/${encodeURIComponent(id)}`
            : `/rest/com/vmware/cis/tagging/tag/id:${encodeURIComponent(id)}`,
        )
        .sort(),
    );
  });

  it('probes the API form with auto', async () => {
    const server = await startVcenter({ api });
    const { items } = await readAll(sourceFor(server, { api: 'auto' }));

    expect(items.slice(0, 4)).toEqual(EXPECTED_RECORDS);
    const logins = server.requests.filter(
      (request) => request.method === 'POST' && request.path.endsWith('session'),
    );
    expect(logins.map((request) => request.path)).toEqual(
      api === 'api' ? ['/api/session'] : ['/api/session', '/rest/com/vmware/cis/session'],
    );
  });

  it('logs in again once after a 401', async () => {
    const server = await startVcenter({ api });
    server.faults.push({ path: `/${api}/vcenter/vm/vm-103`, kind: 'expire-session', times: 1 });
    const { items } = await readAll(sourceFor(server, { api, concurrency: 1 }));

    expect(items.slice(0, 4)).toEqual(EXPECTED_RECORDS);
    expect(server.logins).toBe(2);
  });

  it('reuses the session in the next sync', async () => {
    const server = await startVcenter({ api });
    await readAll(sourceFor(server, { api }));
    await readAll(sourceFor(server, { api }));

    expect(server.logins).toBe(1);
  });
});

describe('vSphere connector faults', () => {
  it('fails when the new session is rejected too', async () => {
    const server = await startVcenter({ api: 'api' });
    server.faults.push({ path: '/api/vcenter/datacenter', kind: 'expire-session', times: 2 });
    const error = await readError(sourceFor(server, { api: 'api' }));

    expect(error.code).toBe('inventory_source_login_failed');
    expect(translate(error.code, error.parameters, 'en')).toBe(
      "login to inventory source vcenter-bj failed: GET /api/vcenter/datacenter returned HTTP 401 right after a new login; check the user's permissions",
    );
  });

  it('rejects a wrong password without printing it', async () => {
    const server = await startVcenter({ api: 'api' });
    const error = await readError(sourceFor(server, { api: 'api' }, { backoffMs: 1 }, 'wrong-password'));

    expect(error.code).toBe('inventory_source_login_failed');
    const message = translate(error.code, error.parameters, 'en');
    expect(message).toBe(
      'login to inventory source vcenter-bj failed: POST /api/session returned HTTP 401; check the username and password',
    );
    expect(message).not.toContain('wrong-password');
  });

  it('retries HTTP 500 and succeeds', async () => {
    const server = await startVcenter({ api: 'api' });
    server.faults.push({ path: '/api/vcenter/vm/vm-101', kind: 'status', status: 500, times: 2 });
    const { items } = await readAll(sourceFor(server, { api: 'api', retries: 2 }));

    expect(items.slice(0, 4)).toEqual(EXPECTED_RECORDS);
    expect(server.requests.filter((request) => request.path === '/api/vcenter/vm/vm-101')).toHaveLength(3);
  });

  it('fails on malformed JSON', async () => {
    const server = await startVcenter({ api: 'rest' });
    server.faults.push({ path: '/rest/vcenter/vm?', kind: 'malformed', times: 1 });
    const error = await readError(sourceFor(server, { api: 'rest' }));

    expect(error.code).toBe('inventory_source_invalid_json');
    expect(error.parameters.url).toBe(`${server.url}/rest/vcenter/vm?filter.datacenters=datacenter-1`);
  });

  it('fails on a timeout', async () => {
    const server = await startVcenter({ api: 'api' });
    server.faults.push({ path: '/api/vcenter/vm/vm-201', kind: 'delay', delayMs: 1500, times: 5 });
    const error = await readError(sourceFor(server, { api: 'api', timeout_seconds: 0.2, retries: 1 }));

    expect(error.code).toBe('inventory_source_timeout');
    expect(error.parameters).toMatchObject({ method: 'GET', seconds: 0.2, attempts: 2 });
  });

  it('names the categories when the tag category is absent', async () => {
    const server = await startVcenter({ api: 'api' });
    const error = await readError(sourceFor(server, { api: 'api', tag_category: 'System' }));

    expect(translate(error.code, error.parameters, 'en')).toBe(
      'the vCenter of inventory source vcenter-bj has no tag category named "System" (found: Backup, 信息系统); check the tag_category setting',
    );
  });

  it('rejects a VM with an inaccessible disk', async () => {
    const server = await startVcenter({ api: 'api' });
    server.data.vms[2]!.disks.push({ label: 'Hard disk 2' });
    const { items } = await readAll(sourceFor(server, { api: 'api' }));

    const rejected = items[2] as RejectedSourceRecord;
    expect(rejected).toBeInstanceOf(RejectedSourceRecord);
    expect(rejected.externalId).toBe('vm-103');
    expect(rejected.error.parameters).toEqual({ vm: 'vm-103', disk: 'Hard disk 2' });
  });

  it('leaves VMs unassigned without a tag category', async () => {
    const server = await startVcenter({ api: 'api' });
    const { items } = await readAll(sourceFor(server, { api: 'api', tag_category: undefined }));

    expect(items.map((item) => (item as Record<string, unknown>).system_code)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(server.requests.some((request) => request.path.includes('tagging'))).toBe(false);
  });

  it('bounds concurrent detail requests', async () => {
    const server = await startVcenter({ api: 'api' });
    for (let index = 0; index < 20; index += 1) server.data.vms.push(fakeVm(`vm-9${index}`));
    server.detailDelayMs = 20;
    await readAll(sourceFor(server, { api: 'api', concurrency: 3 }));

    expect(server.maxInFlightDetails).toBe(3);
  });

  it('skips a VM deleted after the listing', async () => {
    const server = await startVcenter({ api: 'api' });
    server.faults.push({ path: '/api/vcenter/vm/vm-103', kind: 'status', status: 404, times: 1 });
    const { items } = await readAll(sourceFor(server, { api: 'api' }));

    expect(items.map((item) => (item as Record<string, unknown>).external_id)).toEqual([
      'vm-101',
      'vm-102',
      'vm-201',
      undefined,
    ]);
  });
});

describe('vSphere VM list limit', () => {
  /** Adds `count` VMs to datacenter-1, alternating power states and spread over its two folders. */
  function addVms(server: FakeVsphere, count: number, powerState?: 'POWERED_ON' | 'POWERED_OFF'): void {
    for (let index = 0; index < count; index += 1) {
      server.data.vms.push(
        fakeVm(`vm-x${index}`, {
          power_state: powerState ?? (index % 2 === 0 ? 'POWERED_ON' : 'POWERED_OFF'),
          folder: index % 2 === 0 ? 'group-v4' : 'group-v10',
        }),
      );
    }
  }

  async function listVms(server: FakeVsphere, vmListLimit?: number) {
    const http = new SourceHttpClient({
      source: 'vcenter-bj',
      timeoutSeconds: 10,
      retries: 1,
      verifyTls: true,
      logger: silent,
      backoffMs: 1,
    });
    const session = new VsphereSession(http, {
      source: 'vcenter-bj',
      url: server.url,
      username: server.username,
      password: server.password,
      api: server.options.api,
      logger: silent,
    });
    const listing = new VmListing(session, 'vcenter-bj', server.url, silent, vmListLimit);
    try {
      return { vms: await listing.list(), counts: listing.counts };
    } finally {
      await http.close();
    }
  }

  it('splits a datacenter at 4,000 VMs', async () => {
    const server = await startVcenter({ api: 'api', vmListLimit: 4000 });
    addVms(server, 4000);
    const { vms, counts } = await listVms(server);

    expect(vms).toHaveLength(4005);
    expect(new Set(vms.map((vm) => vm.vm)).size).toBe(4005);
    // datacenter-1 whole, then by its 3 power states; datacenter-2 whole.
    expect(counts).toEqual({ datacenters: 2, queries: 5, splits: 1 });
  });

  it('splits by folder when a power state is full', async () => {
    const server = await startVcenter({ api: 'api', vmListLimit: 10 });
    addVms(server, 12, 'POWERED_ON');
    const { vms, counts } = await listVms(server, 10);

    expect(vms).toHaveLength(17);
    expect(counts).toEqual({ datacenters: 2, queries: 7, splits: 2 });
  });

  it('splits after the 6.x over-limit error', async () => {
    const server = await startVcenter({ api: 'rest', vmListLimit: 1000, overLimit: 'error' });
    addVms(server, 1200);
    const { vms } = await listVms(server);

    expect(vms).toHaveLength(1205);
  });

  it('fails when a folder is still full', async () => {
    const server = await startVcenter({ api: 'api', vmListLimit: 10 });
    for (let index = 0; index < 12; index += 1)
      server.data.vms.push(fakeVm(`vm-y${index}`, { folder: 'group-v4' }));
    const error = await listVms(server, 10).then(
      () => undefined,
      (caught: unknown) => caught as DomainError,
    );

    expect(error?.code).toBe('vsphere_list_limit');
    expect(translate(error!.code, error!.parameters, 'en')).toBe(
      `inventory source vcenter-bj (${server.url}): the VMs of datacenter DC-Beijing (datacenter-1), folder vm (group-v4), power state POWERED_ON reach the limit of one query (10) and cannot be split further, so the list may be incomplete and this sync stopped; spread the VMs over more, smaller folders`,
    );
  });
});

const backends = await availableBackends();

describe.each(backends)('vSphere sync on %s', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    const context = { timezone: ZONE, now: beijing('2026-03-01T09:00:00') };
    await addTenant(database.db, { code: 'T1', name: 'Tenant', discount_rate: '1' }, context);
    for (const code of ['LICENSE-PORTAL', 'OPS']) {
      await addSystem(database.db, { code, tenant: 'T1', name: code, run_mode: '7x24' }, context);
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  function sync(source: VsphereInventorySource, now: Date) {
    return syncVmStatus(database.db, [source], {
      now,
      taskRunId: null,
      missingAfterSyncs: 3,
      logger: silent,
    });
  }

  async function storedVms() {
    return database.db
      .selectFrom('virtual_machines')
      .selectAll()
      .where('provider', '=', 'vcenter-bj')
      .orderBy('external_id')
      .execute();
  }

  it('leaves every VM as it was when a sync fails mid-way', async () => {
    const server = await startVcenter({ api: 'api' });
    const first = await sync(sourceFor(server, { api: 'api', page_size: 2 }), beijing('2026-03-02T10:00:00'));
    expect(first.sources[0]).toMatchObject({ status: 'succeeded', created: 4, rejected_count: 1 });
    const before = await storedVms();
    expect(before.map((vm) => [vm.external_id, vm.observed_cpu, vm.observed_memory, vm.status])).toEqual([
      ['vm-101', 4, '8', 'running'],
      ['vm-102', 2, '4.00390625', 'stopped'],
      ['vm-103', 2, '4', 'suspended'],
      ['vm-201', 2, '4', 'running'],
    ]);

    // The first page (vm-101, vm-102) changes and is upserted before the third page fails.
    server.data.vms[0]!.cpu = 8;
    server.data.vms[1]!.power_state = 'POWERED_ON';
    server.data.vms.splice(2, 1);
    server.faults.push({ path: '/api/vcenter/vm/vm-202', kind: 'malformed', times: 1 });
    const second = await sync(
      sourceFor(server, { api: 'api', page_size: 2, concurrency: 1, retries: 0 }),
      beijing('2026-03-02T10:05:00'),
    );

    expect(second.sources[0]).toMatchObject({
      status: 'failed',
      error_code: 'inventory_source_invalid_json',
      created: 0,
      updated: 0,
    });
    expect(await storedVms()).toEqual(before);
  });
});
