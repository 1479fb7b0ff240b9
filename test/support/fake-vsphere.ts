import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake vCenter on 127.0.0.1 that responds to the vSphere Automation REST API
 * calls the vSphere connector makes, in the shapes of VMware's API reference
 * samples: the `/api` form (vCenter 7.0U2 and later) or the `/rest` form
 * (6.5 to 7.0U1, values wrapped in `{"value": …}`). Tests change its data
 * and inject faults between calls.
 */

export interface FakeDisk {
  label: string;
  /** Bytes; undefined for an inaccessible disk, whose capacity vCenter leaves out. */
  capacity?: number;
}

export interface FakeVm {
  vm: string;
  name: string;
  power_state: 'POWERED_ON' | 'POWERED_OFF' | 'SUSPENDED';
  cpu: number;
  memory_MiB: number;
  disks: FakeDisk[];
  datacenter: string;
  folder: string;
  /** Ids of the attached tags. */
  tags: string[];
}

export interface FakeVsphereData {
  datacenters: { datacenter: string; name: string }[];
  folders: { folder: string; name: string; datacenter: string }[];
  categories: { id: string; name: string }[];
  tags: { id: string; name: string; category_id: string }[];
  vms: FakeVm[];
}

export interface FakeVsphereOptions {
  api: 'api' | 'rest';
  username?: string;
  password?: string;
  /** Maximum VMs one list call returns. */
  vmListLimit?: number;
  /** What a list call does when more VMs match: cut the list (7.0 and later) or return an error (6.x). */
  overLimit?: 'truncate' | 'error';
}

/** A fault for requests whose path starts with `path`, used `times` times. */
export interface Fault {
  path: string;
  method?: 'GET' | 'POST';
  kind: 'status' | 'malformed' | 'delay' | 'expire-session';
  status?: number;
  delayMs?: number;
  times: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  sessionId: string | undefined;
}

export class FakeVsphere {
  readonly data: FakeVsphereData = { datacenters: [], folders: [], categories: [], tags: [], vms: [] };
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  logins = 0;
  inFlightDetails = 0;
  maxInFlightDetails = 0;
  /** Delay of every VM detail response, so that concurrent requests overlap. */
  detailDelayMs = 0;
  private readonly sessions = new Set<string>();
  private server: Server | undefined;
  url = '';

  constructor(readonly options: FakeVsphereOptions) {}

  get username(): string {
    return this.options.username ?? 'administrator@vsphere.local';
  }

  get password(): string {
    return this.options.password ?? 'VMware1!-secret';
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Ends every session, as vCenter does when a session idles out. */
  expireSessions(): void {
    this.sessions.clear();
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (candidate) =>
        candidate.times > 0 && path.startsWith(candidate.path) && (candidate.method ?? method) === method,
    );
    if (fault) fault.times -= 1;
    return fault;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const sessionHeader = request.headers['vmware-api-session-id'];
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;
    this.requests.push({ method, path: `${url.pathname}${url.search}`, sessionId });
    const body = await readBody(request);

    const fault = this.takeFault(method, `${url.pathname}${url.search}`);
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 0));
    if (fault?.kind === 'status') return this.error(response, fault.status ?? 500, 'SERVICE_UNAVAILABLE');
    if (fault?.kind === 'malformed') {
      response.setHeader('content-type', 'application/json');
      response.end('{"value": [ {"vm": "vm-1", ');
      return;
    }
    if (fault?.kind === 'expire-session') this.expireSessions();

    const prefix = this.options.api === 'api' ? '/api' : '/rest';
    if (!url.pathname.startsWith(`${prefix}/`)) return this.error(response, 404, 'NOT_FOUND');
    const path = url.pathname.slice(prefix.length);

    if (method === 'POST' && (path === '/session' || path === '/com/vmware/cis/session')) {
      return this.login(request, response, path);
    }
    if (sessionId === undefined || !this.sessions.has(sessionId)) {
      return this.error(response, 401, 'UNAUTHENTICATED');
    }

    const filter = (name: string): string[] =>
      this.options.api === 'api' ? url.searchParams.getAll(name) : url.searchParams.getAll(`filter.${name}`);

    if (method === 'GET' && path === '/vcenter/datacenter') return this.send(response, this.data.datacenters);
    if (method === 'GET' && path === '/vcenter/folder') {
      const datacenters = filter('datacenters');
      const folders = this.data.folders
        .filter((folder) => datacenters.length === 0 || datacenters.includes(folder.datacenter))
        .map(({ folder, name }) => ({ folder, name, type: 'VIRTUAL_MACHINE' }));
      return this.send(response, folders);
    }
    if (method === 'GET' && path === '/vcenter/vm') return this.listVms(response, filter);
    const vmMatch = /^\/vcenter\/vm\/([^/]+)$/.exec(path);
    if (method === 'GET' && vmMatch) return this.vmInfo(response, decodeURIComponent(vmMatch[1]!));

    return this.tagging(response, method, path, url, body);
  }

  private login(request: IncomingMessage, response: ServerResponse, path: string): void {
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return this.error(response, 401, 'UNAUTHENTICATED');
    this.logins += 1;
    const id = randomBytes(16).toString('hex');
    this.sessions.add(id);
    if (path === '/session') {
      // POST /api/session returns 201 with the session id as a JSON string.
      response.statusCode = 201;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(id));
      return;
    }
    this.send(response, id);
  }

  private listVms(response: ServerResponse, filter: (name: string) => string[]): void {
    const datacenters = filter('datacenters');
    const folders = filter('folders');
    const powerStates = filter('power_states');
    const matching = this.data.vms.filter(
      (vm) =>
        (datacenters.length === 0 || datacenters.includes(vm.datacenter)) &&
        (folders.length === 0 || folders.includes(vm.folder)) &&
        (powerStates.length === 0 || powerStates.includes(vm.power_state)),
    );
    const limit = this.options.vmListLimit ?? 4000;
    if (matching.length > limit && this.options.overLimit === 'error') {
      return this.error(response, 500, 'UNABLE_TO_ALLOCATE_RESOURCE');
    }
    this.send(
      response,
      matching.slice(0, limit).map((vm) => ({
        vm: vm.vm,
        name: vm.name,
        power_state: vm.power_state,
        cpu_count: vm.cpu,
        memory_size_MiB: vm.memory_MiB,
      })),
    );
  }

  private async vmInfo(response: ServerResponse, id: string): Promise<void> {
    const vm = this.data.vms.find((candidate) => candidate.vm === id);
    if (!vm) return this.error(response, 404, 'NOT_FOUND');

    this.inFlightDetails += 1;
    this.maxInFlightDetails = Math.max(this.maxInFlightDetails, this.inFlightDetails);
    try {
      if (this.detailDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.detailDelayMs));
    } finally {
      this.inFlightDetails -= 1;
    }

    const disks = vm.disks.map((disk, index) => ({
      key: String(2000 + index),
      value: {
        label: disk.label,
        type: 'SCSI',
        ...(disk.capacity === undefined ? {} : { capacity: disk.capacity }),
        backing: { type: 'VMDK_FILE', vmdk_file: `[datastore1] ${vm.name}/${vm.name}_${index}.vmdk` },
      },
    }));
    this.send(response, {
      name: vm.name,
      power_state: vm.power_state,
      guest_OS: 'CENTOS_7_64',
      hardware: { version: 'VMX_14', upgrade_policy: 'NEVER', upgrade_status: 'NONE' },
      cpu: { count: vm.cpu, cores_per_socket: 1, hot_add_enabled: false, hot_remove_enabled: false },
      memory: { size_MiB: vm.memory_MiB, hot_add_enabled: false },
      // The /api form returns maps as JSON objects, the /rest form as lists of key/value pairs.
      disks:
        this.options.api === 'api' ? Object.fromEntries(disks.map((disk) => [disk.key, disk.value])) : disks,
    });
  }

  private tagging(response: ServerResponse, method: string, path: string, url: URL, body: string): void {
    const tagging = this.options.api === 'api' ? '/cis/tagging' : '/com/vmware/cis/tagging';
    const action = url.searchParams.get(this.options.api === 'api' ? 'action' : '~action');
    const idPrefix = this.options.api === 'api' ? '' : 'id:';

    if (method === 'POST' && path === `${tagging}/tag-association` && action === 'list-attached-tags') {
      const objectId = (JSON.parse(body) as { object_id?: { id?: string } }).object_id?.id;
      const vm = this.data.vms.find((candidate) => candidate.vm === objectId);
      return this.send(response, vm?.tags ?? []);
    }
    if (method === 'GET' && path === `${tagging}/category`) {
      return this.send(
        response,
        this.data.categories.map((category) => category.id),
      );
    }
    const category = new RegExp(`^${tagging}/category/${idPrefix}(.+)$`).exec(path);
    if (method === 'GET' && category) {
      const found = this.data.categories.find(
        (candidate) => candidate.id === decodeURIComponent(category[1]!),
      );
      if (!found) return this.error(response, 404, 'NOT_FOUND');
      return this.send(response, {
        ...found,
        description: '',
        cardinality: 'SINGLE',
        associable_types: ['VirtualMachine'],
        used_by: [],
      });
    }
    const tag = new RegExp(`^${tagging}/tag/${idPrefix}(.+)$`).exec(path);
    if (method === 'GET' && tag) {
      const found = this.data.tags.find((candidate) => candidate.id === decodeURIComponent(tag[1]!));
      if (!found) return this.error(response, 404, 'NOT_FOUND');
      return this.send(response, { ...found, description: '', used_by: [] });
    }
    this.error(response, 404, 'NOT_FOUND');
  }

  private send(response: ServerResponse, value: unknown): void {
    response.statusCode = 200;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(this.options.api === 'api' ? value : { value }));
  }

  /** Sends an error in the form of the API: `error_type` (/api) or a std.errors `type` (/rest). */
  private error(response: ServerResponse, status: number, type: string): void {
    response.statusCode = status;
    response.setHeader('content-type', 'application/json');
    const messages = [
      { id: `vapi.error.${type.toLowerCase()}`, default_message: `fake vCenter: ${type}`, args: [] },
    ];
    response.end(
      JSON.stringify(
        this.options.api === 'api'
          ? { error_type: type, messages }
          : { type: `com.vmware.vapi.std.errors.${type.toLowerCase()}`, value: { messages } },
      ),
    );
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Builds a VM with defaults: powered on, 2 vCPU, 4096 MiB, one 40 GiB disk, no tags. */
export function fakeVm(vm: string, overrides: Partial<FakeVm> = {}): FakeVm {
  return {
    vm,
    name: `name-${vm}`,
    power_state: 'POWERED_ON',
    cpu: 2,
    memory_MiB: 4096,
    disks: [{ label: 'Hard disk 1', capacity: 40 * 2 ** 30 }],
    datacenter: 'datacenter-1',
    folder: 'group-v4',
    tags: [],
    ...overrides,
  };
}
