import { z } from 'zod';

import { DomainError } from '../../errors.js';
import type { VmStatus } from '../../db/schema.js';
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
import { createSourceHttpClient } from './http.js';
import { bytesToGb } from './units.js';

/**
 * Proxmox VE connector: reads every QEMU VM and LXC container of a cluster
 * from `GET /api2/json/cluster/resources?type=vm`, authenticated with an API
 * token. Templates are skipped.
 */

export const proxmoxSchema = z
  .object({
    type: z.literal('proxmox'),
    ...commonSourceFields,
    url: httpUrl,
    token_id: z
      .string({ error: sourceProblem('source_problem_text') })
      .regex(
        /^[^\s@!=]+@[^\s@!=]+![A-Za-z][A-Za-z0-9._-]*$/,
        sourceProblem('source_problem_proxmox_token_id'),
      ),
    ...secretFields('token_secret'),
    system_tag_prefix: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .max(60, sourceProblem('source_problem_max_length'))
      .default('system-'),
    page_size: wholeNumberSetting(1, 10_000).default(1000),
  })
  .strict()
  .superRefine(requireSecrets(['token_secret']));

export type ProxmoxConfig = z.infer<typeof proxmoxSchema>;

export const proxmoxConnector = defineConnector<ProxmoxConfig>({
  type: 'proxmox',
  schema: proxmoxSchema,
  secretFields: ['token_secret'],
  create: (config, context) =>
    new ProxmoxInventorySource(config, resolveSecret(config, 'token_secret', context), context.logger),
});

const STATUS_BY_PROXMOX_STATUS: Record<string, VmStatus> = {
  running: 'running',
  stopped: 'stopped',
  paused: 'suspended',
  suspended: 'suspended',
  prelaunch: 'stopped',
  'io-error': 'error',
  internal_error: 'error',
};

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits a Proxmox tag list, which the API separates with `;` (older versions also use `,` or spaces). */
export function splitTags(tags: unknown): string[] {
  if (typeof tags !== 'string') return [];
  return tags.split(/[;,\s]+/).filter((tag) => tag !== '');
}

/**
 * Maps one entry of cluster/resources to an inventory record. The VMID is the
 * external id because it is unique in a cluster and survives migration
 * between nodes. Sizes are in bytes; `maxdisk` is the VM's boot disk.
 */
export function mapResource(resource: JsonObject, tagPrefix: string): InventoryRecordInput {
  const tag = splitTags(resource.tags).find(
    (candidate) => candidate.startsWith(tagPrefix) && candidate.length > tagPrefix.length,
  );
  const status = typeof resource.status === 'string' ? STATUS_BY_PROXMOX_STATUS[resource.status] : undefined;
  return {
    external_id: typeof resource.vmid === 'number' ? String(resource.vmid) : resource.vmid,
    name: resource.name,
    system_code: tag === undefined ? null : tag.slice(tagPrefix.length),
    cpu: resource.maxcpu,
    memory_gb: bytesToGb(resource.maxmem),
    storage_gb: bytesToGb(resource.maxdisk),
    power_status: status ?? 'unknown',
  };
}

/** Options that tests change; production uses the defaults. */
export interface ProxmoxSourceTuning {
  backoffMs?: number;
}

export class ProxmoxInventorySource implements InventorySource {
  readonly name: string;
  readonly provider: string;
  readonly ownDatabase = false;

  constructor(
    readonly config: ProxmoxConfig,
    private readonly tokenSecret: string,
    private readonly logger: Logger,
    private readonly tuning: ProxmoxSourceTuning = {},
  ) {
    this.name = config.name;
    this.provider = config.name;
  }

  async *readPages(): AsyncGenerator<InventoryRecordInput[]> {
    const client = createSourceHttpClient(this.config, this.logger, this.tuning);
    client.addSecret(this.tokenSecret);

    try {
      const url = `${this.config.url.replace(/\/+$/, '')}/api2/json/cluster/resources?type=vm`;
      const body = await client.getJson(url, {
        authorization: `PVEAPIToken=${this.config.token_id}=${this.tokenSecret}`,
      });
      if (!isObject(body) || !Array.isArray(body.data)) {
        throw new DomainError('inventory_source_unexpected_answer', {
          source: this.name,
          url,
          problem: 'the body has no "data" list',
        });
      }

      // The cluster returns all VMs in one response, so the sync takes them in pages of page_size.
      let page: InventoryRecordInput[] = [];
      let templates = 0;
      for (const resource of body.data) {
        if (isObject(resource) && (resource.template === 1 || resource.template === true)) {
          templates += 1;
          continue;
        }
        page.push(
          isObject(resource)
            ? mapResource(resource, this.config.system_tag_prefix)
            : (resource as InventoryRecordInput),
        );
        if (page.length >= this.config.page_size) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
      this.logger.info(
        { source: this.name, resources: body.data.length, templates_skipped: templates },
        'proxmox resources read',
      );
    } finally {
      await client.close();
    }
  }
}
