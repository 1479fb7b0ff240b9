import type { VmStatus } from '../../db/schema.js';
import type { InventoryRecordInput } from '../source.js';
import { mibToGb, sumGb } from './units.js';

/**
 * Mapping of Nova servers to inventory records. Field names follow the
 * Compute API reference (`GET /servers/detail`).
 */

/** The flavor fields used: vcpus, ram in MiB, disk and ephemeral in GiB. */
export interface FlavorSizes {
  vcpus: unknown;
  ram: unknown;
  disk: unknown;
  ephemeral: unknown;
}

export interface SystemMapping {
  /** Server metadata key whose value is the information system code. */
  metadataKey: string;
  /** Server tag prefix; the rest of the first tag that has it is the system code. */
  tagPrefix: string | undefined;
}

/** Nova `status` values that fix the product status whatever the power state. */
const STATUS_BY_NOVA_STATUS: Record<string, VmStatus> = {
  ACTIVE: 'running',
  RESCUE: 'running',
  SHUTOFF: 'stopped',
  SHELVED: 'stopped',
  SHELVED_OFFLOADED: 'stopped',
  STOPPED: 'stopped',
  SUSPENDED: 'suspended',
  PAUSED: 'suspended',
  ERROR: 'error',
  DELETED: 'deleted',
  SOFT_DELETED: 'deleted',
  UNKNOWN: 'unknown',
};

/** `OS-EXT-STS:power_state` codes (nova/compute/power_state.py) for transitional statuses such as BUILD or RESIZE. */
const STATUS_BY_POWER_STATE: Record<number, VmStatus> = {
  0: 'unknown', // NOSTATE
  1: 'running', // RUNNING
  3: 'suspended', // PAUSED
  4: 'stopped', // SHUTDOWN
  6: 'error', // CRASHED
  7: 'suspended', // SUSPENDED
};

/** Maps a server's status, and its power state for transitional statuses, to a product VM status. */
export function mapServerStatus(status: unknown, powerState: unknown): VmStatus {
  const fixed = typeof status === 'string' ? STATUS_BY_NOVA_STATUS[status.toUpperCase()] : undefined;
  if (fixed) return fixed;
  return (typeof powerState === 'number' ? STATUS_BY_POWER_STATE[powerState] : undefined) ?? 'unknown';
}

/** Returns the information system code of a server from its metadata key, else its tag prefix, else null. */
export function serverSystemCode(server: Record<string, unknown>, mapping: SystemMapping): string | null {
  const metadata = server.metadata;
  if (typeof metadata === 'object' && metadata !== null) {
    const value = (metadata as Record<string, unknown>)[mapping.metadataKey];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  if (mapping.tagPrefix !== undefined && Array.isArray(server.tags)) {
    for (const tag of server.tags) {
      if (
        typeof tag === 'string' &&
        tag.startsWith(mapping.tagPrefix) &&
        tag.length > mapping.tagPrefix.length
      ) {
        return tag.slice(mapping.tagPrefix.length);
      }
    }
  }
  return null;
}

/** Ids of the Cinder volumes attached to a server. */
export function attachedVolumeIds(server: Record<string, unknown>): string[] {
  const attached = server['os-extended-volumes:volumes_attached'];
  if (!Array.isArray(attached)) return [];
  return attached
    .map((volume) =>
      typeof volume === 'object' && volume !== null ? (volume as { id?: unknown }).id : undefined,
    )
    .filter((id): id is string => typeof id === 'string');
}

/**
 * Returns whether the server booted from a volume. Nova then returns `image` as an
 * empty string, and the root disk is one of the attached volumes, so the
 * flavor's disk is not allocated.
 */
function bootedFromVolume(server: Record<string, unknown>): boolean {
  return server.image === '' || server.image === null || server.image === undefined;
}

/**
 * Maps one server to an inventory record. Storage is the flavor's root disk
 * (unless the server booted from a volume), its ephemeral disk and the sizes
 * of the attached volumes, all in GiB. Values that are not sizes pass through
 * unchanged, so that validation rejects the record naming the field.
 */
export function mapServer(
  server: Record<string, unknown>,
  flavor: FlavorSizes | undefined,
  volumeSizes: readonly unknown[],
  mapping: SystemMapping,
): InventoryRecordInput {
  const rootDisk = bootedFromVolume(server) ? 0 : flavor?.disk;
  return {
    external_id: server.id,
    name: server.name,
    system_code: serverSystemCode(server, mapping),
    cpu: flavor?.vcpus,
    memory_gb: flavor === undefined ? undefined : mibToGb(flavor.ram),
    storage_gb: flavor === undefined ? undefined : sumGb([rootDisk, flavor.ephemeral ?? 0, ...volumeSizes]),
    power_status: mapServerStatus(server.status, server['OS-EXT-STS:power_state']),
  };
}

/** Reads the sizes of a flavor embedded in a server (microversion 2.47 or later) or returned by `GET /flavors/{id}`. */
export function flavorSizes(flavor: Record<string, unknown>): FlavorSizes {
  return {
    vcpus: flavor.vcpus,
    ram: flavor.ram,
    disk: flavor.disk,
    ephemeral: flavor.ephemeral ?? flavor['OS-FLV-EXT-DATA:ephemeral'] ?? 0,
  };
}
