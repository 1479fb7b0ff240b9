import { Decimal } from 'decimal.js';

import { addDays, dayOf } from '../billing/days.js';
import type { ChangeType, RunMode, VmStatus } from '../db/schema.js';

/**
 * Replays a planned demo history in chronological order and returns the rows
 * to insert: the final tenants, systems and VMs, and the adjustment logs and
 * discount changes that lead to them.
 *
 * The replay keeps every system's totals in exact decimals, so the rows hold
 * the invariants that billing and detect_resource_changes rely on:
 *  - a system's logs, in (detected_at, insertion) order, chain from totals of 0:
 *    each log's totals before equal the previous log's totals after, and the
 *    system's current totals equal the last log's totals after;
 *  - run_mode_changed logs chain the same way and end at the current run mode;
 *  - a tenant's discount changes chain and end at its current discount rate;
 *  - each VM's baseline (system and recorded size) equals its observation, so a
 *    detection run right after loading finds nothing to log. A deleted VM has no
 *    system and keeps its last system as observed_system_code, as
 *    removeLocalVm leaves it;
 *  - effective_date is the local day of the change plus one.
 * An event that breaks the plan (a VM changed before it is added, a change to a
 * system outside its lifetime, anything at or after `now`) throws an Error,
 * because it is a bug in the generator.
 */

/** vCPU cores, memory in GB and storage in GB. */
export interface VmSize {
  cpu: number;
  memory: string;
  storage: string;
}

export type DemoEvent =
  | { kind: 'vm_added'; at: Date; vm: string; system: string; size: VmSize }
  | { kind: 'vm_resized'; at: Date; vm: string; size: VmSize }
  | { kind: 'vm_reassigned'; at: Date; vm: string; system: string }
  | { kind: 'vm_removed'; at: Date; vm: string }
  | { kind: 'run_mode_changed'; at: Date; system: string; runMode: RunMode }
  | { kind: 'discount_changed'; at: Date; tenant: string; discountRate: string };

export interface TenantPlan {
  code: string;
  name: string;
  /** Rate in force before the tenant's first discount change. */
  initialDiscountRate: string;
  createdAt: Date;
}

export interface SystemPlan {
  code: string;
  tenantCode: string;
  name: string;
  /** Run mode before the system's first run_mode_changed event. */
  initialRunMode: RunMode;
  createdAt: Date;
  decommissionedAt: Date | null;
}

export interface VmPlan {
  externalId: string;
  name: string;
  /** Power state at the end of the history; a removed VM ends `deleted` instead. */
  powerStatus: 'running' | 'stopped';
}

export interface DemoTenantRow {
  code: string;
  name: string;
  discount_rate: string;
  created_at: Date;
}

export interface DemoSystemRow {
  code: string;
  tenant_code: string;
  name: string;
  run_mode: RunMode;
  status: 'active' | 'decommissioned';
  total_cpu: number;
  total_memory: string;
  total_storage: string;
  created_at: Date;
  decommissioned_at: Date | null;
}

export interface DemoVmRow {
  external_id: string;
  name: string;
  /** Recorded system (the billing baseline); null once the VM is deleted. */
  system_code: string | null;
  observed_system_code: string | null;
  /** Observed and recorded size, which are equal after the replay. */
  cpu: number;
  memory: string;
  storage: string;
  status: VmStatus;
  created_at: Date;
  /** Time of the VM's last change, when the CLI last wrote its observed state. */
  last_synced_at: Date;
}

export interface DemoAdjustmentRow {
  system_code: string;
  vm_external_id: string | null;
  change_type: ChangeType;
  cpu_before: number | null;
  memory_before: string | null;
  storage_before: string | null;
  cpu_after: number | null;
  memory_after: string | null;
  storage_after: string | null;
  run_mode_before: RunMode | null;
  run_mode_after: RunMode | null;
  total_cpu_before: number;
  total_memory_before: string;
  total_storage_before: string;
  total_cpu_after: number;
  total_memory_after: string;
  total_storage_after: string;
  detected_at: Date;
  effective_date: string;
}

export interface DemoDiscountChangeRow {
  tenant_code: string;
  discount_rate_before: string;
  discount_rate_after: string;
  changed_at: Date;
  effective_date: string;
}

export interface DemoRows {
  tenants: DemoTenantRow[];
  systems: DemoSystemRow[];
  vms: DemoVmRow[];
  /** In the order to insert them: by detected_at, then by the order they happened in. */
  adjustments: DemoAdjustmentRow[];
  discountChanges: DemoDiscountChangeRow[];
}

/** The columns of a log that describe the change itself, not the system's totals. */
type LogColumns = Pick<DemoAdjustmentRow, 'change_type' | 'vm_external_id'> &
  Partial<
    Pick<
      DemoAdjustmentRow,
      | 'cpu_before'
      | 'memory_before'
      | 'storage_before'
      | 'cpu_after'
      | 'memory_after'
      | 'storage_after'
      | 'run_mode_before'
      | 'run_mode_after'
    >
  >;

type EventOf<Kind extends DemoEvent['kind']> = Extract<DemoEvent, { kind: Kind }>;

/** A system's total vCPU cores, memory (GB) and storage (GB). */
interface Totals {
  cpu: number;
  memory: Decimal;
  storage: Decimal;
}

interface SystemState {
  plan: SystemPlan;
  runMode: RunMode;
  totals: Totals;
}

interface VmState {
  plan: VmPlan;
  /** Current system; null before the VM is added and after it is removed. */
  system: string | null;
  /** Last system the VM belonged to, kept after removal as its observed system. */
  observedSystem: string | null;
  size: VmSize | null;
  removed: boolean;
  createdAt: Date | null;
  lastChangedAt: Date | null;
}

export function replayHistory(input: {
  now: Date;
  timezone: string;
  tenants: readonly TenantPlan[];
  systems: readonly SystemPlan[];
  vms: readonly VmPlan[];
  events: readonly DemoEvent[];
}): DemoRows {
  const replay = new HistoryReplay(input.now, input.timezone, input.tenants, input.systems, input.vms);

  // Array.prototype.sort is stable, so events at the same instant keep their planned order.
  const events = [...input.events].sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const event of events) replay.apply(event);

  return replay.rows();
}

class HistoryReplay {
  readonly #discountRates: Map<string, string>;
  readonly #systems: Map<string, SystemState>;
  readonly #vms: Map<string, VmState>;
  readonly #adjustments: DemoAdjustmentRow[] = [];
  readonly #discountChanges: DemoDiscountChangeRow[] = [];

  constructor(
    private readonly now: Date,
    private readonly timezone: string,
    private readonly tenants: readonly TenantPlan[],
    systems: readonly SystemPlan[],
    vms: readonly VmPlan[],
  ) {
    this.#discountRates = new Map(tenants.map((tenant) => [tenant.code, tenant.initialDiscountRate]));
    this.#systems = new Map(
      systems.map((plan) => [
        plan.code,
        {
          plan,
          runMode: plan.initialRunMode,
          totals: { cpu: 0, memory: new Decimal(0), storage: new Decimal(0) },
        },
      ]),
    );
    this.#vms = new Map(
      vms.map((plan) => [
        plan.externalId,
        {
          plan,
          system: null,
          observedSystem: null,
          size: null,
          removed: false,
          createdAt: null,
          lastChangedAt: null,
        },
      ]),
    );
  }

  /** Applies one event; events must come in chronological order. */
  apply(event: DemoEvent): void {
    if (event.at.getTime() >= this.now.getTime()) {
      throw new Error(`demo plan has a ${event.kind} event at ${event.at.toISOString()}, not before now`);
    }

    switch (event.kind) {
      case 'discount_changed':
        return this.#changeDiscount(event);
      case 'run_mode_changed':
        return this.#changeRunMode(event);
      case 'vm_added':
        return this.#addVm(event);
      case 'vm_resized':
        return this.#resizeVm(event);
      case 'vm_reassigned':
        return this.#reassignVm(event);
      case 'vm_removed':
        return this.#removeVm(event);
    }
  }

  rows(): DemoRows {
    return {
      tenants: this.tenants.map((tenant) => ({
        code: tenant.code,
        name: tenant.name,
        discount_rate: this.#discountRates.get(tenant.code)!,
        created_at: tenant.createdAt,
      })),
      systems: [...this.#systems.values()].map(({ plan, runMode, totals }) => ({
        code: plan.code,
        tenant_code: plan.tenantCode,
        name: plan.name,
        run_mode: runMode,
        status: plan.decommissionedAt ? 'decommissioned' : 'active',
        total_cpu: totals.cpu,
        total_memory: totals.memory.toFixed(),
        total_storage: totals.storage.toFixed(),
        created_at: plan.createdAt,
        decommissioned_at: plan.decommissionedAt,
      })),
      vms: [...this.#vms.values()].map((vm) => {
        if (!vm.size || !vm.createdAt || !vm.lastChangedAt) {
          throw new Error(`demo plan never adds VM ${vm.plan.externalId}`);
        }
        return {
          external_id: vm.plan.externalId,
          name: vm.plan.name,
          system_code: vm.system,
          observed_system_code: vm.observedSystem,
          cpu: vm.size.cpu,
          memory: vm.size.memory,
          storage: vm.size.storage,
          status: vm.removed ? 'deleted' : vm.plan.powerStatus,
          created_at: vm.createdAt,
          last_synced_at: vm.lastChangedAt,
        };
      }),
      adjustments: this.#adjustments,
      discountChanges: this.#discountChanges,
    };
  }

  #changeDiscount(event: EventOf<'discount_changed'>): void {
    const before = this.#discountRates.get(event.tenant);
    if (before === undefined) throw new Error(`demo plan refers to unknown tenant ${event.tenant}`);
    if (before === event.discountRate) {
      throw new Error(`demo plan sets tenant ${event.tenant} to its current rate ${before}`);
    }

    this.#discountChanges.push({
      tenant_code: event.tenant,
      discount_rate_before: before,
      discount_rate_after: event.discountRate,
      changed_at: event.at,
      effective_date: this.#effectiveDate(event.at),
    });
    this.#discountRates.set(event.tenant, event.discountRate);
  }

  #changeRunMode(event: EventOf<'run_mode_changed'>): void {
    const system = this.#system(event.system);
    if (system.runMode === event.runMode) {
      throw new Error(`demo plan sets system ${event.system} to its current run mode ${event.runMode}`);
    }

    const columns = {
      change_type: 'run_mode_changed',
      vm_external_id: null,
      run_mode_before: system.runMode,
      run_mode_after: event.runMode,
    } as const;
    this.#log(event, system, columns, system.totals);
    system.runMode = event.runMode;
  }

  #addVm(event: EventOf<'vm_added'>): void {
    const vm = this.#vm(event.vm);
    if (vm.createdAt) throw new Error(`demo plan adds VM ${event.vm} twice`);
    const system = this.#system(event.system);

    const columns = { change_type: 'vm_added', vm_external_id: event.vm, ...sizeAfter(event.size) } as const;
    this.#log(event, system, columns, addSize(system.totals, event.size, 1));
    vm.system = event.system;
    vm.observedSystem = event.system;
    vm.size = event.size;
    vm.createdAt = event.at;
    vm.lastChangedAt = event.at;
  }

  #resizeVm(event: EventOf<'vm_resized'>): void {
    const { vm, system, size } = this.#liveVm(event);

    const columns = {
      change_type: 'vm_resized',
      vm_external_id: event.vm,
      ...sizeBefore(size),
      ...sizeAfter(event.size),
    } as const;
    this.#log(event, system, columns, addSize(addSize(system.totals, size, -1), event.size, 1));
    vm.size = event.size;
    vm.lastChangedAt = event.at;
  }

  #reassignVm(event: EventOf<'vm_reassigned'>): void {
    const { vm, system, size } = this.#liveVm(event);
    const target = this.#system(event.system);
    if (target === system || target.plan.tenantCode !== system.plan.tenantCode) {
      throw new Error(`demo plan reassigns VM ${event.vm} to ${event.system}, not a sibling system`);
    }

    // Detection logs a reassignment in both systems, the system the VM leaves first.
    const columns = {
      change_type: 'vm_reassigned',
      vm_external_id: event.vm,
      ...sizeBefore(size),
      ...sizeAfter(size),
    } as const;
    this.#log(event, system, columns, addSize(system.totals, size, -1));
    this.#log(event, target, columns, addSize(target.totals, size, 1));
    vm.system = event.system;
    vm.observedSystem = event.system;
    vm.lastChangedAt = event.at;
  }

  #removeVm(event: EventOf<'vm_removed'>): void {
    const { vm, system, size } = this.#liveVm(event);

    const columns = { change_type: 'vm_removed', vm_external_id: event.vm, ...sizeBefore(size) } as const;
    this.#log(event, system, columns, addSize(system.totals, size, -1));
    vm.system = null;
    vm.removed = true;
    vm.lastChangedAt = event.at;
  }

  /** Appends a log that moves `system` from its current totals to `after`. */
  #log(event: DemoEvent, system: SystemState, columns: LogColumns, after: Totals): void {
    const at = event.at.getTime();
    const { createdAt, decommissionedAt } = system.plan;
    if (at <= createdAt.getTime() || (decommissionedAt && at >= decommissionedAt.getTime())) {
      throw new Error(
        `demo plan has a ${event.kind} event at ${event.at.toISOString()} outside the lifetime of system ${system.plan.code}`,
      );
    }

    const before = system.totals;
    this.#adjustments.push({
      system_code: system.plan.code,
      cpu_before: null,
      memory_before: null,
      storage_before: null,
      cpu_after: null,
      memory_after: null,
      storage_after: null,
      run_mode_before: null,
      run_mode_after: null,
      ...columns,
      total_cpu_before: before.cpu,
      total_memory_before: before.memory.toFixed(),
      total_storage_before: before.storage.toFixed(),
      total_cpu_after: after.cpu,
      total_memory_after: after.memory.toFixed(),
      total_storage_after: after.storage.toFixed(),
      detected_at: event.at,
      effective_date: this.#effectiveDate(event.at),
    });
    system.totals = after;
  }

  /** Returns the first billing day that uses a change made at `at`: the next local day. */
  #effectiveDate(at: Date): string {
    return addDays(dayOf(at, this.timezone), 1);
  }

  #system(code: string): SystemState {
    const system = this.#systems.get(code);
    if (!system) throw new Error(`demo plan refers to unknown system ${code}`);
    return system;
  }

  #vm(externalId: string): VmState {
    const vm = this.#vms.get(externalId);
    if (!vm) throw new Error(`demo plan refers to unknown VM ${externalId}`);
    return vm;
  }

  /** Returns a VM that is in a system now, with that system and its recorded size. */
  #liveVm(event: EventOf<'vm_resized' | 'vm_reassigned' | 'vm_removed'>) {
    const vm = this.#vm(event.vm);
    if (!vm.system || !vm.size || vm.removed) {
      throw new Error(
        `demo plan has a ${event.kind} event for VM ${event.vm}, which is not in a system then`,
      );
    }
    return { vm, system: this.#system(vm.system), size: vm.size };
  }
}

function sizeBefore(size: VmSize) {
  return { cpu_before: size.cpu, memory_before: size.memory, storage_before: size.storage };
}

function sizeAfter(size: VmSize) {
  return { cpu_after: size.cpu, memory_after: size.memory, storage_after: size.storage };
}

/** Adds (`sign` 1) or subtracts (`sign` -1) a VM's size to or from a system's totals. */
function addSize(totals: Totals, size: VmSize, sign: 1 | -1): Totals {
  const next = {
    cpu: totals.cpu + sign * size.cpu,
    memory: totals.memory.plus(new Decimal(size.memory).times(sign)),
    storage: totals.storage.plus(new Decimal(size.storage).times(sign)),
  };
  if (next.cpu < 0 || next.memory.isNegative() || next.storage.isNegative()) {
    throw new Error('demo plan takes a system total below zero');
  }
  return next;
}
