import { DomainError } from '../../../errors.js';

/**
 * The vInfo columns the import reads, and the header spellings accepted for
 * each. Headers are compared after normalization (see normalizeHeader), so
 * letter case, spaces and punctuation do not matter and `MB`/`MiB` are the
 * same unit. RVTools labels base-2 mebibytes as "MB" in its older exports, so
 * both spellings are read as MiB without conversion.
 *
 * | field | accepted headers | seen in |
 * |---|---|---|
 * | name | `VM`, `VM Name`, `vInfoVMName` | `VM`: XLSX exports of RVTools 3.x and 4.x; `vInfoVMName`: RVTools' "Export all to csv" files |
 * | powerstate | `Powerstate`, `Power State`, `vInfoPowerstate` | same |
 * | template | `Template`, `vInfoTemplate` | same |
 * | cpus | `CPUs`, `Num CPU`, `vInfoCPUs` | same |
 * | memory | `Memory`, `Memory MiB`, `Memory MB`, `vInfoMemory` | same; the value is MiB in every version |
 * | disk (1st choice) | `Total disk capacity MiB`, `Total disk capacity MB`, `vInfoTotalDiskCapacityMiB` | RVTools 4.x |
 * | disk (2nd choice) | `Provisioned MiB`, `vInfoProvisioned` | RVTools 4.x |
 * | disk (3rd choice) | `Provisioned MB` | older RVTools 3.x exports |
 * | datacenter, cluster, host, folder | `Datacenter`, `Cluster`, `Host`, `Folder` and their `vInfo…` forms | all versions that have them |
 * | vm uuid | `VM UUID`, `UUID`, `vInfoUUID` | RVTools 4.x; `UUID` in older exports |
 * | sdk uuid + vm id | `VI SDK UUID` + `VM ID` (`vInfoVISDKUUID`, `vInfoVMID`) | RVTools 4.x, used when no VM UUID column exists |
 *
 * NOTE: the "seen in" column comes from published exports and third-party
 * parsers, not from RVTools release notes, which do not list header changes.
 */

export type VinfoField =
  | 'name'
  | 'powerstate'
  | 'template'
  | 'cpus'
  | 'memory'
  | 'total_disk'
  | 'provisioned'
  | 'provisioned_legacy'
  | 'datacenter'
  | 'cluster'
  | 'host'
  | 'folder'
  | 'vm_uuid'
  | 'sdk_uuid'
  | 'vm_id';

/** Accepted spellings per field, written as RVTools prints them; matching normalizes both sides. */
export const VINFO_ALIASES: Record<VinfoField, readonly string[]> = {
  name: ['VM', 'VM Name', 'vInfoVMName'],
  powerstate: ['Powerstate', 'Power State', 'vInfoPowerstate'],
  template: ['Template', 'vInfoTemplate'],
  cpus: ['CPUs', 'Num CPU', 'vInfoCPUs'],
  memory: ['Memory', 'Memory MiB', 'vInfoMemory'],
  total_disk: ['Total disk capacity MiB', 'vInfoTotalDiskCapacityMiB'],
  provisioned: ['Provisioned MiB', 'vInfoProvisioned'],
  provisioned_legacy: ['Provisioned MB'],
  datacenter: ['Datacenter', 'vInfoDataCenter'],
  cluster: ['Cluster', 'vInfoCluster'],
  host: ['Host', 'vInfoHost'],
  folder: ['Folder', 'vInfoFolder'],
  vm_uuid: ['VM UUID', 'UUID', 'vInfoUUID'],
  sdk_uuid: ['VI SDK UUID', 'vInfoVISDKUUID'],
  vm_id: ['VM ID', 'vInfoVMID'],
};

/** Columns every vInfo sheet must have, besides one of the disk columns. */
const REQUIRED: readonly VinfoField[] = ['name', 'powerstate', 'template', 'cpus', 'memory'];
const DISK_FIELDS: readonly VinfoField[] = ['total_disk', 'provisioned', 'provisioned_legacy'];

/**
 * Normalizes a header for comparison: lower case, only letters and digits,
 * without a leading `vinfo` tab prefix, and with a trailing unit `mb` written
 * as `mib`.
 */
export function normalizeHeader(header: string): string {
  let key = header
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
  if (key.startsWith('vinfo') && key.length > 'vinfo'.length) key = key.slice('vinfo'.length);
  if (key.endsWith('mb')) key = `${key.slice(0, -2)}mib`;
  return key;
}

/**
 * The normalized aliases of each field. `Provisioned MB` and `Provisioned MiB`
 * normalize to the same key, so the legacy field has no key of its own. A
 * sheet whose provisioned header reads "MB" is recognized by its raw text.
 */
const ALIAS_KEYS: Map<string, VinfoField> = (() => {
  const keys = new Map<string, VinfoField>();
  for (const [field, aliases] of Object.entries(VINFO_ALIASES) as [VinfoField, readonly string[]][]) {
    if (field === 'provisioned_legacy') continue;
    for (const alias of aliases) keys.set(normalizeHeader(alias), field);
  }
  return keys;
})();

/** Column positions (0-based) of the fields found in a vInfo header row. */
export interface VinfoColumns {
  positions: Partial<Record<VinfoField, number>>;
  /** The disk field that the import reads. */
  disk: VinfoField;
  /** The header text of that disk column, shown in messages. */
  diskHeader: string;
  headers: string[];
}

/**
 * Finds the vInfo fields in a header row. Throws DomainError listing the
 * missing columns and every header found when a required column is absent.
 */
export function resolveColumns(headers: readonly string[], file: string): VinfoColumns {
  const positions: Partial<Record<VinfoField, number>> = {};
  const texts = headers.map((header) => header.trim());

  texts.forEach((header, index) => {
    let field = ALIAS_KEYS.get(normalizeHeader(header));
    if (field === undefined) return;
    if (field === 'provisioned' && /\bMB\s*$/i.test(header)) field = 'provisioned_legacy';
    // The first column with a given meaning wins, as RVTools never repeats one.
    if (positions[field] === undefined) positions[field] = index;
  });

  const missing: string[] = REQUIRED.filter((field) => positions[field] === undefined).map(
    (field) => VINFO_ALIASES[field][0]!,
  );
  const disk = DISK_FIELDS.find((field) => positions[field] !== undefined);
  if (disk === undefined) missing.push('Total disk capacity MiB | Provisioned MiB | Provisioned MB');
  if (missing.length > 0 || disk === undefined) {
    throw new DomainError('rvtools_columns_missing', {
      file,
      missing: missing.join(', '),
      found: texts.filter((header) => header !== '').join(', ') || '-',
    });
  }

  return { positions, disk, diskHeader: texts[positions[disk]!]!, headers: texts };
}
