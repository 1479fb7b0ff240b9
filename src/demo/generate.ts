import { DateTime, IANAZone } from 'luxon';

import { addDays, dayOf } from '../billing/days.js';
import type { RunMode } from '../db/schema.js';
import { DomainError } from '../errors.js';
import {
  DEMO_DISCOUNT_RATES,
  DEMO_FLAVORS,
  DEMO_ROLES,
  DEMO_TENANTS,
  type CatalogTenant,
} from './catalog.js';
import { SeededRandom } from './random.js';
import {
  replayHistory,
  type DemoEvent,
  type DemoRows,
  type SystemPlan,
  type TenantPlan,
  type VmPlan,
  type VmSize,
} from './replay.js';

/**
 * Plans the demo history of a municipal government cloud: which systems are
 * created when, which VMs they get, and which later changes happen, then
 * replays it into rows. The same options (seed, now, zone, history length)
 * always give the same rows.
 *
 * The shape of the history:
 *  - every tenant is onboarded between 08:30 and 08:49 on the first day;
 *  - about 80 % of the systems are created in the first three days and the
 *    rest later;
 *  - one system, created a few days before `now`, has no VMs yet;
 *  - each system gets most of its VMs within hours of its creation and the rest
 *    over the following weeks;
 *  - later changes are VM resizes, reassignments to a sibling system of the same
 *    tenant, VM removals, run mode changes and discount changes;
 *  - two systems are decommissioned after all their VMs were removed.
 * Changes fall in office hours (09:00 to 18:00 local) where the allowed range
 * contains office hours, at any time otherwise.
 */

export const DEFAULT_DEMO_SEED = 1;
export const DEFAULT_HISTORY_DAYS = 60;
/** One week: three days of onboarding, then room for later systems, changes and decommissioning. */
export const MIN_HISTORY_DAYS = 7;
/** Ten years, which keeps the billing of the history (150 records a day) a bounded run. */
export const MAX_HISTORY_DAYS = 3660;

export const DEMO_VM_COUNT = 1000;
const MIN_VMS_PER_SYSTEM = 2;
const EARLY_SYSTEM_SHARE = 0.8;
const SEVEN_BY_24_SHARE = 0.8;
const STOPPED_VM_SHARE = 0.07;
const DECOMMISSIONED_SYSTEMS = 2;
const RUN_MODE_CHANGES = 8;
const RESIZED_VMS = 120;
/** Resized VMs that are resized a second time. */
const RESIZED_TWICE = 15;
const REASSIGNED_VMS = 10;
/** VMs removed from active systems, besides the VMs of decommissioned systems. */
const REMOVED_VMS = 30;
/** Discount changes of each tenant whose rate changes: one tenant changes twice, four change once. */
const DISCOUNT_CHANGES = [2, 1, 1, 1, 1];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Shortest span after a VM is added in which it may get later changes. */
const MIN_CHANGE_WINDOW = 2 * HOUR;

export interface DemoOptions {
  /** End of the history: every generated timestamp is before it. */
  now: Date;
  /** IANA zone of the billing day, which sets office hours and effective dates. */
  timezone: string;
  /** Seed of the pseudo-random generator, an integer from 0 to 2^32 - 1. */
  seed?: number;
  /** Days of history before the current local day. */
  historyDays?: number;
}

export interface DemoData extends DemoRows {
  /** Local day on which the tenants and the first systems are created. */
  firstDay: string;
}

interface SystemDraft {
  tenant: CatalogTenant;
  code: string;
  name: string;
  createdAt: Date;
  decommissionedAt: Date | null;
  finalRunMode: RunMode;
  runModeChangedAt: Date | null;
  /** Relative share of the VMs this system gets. */
  vmWeight: number;
  awaitsDeployment: boolean;
}

interface VmDraft {
  system: SystemDraft;
  role: string;
  addedAt: Date;
  size: VmSize;
  powerStatus: 'running' | 'stopped';
  /** End of the span in which the VM's changes happen: its removal, else now. */
  windowEnd: Date;
  removedAt: Date | null;
  /** Changes after the VM is added, other than its removal. */
  changes: (
    { kind: 'vm_resized'; at: Date; size: VmSize } | { kind: 'vm_reassigned'; at: Date; system: string }
  )[];
  externalId: string;
  name: string;
}

/** Plans and replays the demo history; throws DomainError for an invalid seed or history length. */
export function generateDemoData(options: DemoOptions): DemoData {
  const { now, timezone, seed, historyDays } = validateOptions(options);
  const random = new SeededRandom(seed);
  const firstDay = addDays(dayOf(now, timezone), -historyDays);
  const calendar = new DemoCalendar(random, timezone, firstDay);

  const tenants: TenantPlan[] = DEMO_TENANTS.map((tenant, index) => ({
    code: tenant.code,
    name: tenant.name,
    initialDiscountRate: random.pick(DEMO_DISCOUNT_RATES),
    createdAt: calendar.at(0, 8, 30 + index),
  }));

  const systems = planSystems(random, calendar, now, historyDays);
  const vms = planVms(random, calendar, now, systems);
  const events = [
    ...planDiscountChanges(random, calendar, now, historyDays, tenants),
    ...runModeEvents(systems),
    ...vmEvents(vms),
  ];

  const systemPlans: SystemPlan[] = systems.map((system) => ({
    code: system.code,
    tenantCode: system.tenant.code,
    name: system.name,
    initialRunMode: system.runModeChangedAt ? otherRunMode(system.finalRunMode) : system.finalRunMode,
    createdAt: system.createdAt,
    decommissionedAt: system.decommissionedAt,
  }));
  const vmPlans: VmPlan[] = vms.map((vm) => ({
    externalId: vm.externalId,
    name: vm.name,
    powerStatus: vm.powerStatus,
  }));

  const rows = replayHistory({ now, timezone, tenants, systems: systemPlans, vms: vmPlans, events });
  return { firstDay, ...rows };
}

function validateOptions(options: DemoOptions) {
  const { now, timezone } = options;
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new RangeError(`invalid demo option now=${String(now)}: pass a valid Date`);
  }
  if (!IANAZone.isValidZone(timezone)) {
    throw new RangeError(`invalid time zone "${timezone}": use an IANA name such as Asia/Shanghai`);
  }

  const historyDays = options.historyDays ?? DEFAULT_HISTORY_DAYS;
  if (!Number.isInteger(historyDays) || historyDays < MIN_HISTORY_DAYS || historyDays > MAX_HISTORY_DAYS) {
    throw new DomainError(
      'invalid_history_days',
      { value: String(historyDays), min: MIN_HISTORY_DAYS, max: MAX_HISTORY_DAYS },
      'history_days',
    );
  }
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new DomainError('invalid_seed', { value: String(seed), max: 0xffff_ffff }, 'seed');
  }
  return { now, timezone, seed, historyDays };
}

/** Local times of the history, whose day 0 is `firstDay`. */
class DemoCalendar {
  constructor(
    private readonly random: SeededRandom,
    private readonly zone: string,
    private readonly firstDay: string,
  ) {}

  /** Returns the instant of the local time `hour:minute:second` on day `dayIndex` of the history. */
  at(dayIndex: number, hour = 0, minute = 0, second = 0): Date {
    return DateTime.fromISO(addDays(this.firstDay, dayIndex), { zone: this.zone })
      .set({ hour, minute, second })
      .toJSDate();
  }

  /** Returns a random instant in office hours on day `dayIndex` of the history. */
  officeTimeOn(dayIndex: number): Date {
    return this.at(
      dayIndex,
      this.random.integer(9, 17),
      this.random.integer(0, 59),
      this.random.integer(0, 59),
    );
  }

  /**
   * Returns a random instant strictly between `from` and `to`. It draws a
   * uniform instant and moves it to a random office-hour time of the same local
   * day, unless that time falls outside the range.
   */
  between(from: Date, to: Date): Date {
    const start = from.getTime();
    const span = to.getTime() - start;
    if (span < 2) {
      throw new Error(`demo plan needs an instant between ${from.toISOString()} and ${to.toISOString()}`);
    }
    const uniform = start + 1 + Math.floor(this.random.next() * (span - 1));
    const officeTime = DateTime.fromMillis(uniform, { zone: this.zone })
      .set({
        hour: this.random.integer(9, 17),
        minute: this.random.integer(0, 59),
        second: this.random.integer(0, 59),
        millisecond: 0,
      })
      .toMillis();
    return new Date(officeTime > start && officeTime < to.getTime() ? officeTime : uniform);
  }
}

function planSystems(
  random: SeededRandom,
  calendar: DemoCalendar,
  now: Date,
  historyDays: number,
): SystemDraft[] {
  const systems: SystemDraft[] = [];
  for (const tenant of DEMO_TENANTS) {
    for (const [abbreviation, name] of tenant.systems) {
      const early = random.chance(EARLY_SYSTEM_SHARE);
      const day = early ? random.integer(0, 2) : random.integer(3, historyDays - 2);
      systems.push({
        tenant,
        code: `${tenant.code}-${abbreviation}-01`,
        name,
        createdAt: calendar.officeTimeOn(day),
        decommissionedAt: null,
        finalRunMode: random.chance(SEVEN_BY_24_SHARE) ? '7x24' : '5x8',
        runModeChangedAt: null,
        // Squaring skews the weights (0.3 to 3 times the tenant's scale), so most systems are small.
        vmWeight: tenant.scale * (0.3 + 2.7 * random.next() ** 2),
        awaitsDeployment: false,
      });
    }
  }

  // One system registered a few days ago whose VMs are not provisioned yet:
  // billing gives it zero-amount records.
  const pending = random.pick(systems);
  pending.awaitsDeployment = true;
  pending.createdAt = calendar.officeTimeOn(Math.max(1, historyDays - random.integer(4, 6)));

  // Decommissioned systems are created on the first two days, so their initial
  // VMs (at most 10 minutes apart) are all added before the earliest
  // decommissioning on day 3. They come from tenants that keep other systems,
  // one per tenant.
  const firstDaysEnd = calendar.at(2);
  const candidates = random.shuffle(
    systems.filter(
      (system) =>
        !system.awaitsDeployment && system.createdAt < firstDaysEnd && system.tenant.systems.length >= 4,
    ),
  );
  const decommissionedTenants = new Set<string>();
  for (const system of candidates) {
    if (decommissionedTenants.size === DECOMMISSIONED_SYSTEMS) break;
    if (decommissionedTenants.has(system.tenant.code)) continue;
    decommissionedTenants.add(system.tenant.code);
    system.decommissionedAt = calendar.between(
      calendar.at(Math.max(3, historyDays - 20)),
      calendar.at(historyDays - 2),
    );
  }

  const active = systems.filter((system) => !system.decommissionedAt && !system.awaitsDeployment);
  if (!systems.some((system) => system.finalRunMode === '5x8')) random.pick(active).finalRunMode = '5x8';
  for (const system of random.shuffle(active).slice(0, RUN_MODE_CHANGES)) {
    system.runModeChangedAt = calendar.between(new Date(system.createdAt.getTime() + DAY), now);
  }
  return systems;
}

function planVms(random: SeededRandom, calendar: DemoCalendar, now: Date, systems: SystemDraft[]): VmDraft[] {
  const deployed = systems.filter((system) => !system.awaitsDeployment);
  const counts = new Map(deployed.map((system) => [system, MIN_VMS_PER_SYSTEM]));
  for (let i = deployed.length * MIN_VMS_PER_SYSTEM; i < DEMO_VM_COUNT; i += 1) {
    const system = random.pickWeighted(deployed, (candidate) => candidate.vmWeight);
    counts.set(system, counts.get(system)! + 1);
  }

  const vms: VmDraft[] = [];
  for (const system of deployed) {
    const count = counts.get(system)!;
    // A decommissioned system gets all its VMs at the start, so none arrives after its removal.
    const initialCount = system.decommissionedAt
      ? count
      : Math.max(MIN_VMS_PER_SYSTEM, Math.round(count * (0.65 + 0.25 * random.next())));
    let deployedAt = system.createdAt.getTime();

    for (let index = 0; index < count; index += 1) {
      const role =
        index === 0
          ? DEMO_ROLES[0]!
          : index === 1
            ? DEMO_ROLES.find((candidate) => candidate.name === 'db')!
            : random.pickWeighted(DEMO_ROLES, (candidate) => candidate.weight);
      const flavorName = random.pick(role.flavors);
      const flavor = DEMO_FLAVORS.find((candidate) => candidate.name === flavorName)!;

      let addedAt: Date;
      if (index < initialCount) {
        // The initial deployment: one VM every 1 to 10 minutes after the system is created.
        deployedAt += random.integer(60, 600) * 1000;
        addedAt = new Date(deployedAt);
      } else {
        addedAt = calendar.between(new Date(system.createdAt.getTime() + DAY), now);
      }

      vms.push({
        system,
        role: role.name,
        addedAt,
        size: { cpu: flavor.cpu, memory: flavor.memory, storage: String(random.pick(role.storage)) },
        powerStatus: random.chance(STOPPED_VM_SHARE) ? 'stopped' : 'running',
        windowEnd: now,
        removedAt: null,
        changes: [],
        externalId: '',
        name: '',
      });
    }
  }

  planVmChanges(random, calendar, now, systems, vms);

  // External ids and names follow the order in which the VMs were created.
  vms.sort((a, b) => a.addedAt.getTime() - b.addedAt.getTime());
  const roleCounters = new Map<string, number>();
  vms.forEach((vm, index) => {
    const key = `${vm.system.code}-${vm.role}`;
    const number = (roleCounters.get(key) ?? 0) + 1;
    roleCounters.set(key, number);
    vm.externalId = `vm-${String(index + 1).padStart(6, '0')}`;
    vm.name = `${key}-${String(number).padStart(2, '0')}`;
  });
  return vms;
}

/** Plans removals first, because a VM's other changes happen before its removal. */
function planVmChanges(
  random: SeededRandom,
  calendar: DemoCalendar,
  now: Date,
  systems: SystemDraft[],
  vms: VmDraft[],
): void {
  const remove = (vm: VmDraft, at: Date) => {
    vm.removedAt = at;
    vm.windowEnd = at;
  };

  for (const vm of vms) {
    const decommissionedAt = vm.system.decommissionedAt;
    if (decommissionedAt) {
      // Operators delete a system's VMs during its last day before decommissioning it.
      const from = Math.max(vm.addedAt.getTime(), decommissionedAt.getTime() - DAY);
      remove(vm, calendar.between(new Date(from), decommissionedAt));
    }
  }

  const changeable = () =>
    vms.filter((vm) => vm.windowEnd.getTime() - vm.addedAt.getTime() >= MIN_CHANGE_WINDOW);
  const removable = changeable().filter((vm) => !vm.removedAt);
  for (const vm of random.shuffle(removable).slice(0, REMOVED_VMS)) {
    remove(vm, calendar.between(vm.addedAt, now));
  }

  const resizable = random.shuffle(changeable()).slice(0, RESIZED_VMS);
  resizable.forEach((vm, index) => {
    const times = index < RESIZED_TWICE ? 2 : 1;
    const at = Array.from({ length: times }, () => calendar.between(vm.addedAt, vm.windowEnd));
    at.sort((a, b) => a.getTime() - b.getTime());
    let size = vm.size;
    for (const instant of at) {
      size = resizedSize(random, size);
      vm.changes.push({ kind: 'vm_resized', at: instant, size });
    }
  });

  // A VM moves to another live system of its tenant that exists at the time of the move.
  let reassigned = 0;
  const movable = changeable().filter((vm) => !vm.system.decommissionedAt);
  for (const vm of random.shuffle(movable)) {
    if (reassigned === REASSIGNED_VMS) break;
    const at = calendar.between(vm.addedAt, vm.windowEnd);
    const targets = systems.filter(
      (system) =>
        system.tenant === vm.system.tenant &&
        system !== vm.system &&
        !system.decommissionedAt &&
        !system.awaitsDeployment &&
        system.createdAt < at,
    );
    if (targets.length === 0) continue;
    vm.changes.push({ kind: 'vm_reassigned', at, system: random.pick(targets).code });
    reassigned += 1;
  }
}

/** Returns a different size: usually one flavor up, sometimes one down, and/or a larger disk. */
function resizedSize(random: SeededRandom, size: VmSize): VmSize {
  const index = DEMO_FLAVORS.findIndex((flavor) => flavor.cpu === size.cpu && flavor.memory === size.memory);
  const storage = Number(size.storage);
  // 60 % change the flavor, 25 % grow the disk, 15 % do both. A disk already
  // at 2000 GB stays, and the flavor changes instead.
  const draw = random.next();
  const growDisk = draw >= 0.6 && storage < 2000;
  const changeFlavor = draw < 0.6 || draw >= 0.85 || !growDisk;

  let flavor = DEMO_FLAVORS[index]!;
  if (changeFlavor) {
    const up = index === 0 || (index < DEMO_FLAVORS.length - 1 && random.chance(0.8));
    flavor = DEMO_FLAVORS[up ? index + 1 : index - 1]!;
  }
  const newStorage = growDisk ? Math.min(2000, storage + random.pick([50, 100, 200, 500])) : storage;
  return { cpu: flavor.cpu, memory: flavor.memory, storage: String(newStorage) };
}

function planDiscountChanges(
  random: SeededRandom,
  calendar: DemoCalendar,
  now: Date,
  historyDays: number,
  tenants: TenantPlan[],
): DemoEvent[] {
  const events: DemoEvent[] = [];
  const from = calendar.at(Math.min(5, historyDays - 1));
  const changing = random.shuffle(tenants).slice(0, DISCOUNT_CHANGES.length);

  changing.forEach((tenant, index) => {
    const times = Array.from({ length: DISCOUNT_CHANGES[index]! }, () => calendar.between(from, now));
    times.sort((a, b) => a.getTime() - b.getTime());
    let rate = tenant.initialDiscountRate;
    for (const at of times) {
      rate = random.pick(DEMO_DISCOUNT_RATES.filter((candidate) => candidate !== rate));
      events.push({ kind: 'discount_changed', at, tenant: tenant.code, discountRate: rate });
    }
  });
  return events;
}

function runModeEvents(systems: SystemDraft[]): DemoEvent[] {
  return systems.flatMap((system): DemoEvent[] =>
    system.runModeChangedAt
      ? [
          {
            kind: 'run_mode_changed',
            at: system.runModeChangedAt,
            system: system.code,
            runMode: system.finalRunMode,
          },
        ]
      : [],
  );
}

/** Lists each VM's events in its own order: added, changes by time, removed. */
function vmEvents(vms: VmDraft[]): DemoEvent[] {
  return vms.flatMap((vm) => {
    const events: DemoEvent[] = [
      { kind: 'vm_added', at: vm.addedAt, vm: vm.externalId, system: vm.system.code, size: vm.size },
    ];
    const changes = [...vm.changes].sort((a, b) => a.at.getTime() - b.at.getTime());
    for (const change of changes) events.push({ ...change, vm: vm.externalId });
    if (vm.removedAt) events.push({ kind: 'vm_removed', at: vm.removedAt, vm: vm.externalId });
    return events;
  });
}

function otherRunMode(runMode: RunMode): RunMode {
  return runMode === '7x24' ? '5x8' : '7x24';
}
