import { Decimal } from 'decimal.js';

import type { VmStatus } from '../../../db/schema.js';
import { DomainError } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import { RejectedSourceRecord, type InventoryPageItem, type InventorySource } from '../../source.js';
import { createSourceHttpClient } from '../http.js';
import type { VsphereDialect } from './api.js';
import { VmListing, type VmSummary } from './vm-listing.js';
import { VsphereSession, type ApiSetting } from './session.js';

/**
 * vSphere inventory source: lists the VMs of a vCenter through the vSphere
 * Automation REST API and reads each VM's CPU count, memory and disk
 * capacities, with a bounded number of concurrent requests. The information
 * system code is the name of the VM's tag in a configured tag category.
 */

export interface VsphereSourceConfig {
  name: string;
  url: string;
  username: string;
  api: ApiSetting;
  /** Tag category whose tag name on a VM is its system code; unset leaves every VM unassigned. */
  tag_category?: string | undefined;
  /** Maximum VM detail requests in flight at once. */
  concurrency: number;
  page_size: number;
  timeout_seconds: number;
  retries: number;
  verify_tls: boolean;
  ca_file?: string | undefined;
}

/** Options that tests change; production uses the defaults. */
export interface VsphereSourceTuning {
  backoffMs?: number;
  /** Replaces the VM list limit of the API form. */
  vmListLimit?: number;
}

const POWER_STATES: Record<string, VmStatus> = {
  POWERED_ON: 'running',
  POWERED_OFF: 'stopped',
  SUSPENDED: 'suspended',
};

// Byte and MiB counts divide into GiB exactly at this precision.
const Exact = Decimal.clone({ precision: 60 });
const MIB_PER_GIB = 1024;
const BYTES_PER_GIB = new Exact(2).pow(30);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number | string {
  return (
    (typeof value === 'number' && Number.isFinite(value) && value >= 0) ||
    (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))
  );
}

/** Runs `work` on every item with at most `limit` calls in flight; results keep the input order. */
export async function mapConcurrently<Item, Result>(
  items: readonly Item[],
  limit: number,
  work: (item: Item) => Promise<Result>,
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class VsphereInventorySource implements InventorySource {
  readonly name: string;
  readonly provider: string;
  readonly ownDatabase = false;
  private readonly baseUrl: string;

  constructor(
    readonly config: VsphereSourceConfig,
    private readonly password: string,
    private readonly logger: Logger,
    private readonly tuning: VsphereSourceTuning = {},
  ) {
    this.name = config.name;
    this.provider = config.name;
    this.baseUrl = config.url.replace(/\/+$/, '');
  }

  async *readPages(): AsyncGenerator<InventoryPageItem[]> {
    const http = createSourceHttpClient(this.config, this.logger, this.tuning);
    const session = new VsphereSession(http, {
      source: this.name,
      url: this.baseUrl,
      username: this.config.username,
      password: this.password,
      api: this.config.api,
      logger: this.logger,
    });

    try {
      const listing = new VmListing(session, this.name, this.baseUrl, this.logger, this.tuning.vmListLimit);
      const summaries = await listing.list();
      const tags = new TagReader(session, this.name, this.baseUrl, this.config.tag_category);
      await tags.prepare();

      let rejected = 0;
      for (let start = 0; start < summaries.length; start += this.config.page_size) {
        const chunk = summaries.slice(start, start + this.config.page_size);
        const items = await mapConcurrently(chunk, this.config.concurrency, (summary) =>
          this.readVm(session, tags, summary),
        );
        const page = items.filter((item): item is InventoryPageItem => item !== undefined);
        rejected += page.filter((item) => item instanceof RejectedSourceRecord).length;
        if (page.length > 0) yield page;
      }

      this.logger.info(
        {
          source: this.name,
          api: (await session.dialect()).api,
          ...listing.counts,
          vms: summaries.length,
          rejected_by_source: rejected,
        },
        'vsphere VMs read',
      );
    } finally {
      await http.close();
    }
  }

  /** Reads one VM's details and tags. Returns undefined when the VM was deleted after the listing. */
  private async readVm(
    session: VsphereSession,
    tags: TagReader,
    summary: VmSummary,
  ): Promise<InventoryPageItem | undefined> {
    const info = await session.get((d) => d.vmPath(summary.vm), [404]);
    if (info === undefined) {
      this.logger.debug(
        { source: this.name, vm: summary.vm },
        'vsphere VM gone before its details were read',
      );
      return undefined;
    }
    const dialect = await session.dialect();
    if (!isObject(info)) {
      throw new DomainError('inventory_source_unexpected_answer', {
        source: this.name,
        url: `${this.baseUrl}${dialect.vmPath(summary.vm)}`,
        problem: 'the VM info is not an object',
      });
    }

    try {
      const systemCode = await tags.systemCodeOf(summary.vm);
      return vmRecord(summary, info, dialect, systemCode);
    } catch (error) {
      if (!(error instanceof DomainError) || !error.code.startsWith('vsphere_')) throw error;
      return new RejectedSourceRecord(error, summary.vm, null);
    }
  }
}

/** Maps a VM's info (`GET /vcenter/vm/{vm}`) to an inventory record; sizes exact in GB (GiB). */
export function vmRecord(
  summary: VmSummary,
  info: JsonObject,
  dialect: VsphereDialect,
  systemCode: string | null,
): JsonObject {
  const cpu = isObject(info.cpu) ? info.cpu.count : undefined;
  const memoryMib = isObject(info.memory) ? info.memory.size_MiB : undefined;

  let storage = new Exact(0);
  let storageValue: unknown;
  dialect.disksOf(info).forEach((disk, index) => {
    const capacity = isObject(disk) ? disk.capacity : undefined;
    if (capacity === undefined || capacity === null) {
      const label = isObject(disk) && typeof disk.label === 'string' ? disk.label : `#${index + 1}`;
      throw new DomainError('vsphere_disk_capacity_missing', { vm: summary.vm, disk: label }, 'storage_gb');
    }
    if (!isSize(capacity)) storageValue ??= capacity;
    else storage = storage.plus(capacity);
  });

  const powerState = typeof info.power_state === 'string' ? info.power_state : summary.power_state;
  return {
    external_id: summary.vm,
    name: typeof info.name === 'string' ? info.name : summary.name,
    system_code: systemCode,
    cpu,
    // Values that are not sizes pass through, so validation names the field.
    memory_gb: isSize(memoryMib) ? new Exact(memoryMib).dividedBy(MIB_PER_GIB).toFixed() : memoryMib,
    storage_gb: storageValue ?? storage.dividedBy(BYTES_PER_GIB).toFixed(),
    power_status: (typeof powerState === 'string' ? POWER_STATES[powerState] : undefined) ?? 'unknown',
  };
}

/**
 * Reads the system code of each VM from its tag in the configured category.
 * Tag and category look-ups are cached for the sync, so each tag is fetched
 * once however many VMs carry it.
 */
class TagReader {
  private categoryId: string | undefined;
  private readonly tagInfo = new Map<string, Promise<{ name: string; category_id: string } | undefined>>();

  constructor(
    private readonly session: VsphereSession,
    private readonly source: string,
    private readonly baseUrl: string,
    private readonly category: string | undefined,
  ) {}

  /** Finds the category id by name. Throws DomainError listing the categories when it does not exist. */
  async prepare(): Promise<void> {
    if (this.category === undefined) return;
    const ids = await this.session.get((d) => d.categoriesPath());
    if (!Array.isArray(ids))
      throw await this.unexpected((d) => d.categoriesPath(), 'the category list is not a list');

    const names: string[] = [];
    for (const id of ids) {
      if (typeof id !== 'string') continue;
      const info = await this.session.get((d) => d.categoryPath(id), [404]);
      if (!isObject(info) || typeof info.name !== 'string') continue;
      if (info.name === this.category) {
        this.categoryId = id;
        return;
      }
      names.push(info.name);
    }
    throw new DomainError('vsphere_tag_category_not_found', {
      source: this.source,
      category: this.category,
      categories: names.join(', ') || '-',
    });
  }

  /** Returns the VM's system code, null without a tag in the category, or throws for several. */
  async systemCodeOf(vm: string): Promise<string | null> {
    if (this.categoryId === undefined || this.category === undefined) return null;
    const attached = await this.session.post((d) => d.attachedTagsPath(), {
      object_id: { id: vm, type: 'VirtualMachine' },
    });
    if (!Array.isArray(attached)) {
      throw await this.unexpected((d) => d.attachedTagsPath(), 'the attached tags are not a list of tag ids');
    }

    const names: string[] = [];
    for (const id of attached) {
      if (typeof id !== 'string') continue;
      const tag = await this.tag(id);
      if (tag?.category_id === this.categoryId) names.push(tag.name);
    }
    if (names.length > 1) {
      throw new DomainError(
        'vsphere_several_system_tags',
        { vm, category: this.category, tags: names.join(', ') },
        'system_code',
      );
    }
    return names[0] ?? null;
  }

  private tag(id: string): Promise<{ name: string; category_id: string } | undefined> {
    let cached = this.tagInfo.get(id);
    if (cached === undefined) {
      cached = this.session
        .get((d) => d.tagPath(id), [404])
        .then((info) =>
          isObject(info) && typeof info.name === 'string' && typeof info.category_id === 'string'
            ? { name: info.name, category_id: info.category_id }
            : undefined,
        );
      this.tagInfo.set(id, cached);
    }
    return cached;
  }

  private async unexpected(path: (dialect: VsphereDialect) => string, problem: string): Promise<DomainError> {
    const dialect = await this.session.dialect();
    return new DomainError('inventory_source_unexpected_answer', {
      source: this.source,
      url: `${this.baseUrl}${path(dialect)}`,
      problem,
    });
  }
}
