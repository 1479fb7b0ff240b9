import { z } from 'zod';

import { DomainError } from '../../errors.js';
import { sourceProblem } from '../../i18n/settings-messages.js';
import type { Logger } from '../../logger.js';
import type { InventoryRecordInput, InventorySource } from '../source.js';
import {
  commonSourceFields,
  defineConnector,
  httpUrl,
  requireSecrets,
  resolveSecret,
  secretFields,
  wholeNumberSetting,
} from './connector.js';
import { createSourceHttpClient, type HttpResponse, type SourceHttpClient } from './http.js';
import {
  attachedVolumeIds,
  flavorSizes,
  mapServer,
  type FlavorSizes,
  type SystemMapping,
} from './openstack-servers.js';

/**
 * OpenStack connector: logs in to Keystone v3 with a password, lists every
 * project's servers from Nova and the sizes of their volumes from Cinder.
 */

export const openstackSchema = z
  .object({
    type: z.literal('openstack'),
    ...commonSourceFields,
    auth_url: httpUrl,
    username: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty')),
    ...secretFields('password'),
    user_domain_name: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .default('Default'),
    project_name: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty')),
    project_domain_name: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .default('Default'),
    region: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .optional(),
    interface: z
      .enum(['public', 'internal', 'admin'], { error: sourceProblem('source_problem_interface') })
      .default('public'),
    page_size: wholeNumberSetting(1, 10_000).default(1000),
    system_metadata_key: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .max(255, sourceProblem('source_problem_max_length'))
      .default('cloud_platform_system'),
    system_tag_prefix: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .max(60, sourceProblem('source_problem_max_length'))
      .optional(),
    include_volumes: z.boolean({ error: sourceProblem('source_problem_boolean') }).default(true),
  })
  .strict()
  .superRefine(requireSecrets(['password']));

export type OpenStackConfig = z.infer<typeof openstackSchema>;

export const openstackConnector = defineConnector<OpenStackConfig>({
  type: 'openstack',
  schema: openstackSchema,
  secretFields: ['password'],
  create: (config, context) =>
    new OpenStackInventorySource(config, resolveSecret(config, 'password', context), context.logger),
});

/** Microversion at which Nova embeds the flavor's sizes in each server. */
export const EMBEDDED_FLAVOR_MICROVERSION = '2.47';

interface Session {
  token: string;
  projectId: string | undefined;
  computeUrl: string;
  volumeUrl: string | undefined;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a microversion such as `2.79` into comparable numbers; null for anything else. */
export function parseMicroversion(text: unknown): [number, number] | null {
  if (typeof text !== 'string') return null;
  const match = /^(\d+)\.(\d+)$/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2])] : null;
}

function compareMicroversions(left: [number, number], right: [number, number]): number {
  return left[0] - right[0] || left[1] - right[1];
}

/** Options that tests change; production uses the defaults. */
export interface OpenStackSourceTuning {
  /** Delay before the first retry in milliseconds. */
  backoffMs?: number;
}

export class OpenStackInventorySource implements InventorySource {
  readonly name: string;
  readonly provider: string;
  readonly ownDatabase = false;

  constructor(
    readonly config: OpenStackConfig,
    private readonly password: string,
    private readonly logger: Logger,
    private readonly tuning: OpenStackSourceTuning = {},
  ) {
    this.name = config.name;
    this.provider = config.name;
  }

  async *readPages(): AsyncGenerator<InventoryRecordInput[]> {
    const client = createSourceHttpClient(this.config, this.logger, this.tuning);
    client.addSecret(this.password);

    try {
      const reader = new NovaReader(this.config, this.password, client, this.logger);
      yield* reader.readPages();
    } finally {
      await client.close();
    }
  }
}

/** One sync's reading of Nova and Cinder, holding the session and caches of that sync. */
class NovaReader {
  private session: Session | undefined;
  private readonly mapping: SystemMapping;
  /** Flavor id → sizes, for clouds that do not embed flavors in servers. */
  private readonly flavors = new Map<string, Promise<FlavorSizes | undefined>>();

  constructor(
    private readonly config: OpenStackConfig,
    private readonly password: string,
    private readonly client: SourceHttpClient,
    private readonly logger: Logger,
  ) {
    this.mapping = { metadataKey: config.system_metadata_key, tagPrefix: config.system_tag_prefix };
  }

  async *readPages(): AsyncGenerator<InventoryRecordInput[]> {
    const session = await this.login();
    const microversion = await this.chooseMicroversion(session);
    const embedded = microversion !== null && compareMicroversions(microversion, [2, 47]) >= 0;
    const volumeSizes = this.config.include_volumes
      ? await this.readVolumeSizes()
      : new Map<string, number>();

    const headers: Record<string, string> = {};
    if (microversion !== null) {
      const text = `${microversion[0]}.${microversion[1]}`;
      headers['openstack-api-version'] = `compute ${text}`;
      headers['x-openstack-nova-api-version'] = text;
    }
    this.logger.info(
      {
        source: this.config.name,
        microversion: headers['x-openstack-nova-api-version'] ?? null,
        embedded_flavors: embedded,
        volumes: volumeSizes.size,
      },
      'openstack session ready',
    );

    let marker: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ all_tenants: '1', limit: String(this.config.page_size) });
      if (marker !== undefined) query.set('marker', marker);
      const url = `${this.computeUrl()}/servers/detail?${query.toString()}`;
      const body = await this.getObject(url, headers);

      const servers = body.servers;
      if (!Array.isArray(servers)) throw this.unexpected(url, 'the body has no "servers" list');
      const records: InventoryRecordInput[] = [];
      for (const server of servers) {
        if (!isObject(server)) {
          records.push(server as InventoryRecordInput);
          continue;
        }
        records.push(await this.mapServer(server, embedded, volumeSizes));
      }
      if (records.length > 0) yield records;

      const next = nextMarker(body.servers_links);
      if (next === undefined) return;
      if (next === marker)
        throw this.unexpected(url, `the next link repeats marker ${next}, so paging cannot advance`);
      marker = next;
    }
  }

  private async mapServer(
    server: JsonObject,
    embedded: boolean,
    volumeSizes: Map<string, number>,
  ): Promise<InventoryRecordInput> {
    const flavor = embedded
      ? isObject(server.flavor)
        ? flavorSizes(server.flavor)
        : undefined
      : await this.lookUpFlavor(server.flavor);

    const sizes: unknown[] = [];
    if (this.config.include_volumes) {
      for (const id of attachedVolumeIds(server)) sizes.push(await this.volumeSize(id, volumeSizes));
    }
    return mapServer(server, flavor, sizes, this.mapping);
  }

  /** Logs in to Keystone v3 with a password scoped to the project and reads the endpoints from the catalog. */
  private async login(): Promise<Session> {
    const authUrl = keystoneUrl(this.config.auth_url);
    const response = await this.client.request({
      method: 'POST',
      url: `${authUrl}/auth/tokens`,
      json: {
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: {
                name: this.config.username,
                domain: { name: this.config.user_domain_name },
                password: this.password,
              },
            },
          },
          scope: {
            project: { name: this.config.project_name, domain: { name: this.config.project_domain_name } },
          },
        },
      },
    });

    const token = response.headers['x-subject-token'];
    if (typeof token !== 'string' || token === '') {
      throw new DomainError('inventory_source_login_failed', {
        source: this.config.name,
        problem: `Keystone answered HTTP ${response.status} without an X-Subject-Token header`,
      });
    }
    this.client.addSecret(token);

    const body = this.client.parseJson(response);
    const tokenBody = isObject(body) && isObject(body.token) ? body.token : undefined;
    if (!tokenBody || !Array.isArray(tokenBody.catalog)) {
      throw this.unexpected(
        response.url,
        'the token has no service catalog; the user needs a project-scoped role',
      );
    }
    const project = isObject(tokenBody.project) ? tokenBody.project.id : undefined;

    this.session = {
      token,
      projectId: typeof project === 'string' ? project : undefined,
      computeUrl: this.endpoint(tokenBody.catalog, ['compute']),
      volumeUrl: this.config.include_volumes
        ? this.endpoint(tokenBody.catalog, ['volumev3', 'block-storage'])
        : undefined,
    };
    this.logger.info(
      { source: this.config.name, compute: this.session.computeUrl },
      'openstack login succeeded',
    );
    return this.session;
  }

  /** Finds the URL of the first service of `types` in the catalog, for the configured interface and region. */
  private endpoint(catalog: unknown[], types: readonly string[]): string {
    const region = this.config.region;
    for (const type of types) {
      const service = catalog.find((entry) => isObject(entry) && entry.type === type);
      if (!isObject(service) || !Array.isArray(service.endpoints)) continue;

      const matches = service.endpoints.filter(
        (endpoint): endpoint is JsonObject =>
          isObject(endpoint) &&
          endpoint.interface === this.config.interface &&
          typeof endpoint.url === 'string' &&
          (region === undefined || endpoint.region === region || endpoint.region_id === region),
      );
      const regions = new Set(matches.map((endpoint) => endpoint.region_id ?? endpoint.region));
      if (region === undefined && regions.size > 1) {
        throw new DomainError('inventory_source_invalid', {
          source: this.config.name,
          field: 'region',
          problem: `the catalog has ${type} endpoints in several regions (${[...regions].join(', ')}); set region to one of them`,
          problem_zh: `服务目录中 ${type} 的端点分布在多个区域（${[...regions].join('、')}）；请将 region 设为其中之一`,
        });
      }
      const [match] = matches;
      if (match) return String(match.url).replace(/\/+$/, '');
    }
    throw new DomainError('inventory_source_endpoint_missing', {
      source: this.config.name,
      service: types.join(' or '),
      region: region ?? '(any)',
      interface: this.config.interface,
    });
  }

  /**
   * Reads the compute version document (`GET` the endpoint root) and returns
   * the microversion to request: 2.47 when the cloud supports it, else the
   * cloud's maximum, or null when it has no microversions (v2.0).
   */
  private async chooseMicroversion(session: Session): Promise<[number, number] | null> {
    let versionUrl = session.computeUrl;
    // Older catalogs put the project id in the compute URL (…/v2.1/<project_id>); the version document is at …/v2.1.
    if (session.projectId !== undefined && versionUrl.endsWith(`/${session.projectId}`)) {
      versionUrl = versionUrl.slice(0, -(session.projectId.length + 1));
    }
    const body = await this.getObject(`${versionUrl}/`, {});
    const version = isObject(body.version) ? body.version : undefined;
    if (!version)
      throw this.unexpected(`${versionUrl}/`, 'the compute version document has no "version" object');

    // The Compute API reference names the maximum `version`; some deployments also send `max_version`.
    const max = parseMicroversion(version.max_version) ?? parseMicroversion(version.version);
    if (max === null) return null;
    const requested: [number, number] = [2, 47];
    return compareMicroversions(max, requested) >= 0 ? requested : max;
  }

  /** Lists every volume of every project from Cinder, page by page: id → size in GiB. */
  private async readVolumeSizes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    let marker: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ all_tenants: '1', limit: String(this.config.page_size) });
      if (marker !== undefined) query.set('marker', marker);
      const url = `${this.volumeUrl()}/volumes/detail?${query.toString()}`;
      const body = await this.getObject(url, {});
      if (!Array.isArray(body.volumes)) throw this.unexpected(url, 'the body has no "volumes" list');

      for (const volume of body.volumes) {
        if (isObject(volume) && typeof volume.id === 'string' && typeof volume.size === 'number') {
          sizes.set(volume.id, volume.size);
        }
      }
      const next = nextMarker(body.volumes_links);
      if (next === undefined) return sizes;
      if (next === marker)
        throw this.unexpected(url, `the next link repeats marker ${next}, so paging cannot advance`);
      marker = next;
    }
  }

  /** Returns the size of an attached volume, asking Cinder for volumes attached after the listing. */
  private async volumeSize(id: string, sizes: Map<string, number>): Promise<unknown> {
    const known = sizes.get(id);
    if (known !== undefined) return known;

    const url = `${this.volumeUrl()}/volumes/${encodeURIComponent(id)}`;
    const response = await this.authorizedRequest(url, {}, [404]);
    if (response.status === 404) {
      this.logger.warn(
        { source: this.config.name, volume_id: id },
        'attached volume not found in Cinder; counted as 0 GB',
      );
      return 0;
    }
    const body = this.client.parseJson(response);
    const size = isObject(body) && isObject(body.volume) ? body.volume.size : undefined;
    sizes.set(id, typeof size === 'number' ? size : 0);
    return size;
  }

  /** Looks up a flavor by id (cached for the sync), for clouds older than microversion 2.47. */
  private lookUpFlavor(reference: unknown): Promise<FlavorSizes | undefined> {
    const id = isObject(reference) && typeof reference.id === 'string' ? reference.id : undefined;
    if (id === undefined) return Promise.resolve(undefined);

    let flavor = this.flavors.get(id);
    if (flavor === undefined) {
      flavor = this.fetchFlavor(id);
      this.flavors.set(id, flavor);
    }
    return flavor;
  }

  private async fetchFlavor(id: string): Promise<FlavorSizes | undefined> {
    const url = `${this.computeUrl()}/flavors/${encodeURIComponent(id)}`;
    const response = await this.authorizedRequest(url, {}, [404]);
    if (response.status === 404) {
      // A deleted flavor: its servers are rejected for missing sizes, which the sync result lists.
      this.logger.warn(
        { source: this.config.name, flavor_id: id },
        'flavor not found; its servers have no sizes',
      );
      return undefined;
    }
    const body = this.client.parseJson(response);
    if (!isObject(body) || !isObject(body.flavor))
      throw this.unexpected(url, 'the body has no "flavor" object');
    return flavorSizes(body.flavor);
  }

  private async getObject(url: string, headers: Record<string, string>): Promise<JsonObject> {
    const body = this.client.parseJson(await this.authorizedRequest(url, headers, []));
    if (!isObject(body)) throw this.unexpected(url, 'the body is not a JSON object');
    return body;
  }

  /** Sends an authenticated GET; logs in again once when the token has expired (HTTP 401). */
  private async authorizedRequest(
    url: string,
    headers: Record<string, string>,
    acceptStatuses: readonly number[],
  ): Promise<HttpResponse> {
    const send = () =>
      this.client.request({
        url,
        headers: { ...headers, 'x-auth-token': this.session!.token },
        acceptStatuses: [401, ...acceptStatuses],
      });

    let response = await send();
    if (response.status === 401) {
      this.logger.info({ source: this.config.name }, 'openstack token rejected; logging in again');
      await this.login();
      response = await this.client.request({
        url,
        headers: { ...headers, 'x-auth-token': this.session!.token },
        acceptStatuses,
      });
    }
    return response;
  }

  private computeUrl(): string {
    return this.session!.computeUrl;
  }

  private volumeUrl(): string {
    return this.session!.volumeUrl!;
  }

  private unexpected(url: string, problem: string): DomainError {
    return new DomainError('inventory_source_unexpected_answer', {
      source: this.config.name,
      url: this.client.redact(url),
      problem,
    });
  }
}

/** Returns the Keystone v3 base URL, accepting auth_url with or without the /v3 suffix. */
export function keystoneUrl(authUrl: string): string {
  const trimmed = authUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/v3') ? trimmed : `${trimmed}/v3`;
}

/**
 * Returns the marker of the `next` link of a Nova or Cinder list, or undefined
 * on the last page. Only the marker is taken: links often carry an internal
 * host name that the product cannot reach.
 */
export function nextMarker(links: unknown): string | undefined {
  if (!Array.isArray(links)) return undefined;
  const next = links.find((link) => isObject(link) && link.rel === 'next');
  if (!isObject(next) || typeof next.href !== 'string') return undefined;
  try {
    return new URL(next.href, 'http://placeholder/').searchParams.get('marker') ?? undefined;
  } catch {
    return undefined;
  }
}
