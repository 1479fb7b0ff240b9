import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A fake OpenStack cloud on 127.0.0.1 for connector tests and benchmarks:
 * Keystone v3 password login with a service catalog, Nova servers/detail with
 * limit/marker paging and microversions, flavors, and Cinder volumes. Bodies
 * follow the samples of the OpenStack API reference. Faults are injected per
 * request through `fault`.
 */

export const PROJECT_ID = '6f70656e737461636b20342065766572';
export const PASSWORD = 'fake-Password-123';

export interface FakeFlavor {
  id: string;
  name: string;
  vcpus: number;
  /** MiB */
  ram: number;
  /** GiB */
  disk: number;
  /** GiB */
  ephemeral: number;
}

export interface FakeServer {
  id: string;
  name: string;
  status: string;
  power_state: number;
  flavor: FakeFlavor;
  metadata?: Record<string, string>;
  tags?: string[];
  volumes?: string[];
  /** Booted from a volume: Nova then returns image as an empty string. */
  bootFromVolume?: boolean;
}

export interface FakeVolume {
  id: string;
  /** GiB */
  size: number;
}

/** Result of a fault hook: undefined to respond normally, else the response to send. */
export type FaultAnswer =
  undefined | { status: number; body?: string } | { hang: true } | { raw: string; status?: number };

export interface FakeOpenStackOptions {
  /** The servers, or how many to generate with `serverAt`. */
  servers: FakeServer[] | { count: number; serverAt: (index: number) => FakeServer };
  volumes?: FakeVolume[];
  /** Maximum compute microversion; `2.1` makes the connector look flavors up. */
  maxMicroversion?: string;
  /** Called for each request before the response. */
  fault?: (request: RequestRecord) => FaultAnswer;
  /** Certificate and key for HTTPS. */
  tls?: { cert: string; key: string };
  /** Region of the catalog's endpoints. */
  region?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** 1-based count of requests to this path (without query) so far. */
  pathCount: number;
  /** 1-based number of the servers/detail page requested, when this is one. */
  page?: number;
}

export interface FakeOpenStack {
  url: string;
  requests: RequestRecord[];
  /** Makes every issued token invalid, as when tokens expire. */
  expireTokens(): void;
  logins: number;
  close(): Promise<void>;
}

export const FLAVOR_SMALL: FakeFlavor = {
  id: '1',
  name: 'm1.small',
  vcpus: 1,
  ram: 2048,
  disk: 20,
  ephemeral: 0,
};

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

function microversionOf(request: IncomingMessage): [number, number] {
  const header = request.headers['openstack-api-version'];
  const match = typeof header === 'string' ? /compute (\d+)\.(\d+)/.exec(header) : null;
  return match ? [Number(match[1]), Number(match[2])] : [2, 1];
}

function serverBody(server: FakeServer, microversion: [number, number], base: string) {
  const atLeast = (minor: number) => microversion[0] > 2 || microversion[1] >= minor;
  const embedded = atLeast(47);
  return {
    id: server.id,
    name: server.name,
    status: server.status,
    tenant_id: PROJECT_ID,
    user_id: 'fake',
    metadata: server.metadata ?? {},
    // Servers carry tags from microversion 2.26.
    ...(atLeast(26) ? { tags: server.tags ?? [] } : {}),
    hostId: 'bcf9b8a4e8d0e8c9',
    image: server.bootFromVolume
      ? ''
      : {
          id: '70a599e0-31e7-49b7-b260-868f441e862b',
          links: [{ href: `${base}/images/70a5`, rel: 'bookmark' }],
        },
    flavor: embedded
      ? {
          disk: server.flavor.disk,
          ephemeral: server.flavor.ephemeral,
          extra_specs: {},
          original_name: server.flavor.name,
          ram: server.flavor.ram,
          swap: 0,
          vcpus: server.flavor.vcpus,
        }
      : { id: server.flavor.id, links: [{ href: `${base}/flavors/${server.flavor.id}`, rel: 'bookmark' }] },
    addresses: { private: [{ addr: '192.168.1.30', version: 4, 'OS-EXT-IPS:type': 'fixed' }] },
    'OS-EXT-STS:power_state': server.power_state,
    'OS-EXT-STS:task_state': null,
    'OS-EXT-STS:vm_state': server.status.toLowerCase(),
    'OS-EXT-AZ:availability_zone': 'nova',
    'os-extended-volumes:volumes_attached': (server.volumes ?? []).map((id) => ({
      id,
      delete_on_termination: false,
    })),
    created: '2026-01-01T09:00:00Z',
    updated: '2026-01-01T09:00:00Z',
    links: [{ href: `${base}/servers/${server.id}`, rel: 'self' }],
  };
}

/** Starts the fake cloud on a free port of 127.0.0.1. */
export async function startFakeOpenStack(options: FakeOpenStackOptions): Promise<FakeOpenStack> {
  const servers = Array.isArray(options.servers)
    ? {
        count: options.servers.length,
        serverAt: (index: number) => (options.servers as FakeServer[])[index]!,
      }
    : options.servers;
  const volumes = options.volumes ?? [];
  const flavors = new Map<string, FakeFlavor>();
  const indexById = new Map<string, number>();
  if (Array.isArray(options.servers)) {
    options.servers.forEach((server, index) => {
      indexById.set(server.id, index);
      flavors.set(server.flavor.id, server.flavor);
    });
  }
  const maxMicroversion = options.maxMicroversion ?? '2.90';
  const region = options.region ?? 'RegionOne';
  const pathCounts = new Map<string, number>();
  let validTokens = new Set<string>();
  let tokenSequence = 0;
  const hanging = new Set<ServerResponse>();

  const state: FakeOpenStack = {
    url: '',
    requests: [],
    logins: 0,
    expireTokens: () => {
      validTokens = new Set();
    },
    close: async () => {
      for (const response of hanging) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  /** Index of the server after `marker`: generated ids end in their index. */
  const indexAfter = (marker: string | null): number => {
    if (marker === null) return 0;
    const known = indexById.get(marker);
    if (known !== undefined) return known + 1;
    return Number.parseInt(marker.slice(-12), 16) + 1;
  };

  const handle = (request: IncomingMessage, response: ServerResponse, body: string) => {
    const url = new URL(request.url ?? '/', state.url);
    const count = (pathCounts.get(url.pathname) ?? 0) + 1;
    pathCounts.set(url.pathname, count);
    const record: RequestRecord = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      pathCount: count,
    };
    if (url.pathname === '/compute/v2.1/servers/detail') {
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      record.page = Math.floor(indexAfter(url.searchParams.get('marker')) / limit) + 1;
    }
    state.requests.push(record);

    const fault = options.fault?.(record);
    if (fault && 'hang' in fault) {
      hanging.add(response);
      return;
    }
    if (fault && 'raw' in fault) return send(response, fault.status ?? 200, fault.raw);
    if (fault) return send(response, fault.status, fault.body ?? '{"error": "injected"}');

    if (url.pathname === '/identity/v3/auth/tokens' && request.method === 'POST') {
      const auth = JSON.parse(body) as {
        auth: { identity: { password: { user: { name: string; password: string } } } };
      };
      if (auth.auth.identity.password.user.password !== PASSWORD) {
        return send(response, 401, {
          error: {
            code: 401,
            message: 'The request you have made requires authentication.',
            title: 'Unauthorized',
          },
        });
      }
      state.logins += 1;
      tokenSequence += 1;
      const token = `gAAAAABfake-token-${tokenSequence}`;
      validTokens.add(token);
      const endpoint = (type: string, path: string) => ({
        type,
        name: type,
        endpoints: [
          {
            id: `${type}-public`,
            interface: 'public',
            region,
            region_id: region,
            url: `${state.url}${path}`,
          },
          {
            id: `${type}-internal`,
            interface: 'internal',
            region,
            region_id: region,
            url: `http://10.0.0.1${path}`,
          },
        ],
      });
      return send(
        response,
        201,
        {
          token: {
            methods: ['password'],
            expires_at: '2099-01-01T00:00:00.000000Z',
            project: { id: PROJECT_ID, name: 'admin', domain: { id: 'default', name: 'Default' } },
            user: {
              id: 'ee4dfb6e5540447cb3741905149d9b6e',
              name: 'admin',
              domain: { id: 'default', name: 'Default' },
            },
            roles: [{ id: 'admin-role', name: 'admin' }],
            catalog: [
              endpoint('identity', '/identity'),
              endpoint('compute', '/compute/v2.1'),
              endpoint('volumev3', `/volume/v3/${PROJECT_ID}`),
            ],
          },
        },
        { 'x-subject-token': token },
      );
    }

    const token = request.headers['x-auth-token'];
    if (typeof token !== 'string' || !validTokens.has(token)) {
      return send(response, 401, {
        error: {
          code: 401,
          message: 'The request you have made requires authentication.',
          title: 'Unauthorized',
        },
      });
    }

    if (url.pathname === '/compute/v2.1/' || url.pathname === '/compute/v2.1') {
      return send(response, 200, {
        version: {
          id: 'v2.1',
          status: 'CURRENT',
          version: maxMicroversion,
          min_version: '2.1',
          updated: '2013-07-23T11:33:21Z',
          links: [{ href: `${state.url}/compute/v2.1/`, rel: 'self' }],
          'media-types': [
            { base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' },
          ],
        },
      });
    }

    if (url.pathname === '/compute/v2.1/servers/detail') {
      if (url.searchParams.get('all_tenants') !== '1')
        return send(response, 400, { badRequest: { message: 'all_tenants' } });
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const start = indexAfter(url.searchParams.get('marker'));
      const end = Math.min(start + limit, servers.count);
      const microversion = microversionOf(request);
      const page = [];
      for (let index = start; index < end; index += 1) {
        page.push(serverBody(servers.serverAt(index), microversion, `${state.url}/compute/v2.1`));
      }
      const last = page.at(-1);
      const links =
        end < servers.count && last
          ? [
              {
                href: `http://nova.internal:8774/v2.1/servers/detail?all_tenants=1&limit=${limit}&marker=${last.id}`,
                rel: 'next',
              },
            ]
          : [];
      return send(response, 200, { servers: page, ...(links.length > 0 ? { servers_links: links } : {}) });
    }

    const flavorMatch = /^\/compute\/v2\.1\/flavors\/([^/]+)$/.exec(url.pathname);
    if (flavorMatch) {
      const flavor = flavors.get(decodeURIComponent(flavorMatch[1]!));
      if (!flavor)
        return send(response, 404, { itemNotFound: { code: 404, message: 'Flavor could not be found.' } });
      return send(response, 200, {
        flavor: {
          id: flavor.id,
          name: flavor.name,
          vcpus: flavor.vcpus,
          ram: flavor.ram,
          disk: flavor.disk,
          'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral,
          swap: '',
          'os-flavor-access:is_public': true,
          rxtx_factor: 1.0,
        },
      });
    }

    const volumesPath = `/volume/v3/${PROJECT_ID}/volumes`;
    if (url.pathname === `${volumesPath}/detail`) {
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const marker = url.searchParams.get('marker');
      const start = marker === null ? 0 : volumes.findIndex((volume) => volume.id === marker) + 1;
      const page = volumes.slice(start, start + limit).map((volume) => ({
        id: volume.id,
        size: volume.size,
        status: 'in-use',
        volume_type: 'lvmdriver-1',
        attachments: [],
      }));
      const links =
        start + limit < volumes.length
          ? [
              {
                href: `http://cinder.internal:8776/v3/volumes/detail?limit=${limit}&marker=${page.at(-1)!.id}`,
                rel: 'next',
              },
            ]
          : [];
      return send(response, 200, { volumes: page, ...(links.length > 0 ? { volumes_links: links } : {}) });
    }
    const volumeMatch = new RegExp(`^${volumesPath}/([^/]+)$`).exec(url.pathname);
    if (volumeMatch) {
      const volume = volumes.find((candidate) => candidate.id === volumeMatch[1]);
      if (!volume)
        return send(response, 404, { itemNotFound: { code: 404, message: 'Volume could not be found.' } });
      return send(response, 200, { volume: { id: volume.id, size: volume.size, status: 'in-use' } });
    }

    return send(response, 404, { itemNotFound: { code: 404, message: `no route ${url.pathname}` } });
  };

  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return state;
}

/** Generates server `index`, whose id ends in the index in hexadecimal, which `startFakeOpenStack` pages by. */
export function generatedServer(index: number): FakeServer {
  return {
    id: `6a8f0c2e-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
    name: `vm-${index}`,
    status: index % 10 === 0 ? 'SHUTOFF' : 'ACTIVE',
    power_state: index % 10 === 0 ? 4 : 1,
    flavor: { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40, ephemeral: 0 },
    metadata: { cloud_platform_system: `SYS-${index % 100}` },
  };
}
