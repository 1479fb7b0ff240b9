import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import { DomainError } from '../../errors.js';
import { translate } from '../../i18n/messages.js';
import { validateRecord } from '../inventory-record.js';
import type { InventoryRecordInput } from '../source.js';
import { mapResource, proxmoxSchema, ProxmoxInventorySource, splitTags } from './proxmox.js';

const silent = pino({ level: 'silent' });
const TOKEN_SECRET = '5f1c9e2a-0d3b-4c7e-9a8f-2b6d4e1c3a70';
const GIB = 1024 ** 3;

/** Entries shaped like `GET /api2/json/cluster/resources?type=vm` of the Proxmox VE API viewer. */
const RESOURCES = [
  {
    id: 'qemu/100',
    type: 'qemu',
    vmid: 100,
    name: 'licensing-web',
    node: 'pve1',
    status: 'running',
    template: 0,
    maxcpu: 4,
    maxmem: 8 * GIB,
    maxdisk: 100 * GIB,
    cpu: 0.0123,
    mem: 3 * GIB,
    disk: 0,
    uptime: 86400,
    tags: 'prod;system-LIC-PORTAL',
  },
  {
    id: 'lxc/101',
    type: 'lxc',
    vmid: 101,
    name: 'dns-cache',
    node: 'pve2',
    status: 'stopped',
    template: 0,
    maxcpu: 1,
    maxmem: 1_000_000_000,
    maxdisk: 8 * GIB + 512 * 1024 ** 2,
  },
  {
    id: 'qemu/9000',
    type: 'qemu',
    vmid: 9000,
    name: 'ubuntu-template',
    node: 'pve1',
    status: 'stopped',
    template: 1,
    maxcpu: 2,
    maxmem: 2 * GIB,
    maxdisk: 20 * GIB,
  },
  {
    id: 'qemu/102',
    type: 'qemu',
    vmid: 102,
    name: 'paused-vm',
    node: 'pve1',
    status: 'paused',
    template: 0,
    maxcpu: 2,
    maxmem: 1536 * 1024 ** 2,
    maxdisk: 32 * GIB,
    tags: 'system-OPS',
  },
];

interface FakePve {
  url: string;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

let fake: FakePve | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Starts a fake Proxmox VE API; `answer` returns status and body per request number. */
async function startFakePve(answer?: (request: number) => { status: number; body: string } | undefined) {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    const injected = answer?.(requests.length);
    if (injected) {
      response.writeHead(injected.status, { 'content-type': 'application/json' });
      response.end(injected.body);
      return;
    }
    if (request.headers.authorization !== `PVEAPIToken=sync@pve!billing=${TOKEN_SECRET}`) {
      response.writeHead(401, 'authentication failure');
      response.end('{"data":null}');
      return;
    }
    if (request.url !== '/api2/json/cluster/resources?type=vm') {
      response.writeHead(501);
      response.end('{"data":null}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ data: RESOURCES }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}

function sourceFor(pve: FakePve, entry: Record<string, unknown> = {}, secret = TOKEN_SECRET) {
  const config = proxmoxSchema.parse({
    name: 'pve',
    type: 'proxmox',
    url: pve.url,
    token_id: 'sync@pve!billing',
    token_secret_env: 'PVE_TOKEN_SECRET',
    retries: 2,
    ...entry,
  });
  return new ProxmoxInventorySource(config, secret, silent, { backoffMs: 1 });
}

async function readAll(source: ProxmoxInventorySource): Promise<InventoryRecordInput[][]> {
  const pages: InventoryRecordInput[][] = [];
  for await (const page of source.readPages()) pages.push(page);
  return pages;
}

async function failureOf(source: ProxmoxInventorySource): Promise<DomainError> {
  try {
    await readAll(source);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected the source to fail');
}

describe('Proxmox VE connector', () => {
  it('maps VMs and containers and skips templates', async () => {
    const pve = await startFakePve();

    const pages = await readAll(sourceFor(pve));

    expect(pages.flat().map((record) => validateRecord(record))).toEqual([
      {
        external_id: '100',
        name: 'licensing-web',
        system_code: 'LIC-PORTAL',
        cpu: 4,
        memory_gb: '8',
        storage_gb: '100',
        power_status: 'running',
      },
      {
        external_id: '101',
        name: 'dns-cache',
        system_code: null,
        cpu: 1,
        // 10^9 bytes = 0.931322574615478515625 GiB exactly.
        memory_gb: '0.931322574615478515625',
        storage_gb: '8.5',
        power_status: 'stopped',
      },
      {
        external_id: '102',
        name: 'paused-vm',
        system_code: 'OPS',
        cpu: 2,
        memory_gb: '1.5',
        storage_gb: '32',
        power_status: 'suspended',
      },
    ]);
    expect(pve.requests[0]!.headers.authorization).toBe(`PVEAPIToken=sync@pve!billing=${TOKEN_SECRET}`);
  });

  it('yields pages of page_size', async () => {
    const pve = await startFakePve();

    const pages = await readAll(sourceFor(pve, { page_size: 2 }));

    expect(pages.map((page) => page.length)).toEqual([2, 1]);
  });

  it('retries HTTP 500 and then succeeds', async () => {
    const pve = await startFakePve((request) => (request === 1 ? { status: 500, body: '{}' } : undefined));

    const pages = await readAll(sourceFor(pve));

    expect(pages.flat()).toHaveLength(3);
    expect(pve.requests).toHaveLength(2);
  });

  it('reports a rejected token without the secret', async () => {
    const pve = await startFakePve();

    const error = await failureOf(sourceFor(pve, {}, 'wrong-secret-value'));

    expect(error.parameters.status).toBe(401);
    expect(pve.requests).toHaveLength(1);
    expect(translate(error.code, error.parameters, 'en')).not.toContain('wrong-secret-value');
  });

  it('reports malformed JSON', async () => {
    const pve = await startFakePve(() => ({ status: 200, body: '{"data": [' }));

    const error = await failureOf(sourceFor(pve));

    expect(translate(error.code, error.parameters, 'en')).toContain(
      `inventory source pve answered invalid JSON at ${pve.url}/api2/json/cluster/resources?type=vm`,
    );
  });

  it('rejects an answer without data', async () => {
    const pve = await startFakePve(() => ({ status: 200, body: '{"errors": {}}' }));

    const error = await failureOf(sourceFor(pve));

    expect(error.code).toBe('inventory_source_unexpected_answer');
  });
});

describe('Proxmox helpers', () => {
  it('splits tags on semicolons, commas and spaces', () => {
    expect(splitTags('a;b,c d;;')).toEqual(['a', 'b', 'c', 'd']);
    expect(splitTags(undefined)).toEqual([]);
  });

  it('maps unknown statuses to unknown and keeps bad sizes for validation', () => {
    const record = mapResource(
      { vmid: 7, name: 'x', status: 'weird', maxcpu: 1, maxmem: -1, maxdisk: 0 },
      'system-',
    );

    expect(record.power_status).toBe('unknown');
    expect(record.memory_gb).toBe(-1);
    expect(() => validateRecord(record)).toThrow(DomainError);
  });

  it('rejects a token id without realm', () => {
    const result = proxmoxSchema.safeParse({
      name: 'pve',
      type: 'proxmox',
      url: 'https://pve:8006',
      token_id: 'billing',
      token_secret: 'x',
    });

    expect(result.success).toBe(false);
    const [issue] = result.error!.issues;
    expect(issue?.path).toEqual(['token_id']);
    expect(issue?.message).toBe('source_problem_proxmox_token_id');
    expect(translate('source_problem_proxmox_token_id', {}, 'en')).toBe(
      'must have the form USER@REALM!TOKENID, e.g. billing@pve!sync',
    );
  });
});
