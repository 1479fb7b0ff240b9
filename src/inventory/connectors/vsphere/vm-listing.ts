import { DomainError } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import { VM_POWER_STATES, type VmFilter, type VsphereDialect } from './api.js';
import type { VsphereSession } from './session.js';

/**
 * Lists every VM of a vCenter. `GET /vcenter/vm` has no paging and returns at
 * most a fixed number of VMs (VsphereDialect.vmListLimit), so the listing
 * queries each datacenter and splits a query that reaches the limit: first by
 * power state, then by VM folder and power state. A query that still reaches
 * the limit fails the listing, so that no VM goes silently missing.
 */

/** One entry of `GET /vcenter/vm` (Vcenter VM Summary). */
export interface VmSummary {
  vm: string;
  name: unknown;
  power_state: unknown;
}

export interface ListingCounts {
  datacenters: number;
  queries: number;
  splits: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class VmListing {
  readonly counts: ListingCounts = { datacenters: 0, queries: 0, splits: 0 };
  private readonly vms = new Map<string, VmSummary>();

  constructor(
    private readonly session: VsphereSession,
    private readonly source: string,
    private readonly url: string,
    private readonly logger: Logger,
    /** Replaces the dialect's VM list limit, for tests that cannot create thousands of VMs. */
    private readonly vmListLimit?: number,
  ) {}

  /** Returns every VM once, in the order found. Throws DomainError when a query cannot be split below the limit. */
  async list(): Promise<VmSummary[]> {
    const dialect = await this.session.dialect();
    const datacenters = await this.listOf(
      (d) => d.datacentersPath(),
      'datacenter',
      'the datacenter list is not a list of objects with a "datacenter" id',
    );
    this.counts.datacenters = datacenters.length;

    for (const datacenter of datacenters) {
      const id = datacenter.datacenter as string;
      const scope = `datacenter ${String(datacenter.name ?? id)} (${id})`;
      const whole = await this.query({ datacenter: id }, dialect);
      if (whole !== 'limit') continue;

      this.counts.splits += 1;
      this.logger.info(
        { source: this.source, datacenter: id },
        'vsphere VM query reached the limit; splitting by power state',
      );
      for (const powerState of VM_POWER_STATES) {
        const part = await this.query({ datacenter: id, powerState }, dialect);
        if (part === 'limit') await this.queryFolders(id, scope, powerState, dialect);
      }
    }
    return [...this.vms.values()];
  }

  /** Queries each VM folder of a datacenter for one power state. */
  private async queryFolders(
    datacenter: string,
    scope: string,
    powerState: (typeof VM_POWER_STATES)[number],
    dialect: VsphereDialect,
  ): Promise<void> {
    this.counts.splits += 1;
    const folders = await this.listOf(
      (d) => d.foldersPath(datacenter),
      'folder',
      'the folder list is not a list of objects with a "folder" id',
    );
    if (folders.length >= dialect.folderListLimit) {
      throw new DomainError('vsphere_list_limit', {
        source: this.source,
        url: this.url,
        what: 'VM folders',
        scope,
        count: folders.length,
      });
    }
    // NOTE: VMs of this datacenter and power state that sit in a vApp rather
    // than a folder are not found by the per-folder queries.
    for (const folder of folders) {
      const id = folder.folder as string;
      const part = await this.query({ datacenter, folder: id, powerState }, dialect);
      if (part === 'limit') {
        throw new DomainError('vsphere_list_limit', {
          source: this.source,
          url: this.url,
          what: 'VMs',
          scope: `${scope}, folder ${String(folder.name ?? id)} (${id}), power state ${powerState}`,
          count: this.limitOf(dialect),
        });
      }
    }
  }

  /** Runs one VM query and keeps its VMs; returns `limit` instead when the response may be cut off. */
  private async query(filter: VmFilter, dialect: VsphereDialect): Promise<'done' | 'limit'> {
    this.counts.queries += 1;
    let body: unknown;
    try {
      body = await this.session.get((d) => d.vmsPath(filter));
    } catch (error) {
      // vCenter 6.x returns an error instead of a cut-off list when too many VMs match.
      if (
        error instanceof DomainError &&
        error.code === 'inventory_source_http_error' &&
        /unable_to_allocate_resource/i.test(String(error.parameters.detail))
      ) {
        return 'limit';
      }
      throw error;
    }

    if (!Array.isArray(body) || !body.every((entry) => isObject(entry) && typeof entry.vm === 'string')) {
      throw new DomainError('inventory_source_unexpected_answer', {
        source: this.source,
        url: `${this.url}${dialect.vmsPath(filter)}`,
        problem: 'the VM list is not a list of objects with a "vm" id',
      });
    }
    if (body.length >= this.limitOf(dialect)) return 'limit';
    for (const entry of body as JsonObject[]) {
      const vm = entry.vm as string;
      if (!this.vms.has(vm)) this.vms.set(vm, { vm, name: entry.name, power_state: entry.power_state });
    }
    return 'done';
  }

  private limitOf(dialect: VsphereDialect): number {
    return this.vmListLimit ?? dialect.vmListLimit;
  }

  private async listOf(
    path: (dialect: VsphereDialect) => string,
    idField: string,
    problem: string,
  ): Promise<JsonObject[]> {
    const body = await this.session.get(path);
    if (
      !Array.isArray(body) ||
      !body.every((entry) => isObject(entry) && typeof entry[idField] === 'string')
    ) {
      const dialect = await this.session.dialect();
      throw new DomainError('inventory_source_unexpected_answer', {
        source: this.source,
        url: `${this.url}${path(dialect)}`,
        problem,
      });
    }
    return body as JsonObject[];
  }
}
