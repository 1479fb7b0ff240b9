import type { VmStatus } from '../db/schema.js';
import type { DomainError } from '../errors.js';

/**
 * A virtualization platform or file that `sync_vm_status` reads VMs from.
 * Connectors (OpenStack, vSphere, …) implement this interface; the tasks do
 * not know which one they read.
 */
export interface InventorySource {
  /** Name shown in logs and task results, e.g. `file:/etc/cloud/inventory.yaml`. */
  readonly name: string;
  /** Provider stored on each VM; (provider, external_id) identifies a VM. */
  readonly provider: string;
  /**
   * Whether this source owns its VMs' observed state in the product's own
   * database. Sync leaves such VMs as they are, because the CLI and API change them.
   */
  readonly ownDatabase: boolean;
  /**
   * Yields the source's VMs page by page. Throwing fails the sync of this
   * source, which then marks none of its VMs missing.
   */
  readPages(): AsyncIterable<InventoryPageItem[]>;
}

/**
 * One VM as a source reports it, before validation. A string `source_location`
 * (e.g. `vInfo row 17`) is copied into the rejection when the record is rejected.
 */
export type InventoryRecordInput = Record<string, unknown>;

/**
 * A VM that the source found but could not turn into a record, e.g. a
 * spreadsheet row with text in a number column. Sync counts it as rejected.
 */
export class RejectedSourceRecord {
  constructor(
    readonly error: DomainError,
    readonly externalId: string | null = null,
    readonly location: string | null = null,
  ) {}
}

export type InventoryPageItem = InventoryRecordInput | RejectedSourceRecord;

/** One VM after validation. Sizes are in GB (GiB); system_code is null for an unassigned VM. */
export interface InventoryRecord {
  external_id: string;
  name: string;
  system_code: string | null;
  cpu: number;
  memory_gb: string;
  storage_gb: string;
  power_status: VmStatus;
}

/** A record that failed validation, reported in the run's result and log. */
export interface RejectedRecord {
  external_id: string | null;
  reason: string;
}
