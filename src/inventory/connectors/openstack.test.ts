import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';

import {
  FLAVOR_SMALL,
  generatedServer,
  PASSWORD,
  startFakeOpenStack,
  type FakeOpenStack,
  type FakeOpenStackOptions,
  type FakeServer,
} from '../../../test/support/fake-openstack.js';
import { DomainError } from '../../errors.js';
import { translate } from '../../i18n/messages.js';
import { validateRecord } from '../inventory-record.js';
import type { InventoryRecordInput } from '../source.js';
import {
  keystoneUrl,
  nextMarker,
  openstackSchema,
  OpenStackInventorySource,
  parseMicroversion,
} from './openstack.js';

const silent = pino({ level: 'silent' });

const SERVERS: FakeServer[] = [
  {
    id: '9168b536-cd40-4630-b43f-b259807c6e87',
    name: 'licensing-web-1',
    status: 'ACTIVE',
    power_state: 1,
    flavor: { id: '2', name: 'c2m3.5', vcpus: 2, ram: 3584, disk: 50, ephemeral: 0 },
    metadata: { cloud_platform_system: 'LIC-PORTAL' },
    volumes: ['vol-a', 'vol-b'],
  },
  {
    id: '2ce4c5b3-2866-4972-93ce-77a2ea46a7f9',
    name: 'licensing-db-1',
    status: 'SHUTOFF',
    power_state: 4,
    flavor: { id: '4', name: 'odd', vcpus: 4, ram: 1000, disk: 0, ephemeral: 10 },
    tags: ['env:prod', 'system:LIC-DB'],
    volumes: ['vol-c'],
    bootFromVolume: true,
  },
  {
    id: 'a5bf57a2-8a3e-4b61-9a6a-c1f4e1a3c2b0',
    name: 'paused-vm',
    status: 'PAUSED',
    power_state: 3,
    flavor: FLAVOR_SMALL,
  },
  {
    id: '0f2c7e41-7d6b-4b2a-8f0e-6a7b9d2c1e55',
    name: 'resizing-vm',
    status: 'RESIZE',
    power_state: 1,
    flavor: FLAVOR_SMALL,
    metadata: { other: 'x' },
  },
  {
    id: 'c0ffee00-0000-4000-8000-00000000e440',
    name: 'broken-vm',
    status: 'ERROR',
    power_state: 0,
    flavor: { id: '5', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1, ephemeral: 0 },
  },
];

const VOLUMES = [
  { id: 'vol-a', size: 100 },
  { id: 'vol-b', size: 25 },
  { id: 'vol-c', size: 80 },
  { id: 'vol-unattached', size: 500 },
];

/** The records the connector must produce for SERVERS, after validation. */
const EXPECTED = [
  {
    external_id: '9168b536-cd40-4630-b43f-b259807c6e87',
    name: 'licensing-web-1',
    system_code: 'LIC-PORTAL',
    cpu: 2,
    memory_gb: '3.5',
    storage_gb: '175',
    power_status: 'running',
  },
  {
    external_id: '2ce4c5b3-2866-4972-93ce-77a2ea46a7f9',
    name: 'licensing-db-1',
    system_code: 'LIC-DB',
    cpu: 4,
    // 1000 MiB = 0.9765625 GiB exactly.
    memory_gb: '0.9765625',
    // Booted from volume: no root disk, 10 GiB ephemeral + 80 GiB volume.
    storage_gb: '90',
    power_status: 'stopped',
  },
  {
    external_id: 'a5bf57a2-8a3e-4b61-9a6a-c1f4e1a3c2b0',
    name: 'paused-vm',
    system_code: null,
    cpu: 1,
    memory_gb: '2',
    storage_gb: '20',
    power_status: 'suspended',
  },
  {
    external_id: '0f2c7e41-7d6b-4b2a-8f0e-6a7b9d2c1e55',
    name: 'resizing-vm',
    system_code: null,
    cpu: 1,
    memory_gb: '2',
    storage_gb: '20',
    power_status: 'running',
  },
  {
    external_id: 'c0ffee00-0000-4000-8000-00000000e440',
    name: 'broken-vm',
    system_code: null,
    cpu: 1,
    memory_gb: '0.5',
    storage_gb: '1',
    power_status: 'error',
  },
];

let fake: FakeOpenStack | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function startFake(overrides: Partial<FakeOpenStackOptions> = {}): Promise<FakeOpenStack> {
  fake = await startFakeOpenStack({ servers: SERVERS, volumes: VOLUMES, ...overrides });
  return fake;
}

function sourceFor(
  cloud: FakeOpenStack,
  entry: Record<string, unknown> = {},
  options: { password?: string; logger?: pino.Logger } = {},
): OpenStackInventorySource {
  const config = openstackSchema.parse({
    name: 'openstack-test',
    type: 'openstack',
    auth_url: `${cloud.url}/identity/v3`,
    username: 'admin',
    password_env: 'OPENSTACK_PASSWORD',
    project_name: 'admin',
    page_size: 2,
    system_tag_prefix: 'system:',
    retries: 2,
    ...entry,
  });
  return new OpenStackInventorySource(config, options.password ?? PASSWORD, options.logger ?? silent, {
    backoffMs: 1,
  });
}

async function readAll(source: OpenStackInventorySource): Promise<InventoryRecordInput[][]> {
  const pages: InventoryRecordInput[][] = [];
  for await (const page of source.readPages()) pages.push(page);
  return pages;
}

async function failureOf(source: OpenStackInventorySource): Promise<DomainError> {
  try {
    await readAll(source);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected the source to fail');
}

const english = (error: DomainError) => translate(error.code, error.parameters, 'en');

describe('OpenStack connector', () => {
  it('maps servers with embedded flavors and volumes', async () => {
    const cloud = await startFake();

    const pages = await readAll(sourceFor(cloud));

    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((record) => validateRecord(record))).toEqual(EXPECTED);
    const listing = cloud.requests.filter((request) => request.path === '/compute/v2.1/servers/detail');
    expect(listing.map((request) => request.headers['openstack-api-version'])).toEqual([
      'compute 2.47',
      'compute 2.47',
      'compute 2.47',
    ]);
    expect(listing.map((request) => request.query.get('marker'))).toEqual([
      null,
      '2ce4c5b3-2866-4972-93ce-77a2ea46a7f9',
      '0f2c7e41-7d6b-4b2a-8f0e-6a7b9d2c1e55',
    ]);
    expect(listing.every((request) => request.query.get('all_tenants') === '1')).toBe(true);
    expect(cloud.requests.filter((request) => request.path.endsWith('/volumes/detail'))).toHaveLength(2);
    expect(cloud.requests.filter((request) => request.path.includes('/flavors/'))).toHaveLength(0);
  });

  it('looks flavors up once each on old clouds', async () => {
    const cloud = await startFake({ maxMicroversion: '2.25' });

    const pages = await readAll(sourceFor(cloud));

    expect(pages.flat().map((record) => validateRecord(record))).toEqual(
      // Tags need microversion 2.26, so this cloud's server loses its tag-based system.
      EXPECTED.map((record) => (record.system_code === 'LIC-DB' ? { ...record, system_code: null } : record)),
    );
    const flavorLookups = cloud.requests.filter((request) => request.path.includes('/flavors/'));
    expect(flavorLookups.map((request) => request.path).sort()).toEqual([
      '/compute/v2.1/flavors/1',
      '/compute/v2.1/flavors/2',
      '/compute/v2.1/flavors/4',
      '/compute/v2.1/flavors/5',
    ]);
    const listing = cloud.requests.filter((request) => request.path === '/compute/v2.1/servers/detail');
    expect(listing[0]!.headers['openstack-api-version']).toBe('compute 2.25');
  });

  it('uses the flavor disk and volumes without Cinder when volumes are off', async () => {
    const cloud = await startFake();

    const pages = await readAll(sourceFor(cloud, { include_volumes: false }));

    expect(validateRecord(pages[0]![0]).storage_gb).toBe('50');
    expect(cloud.requests.filter((request) => request.path.includes('/volume/'))).toHaveLength(0);
  });

  it('logs in again when the token expires', async () => {
    const cloud = await startFake({
      fault: (request) => {
        if (request.page === 2 && request.pathCount === 2) cloud.expireTokens();
        return undefined;
      },
    });

    const pages = await readAll(sourceFor(cloud));

    expect(pages.flat()).toHaveLength(5);
    expect(cloud.logins).toBe(2);
  });

  it('fails when a fresh token is rejected too', async () => {
    const cloud = await startFake({
      fault: (request) =>
        request.path === '/compute/v2.1/servers/detail'
          ? { status: 401, body: '{"error": "no"}' }
          : undefined,
    });

    const error = await failureOf(sourceFor(cloud));

    expect(error.code).toBe('inventory_source_http_error');
    expect(cloud.logins).toBe(2);
  });

  it('retries HTTP 500 and then succeeds', async () => {
    const cloud = await startFake({
      fault: (request) => (request.page === 2 && request.pathCount <= 3 ? { status: 500 } : undefined),
    });

    const pages = await readAll(sourceFor(cloud));

    expect(pages.flat()).toHaveLength(5);
    // Page 1, page 2 failing twice, page 2 again, page 3.
    expect(cloud.requests.filter((request) => request.path === '/compute/v2.1/servers/detail')).toHaveLength(
      5,
    );
  });

  it('gives up after the retries with the status', async () => {
    const cloud = await startFake({
      fault: (request) =>
        request.page === 3 ? { status: 503, body: '{"message": "nova-api overloaded"}' } : undefined,
    });

    const error = await failureOf(sourceFor(cloud));

    expect(english(error)).toBe(
      `inventory source openstack-test: GET ${cloud.url}/compute/v2.1/servers/detail?all_tenants=1&limit=2&marker=0f2c7e41-7d6b-4b2a-8f0e-6a7b9d2c1e55 ` +
        'answered HTTP 503 after 3 attempt(s): {"message": "nova-api overloaded"}',
    );
  });

  it('does not retry a 4xx answer', async () => {
    const cloud = await startFake({
      fault: (request) => (request.page === 1 ? { status: 403, body: '{"forbidden": {}}' } : undefined),
    });

    const error = await failureOf(sourceFor(cloud));

    expect(error.parameters.status).toBe(403);
    expect(error.parameters.attempts).toBe(1);
    expect(cloud.requests.filter((request) => request.path === '/compute/v2.1/servers/detail')).toHaveLength(
      1,
    );
  });

  it('times out a request that never answers', async () => {
    const cloud = await startFake({ fault: (request) => (request.page === 2 ? { hang: true } : undefined) });

    const error = await failureOf(sourceFor(cloud, { timeout_seconds: 0.2, retries: 1 }));

    expect(error.code).toBe('inventory_source_timeout');
    expect(english(error)).toContain('timed out after 0.2 s (2 attempt(s))');
  });

  it('reports malformed JSON with the URL', async () => {
    const cloud = await startFake({
      fault: (request) => (request.page === 2 ? { raw: '{"servers": [{"id": ' } : undefined),
    });

    const error = await failureOf(sourceFor(cloud));

    expect(english(error)).toMatch(
      new RegExp(
        `^inventory source openstack-test answered invalid JSON at ${cloud.url}/compute/v2\\.1/servers/detail\\?`,
      ),
    );
  });

  it('rejects an answer without a servers list', async () => {
    const cloud = await startFake({
      fault: (request) => (request.page === 1 ? { raw: '{"items": []}' } : undefined),
    });

    const error = await failureOf(sourceFor(cloud));

    expect(error.code).toBe('inventory_source_unexpected_answer');
    expect(english(error)).toContain('the body has no "servers" list');
  });

  it('reads a huge page', async () => {
    const cloud = await startFake({ servers: { count: 20_000, serverAt: generatedServer }, volumes: [] });

    const pages = await readAll(sourceFor(cloud, { page_size: 10_000 }));

    expect(pages.map((page) => page.length)).toEqual([10_000, 10_000]);
    expect(validateRecord(pages[1]!.at(-1))).toEqual({
      external_id: generatedServer(19_999).id,
      name: 'vm-19999',
      system_code: 'SYS-99',
      cpu: 2,
      memory_gb: '4',
      storage_gb: '40',
      power_status: 'running',
    });
  });

  it('reports a wrong password without it', async () => {
    const cloud = await startFake();

    const error = await failureOf(sourceFor(cloud, {}, { password: 'wrong-password-x' }));

    expect(error.code).toBe('inventory_source_http_error');
    expect(error.parameters.status).toBe(401);
    expect(english(error)).toContain('/identity/v3/auth/tokens');
    expect(english(error)).not.toContain('wrong-password-x');
  });

  it('redacts the token and password from errors and logs', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const cloud = await startFake({
      fault: (request) =>
        request.page === 1
          ? { status: 500, body: `{"echo": "${String(request.headers['x-auth-token'])} ${PASSWORD}"}` }
          : undefined,
    });

    const error = await failureOf(sourceFor(cloud, {}, { logger }));

    expect(english(error)).toContain('{"echo": "*** ***"}');
    expect(english(error)).not.toContain('fake-token');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes(PASSWORD) || line.includes('gAAAAABfake-token'))).toEqual([]);
  });

  it('names a region missing from the catalog', async () => {
    const cloud = await startFake();

    const error = await failureOf(sourceFor(cloud, { region: 'RegionTwo' }));

    expect(english(error)).toBe(
      'the service catalog of inventory source openstack-test has no compute endpoint for region RegionTwo and interface public; check the region and interface settings',
    );
  });

  it('reports an unreachable cloud', async () => {
    const cloud = await startFake();
    const url = cloud.url;
    await cloud.close();
    fake = undefined;

    const config = { auth_url: `${url}/identity/v3`, retries: 1 };
    const error = await failureOf(sourceFor({ ...cloud, url }, config));

    expect(error.code).toBe('inventory_source_request_failed');
    expect(english(error)).toContain(`POST ${url}/identity/v3/auth/tokens failed after 2 attempt(s)`);
    expect(english(error)).toContain('ECONNREFUSED');
  });

  describe('TLS', () => {
    async function tlsCloud() {
      const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
        keySize: 2048,
        extensions: [
          { name: 'basicConstraints', cA: true },
          { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
        ],
      });
      const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-tls-'));
      const caFile = path.join(folder, 'ca.pem');
      writeFileSync(caFile, pems.cert);
      const cloud = await startFake({ tls: { cert: pems.cert, key: pems.private } });
      return { cloud, caFile };
    }

    it('rejects a self-signed certificate without ca_file', async () => {
      const { cloud } = await tlsCloud();

      const error = await failureOf(sourceFor(cloud));

      expect(error.code).toBe('inventory_source_tls_failed');
      expect(english(error)).toContain('set ca_file to the CA that signed the certificate');
      expect(cloud.logins).toBe(0);
    });

    it('trusts the certificate given as ca_file', async () => {
      const { cloud, caFile } = await tlsCloud();

      const pages = await readAll(sourceFor(cloud, { ca_file: caFile }));

      expect(pages.flat()).toHaveLength(5);
    });

    it('skips verification when verify_tls is false', async () => {
      const { cloud } = await tlsCloud();

      const pages = await readAll(sourceFor(cloud, { verify_tls: false }));

      expect(pages.flat()).toHaveLength(5);
    });

    it('names an unreadable ca_file', async () => {
      const { cloud } = await tlsCloud();

      const error = await failureOf(sourceFor(cloud, { ca_file: '/nonexistent/ca.pem' }));

      expect(error.code).toBe('inventory_source_ca_file_unreadable');
      expect(english(error)).toContain(
        'cannot read ca_file /nonexistent/ca.pem of inventory source openstack-test',
      );
    });
  });
});

describe('OpenStack helpers', () => {
  it.each([
    ['https://keystone:5000/v3', 'https://keystone:5000/v3'],
    ['https://keystone:5000/v3/', 'https://keystone:5000/v3'],
    ['https://keystone:5000', 'https://keystone:5000/v3'],
    ['https://cloud/identity', 'https://cloud/identity/v3'],
  ])('keystoneUrl(%s)', (input, expected) => {
    expect(keystoneUrl(input)).toBe(expected);
  });

  it('takes only the marker of the next link', () => {
    expect(
      nextMarker([{ rel: 'next', href: 'http://nova.internal/v2.1/servers/detail?limit=2&marker=abc' }]),
    ).toBe('abc');
    expect(nextMarker([{ rel: 'self', href: 'http://x/?marker=abc' }])).toBeUndefined();
    expect(nextMarker(undefined)).toBeUndefined();
  });

  it.each([
    ['2.79', [2, 79]],
    ['2.1', [2, 1]],
    ['', null],
    [undefined, null],
  ])('parseMicroversion(%j)', (input, expected) => {
    expect(parseMicroversion(input)).toEqual(expected);
  });
});
