/**
 * The two forms of the vSphere Automation REST API. `api` is the form of
 * vCenter 7.0U2 and later (`/api/...`, plain JSON values). `rest` is the older
 * form of vCenter 6.5 to 7.0U1 (`/rest/...`, every value wrapped in
 * `{"value": …}`, filters written `filter.name`, maps written as lists of
 * `{key, value}` pairs, actions as `~action`).
 */

export type VsphereApi = 'api' | 'rest';

/** VM power states of `GET /vcenter/vm` (enumeration Power.State). */
export const VM_POWER_STATES = ['POWERED_ON', 'POWERED_OFF', 'SUSPENDED'] as const;
export type VmPowerState = (typeof VM_POWER_STATES)[number];

/** Filters of `GET /vcenter/vm`; every present one must match. */
export interface VmFilter {
  datacenter?: string;
  folder?: string;
  powerState?: VmPowerState;
}

export interface VsphereDialect {
  api: VsphereApi;
  /**
   * Maximum VMs one `GET /vcenter/vm` returns. The reference of vSphere 7.0
   * and later states 4,000, and the 6.5 SDK reference states 1,000, so `rest` (6.5 to
   * 7.0U1) assumes the smaller one and splits its queries sooner.
   */
  vmListLimit: number;
  /** Maximum folders one `GET /vcenter/folder` returns (1,000 in every version's reference). */
  folderListLimit: number;
  sessionPath: string;
  datacentersPath(): string;
  foldersPath(datacenter: string): string;
  vmsPath(filter: VmFilter): string;
  vmPath(vm: string): string;
  categoriesPath(): string;
  categoryPath(id: string): string;
  tagPath(id: string): string;
  attachedTagsPath(): string;
  /** Returns the value of a response body: the body itself, or its `value` in the `rest` form. */
  unwrap(body: unknown): unknown;
  /** Returns the disks of a VM's info as a list, from a map (`api`) or a list of pairs (`rest`). */
  disksOf(info: Record<string, unknown>): unknown[];
}

function query(parameters: [string, string | undefined][]): string {
  const search = new URLSearchParams();
  for (const [name, value] of parameters) if (value !== undefined) search.append(name, value);
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export const API_DIALECT: VsphereDialect = {
  api: 'api',
  vmListLimit: 4000,
  folderListLimit: 1000,
  sessionPath: '/api/session',
  datacentersPath: () => '/api/vcenter/datacenter',
  foldersPath: (datacenter) =>
    `/api/vcenter/folder${query([
      ['type', 'VIRTUAL_MACHINE'],
      ['datacenters', datacenter],
    ])}`,
  vmsPath: (filter) =>
    `/api/vcenter/vm${query([
      ['datacenters', filter.datacenter],
      ['folders', filter.folder],
      ['power_states', filter.powerState],
    ])}`,
  vmPath: (vm) => `/api/vcenter/vm/${encodeURIComponent(vm)}`,
  categoriesPath: () => '/api/cis/tagging/category',
  categoryPath: (id) => `/api/cis/tagging/category/${encodeURIComponent(id)}`,
  tagPath: (id) => `/api/cis/tagging/tag/${encodeURIComponent(id)}`,
  attachedTagsPath: () => '/api/cis/tagging/tag-association?action=list-attached-tags',
  unwrap: (body) => body,
  disksOf: (info) => {
    const disks = info.disks;
    return typeof disks === 'object' && disks !== null && !Array.isArray(disks) ? Object.values(disks) : [];
  },
};

export const REST_DIALECT: VsphereDialect = {
  api: 'rest',
  vmListLimit: 1000,
  folderListLimit: 1000,
  sessionPath: '/rest/com/vmware/cis/session',
  datacentersPath: () => '/rest/vcenter/datacenter',
  foldersPath: (datacenter) =>
    `/rest/vcenter/folder${query([
      ['filter.type', 'VIRTUAL_MACHINE'],
      ['filter.datacenters', datacenter],
    ])}`,
  vmsPath: (filter) =>
    `/rest/vcenter/vm${query([
      ['filter.datacenters', filter.datacenter],
      ['filter.folders', filter.folder],
      ['filter.power_states', filter.powerState],
    ])}`,
  vmPath: (vm) => `/rest/vcenter/vm/${encodeURIComponent(vm)}`,
  categoriesPath: () => '/rest/com/vmware/cis/tagging/category',
  categoryPath: (id) => `/rest/com/vmware/cis/tagging/category/id:${encodeURIComponent(id)}`,
  tagPath: (id) => `/rest/com/vmware/cis/tagging/tag/id:${encodeURIComponent(id)}`,
  attachedTagsPath: () => '/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-tags',
  unwrap: (body) =>
    typeof body === 'object' && body !== null && 'value' in body
      ? (body as { value: unknown }).value
      : undefined,
  disksOf: (info) => {
    const disks = info.disks;
    if (!Array.isArray(disks)) return [];
    return disks.map((entry: unknown) =>
      typeof entry === 'object' && entry !== null ? (entry as { value?: unknown }).value : entry,
    );
  },
};
