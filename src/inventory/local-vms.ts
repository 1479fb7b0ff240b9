import type { Db } from '../db/database.js';
import { InformationSystemRepository } from '../db/repositories/information-system.repository.js';
import { VirtualMachineRepository } from '../db/repositories/virtual-machine.repository.js';
import type { InformationSystem, VirtualMachine } from '../db/schema.js';
import { DomainError } from '../errors.js';
import {
  detectResourceChanges,
  lockAdjustments,
  type DetectionResult,
} from '../monitoring/detect-resource-changes.js';
import type { ChangeContext } from './tenants.js';
import { parseCode, parseCpu, parseExternalId, parseName, parseSize } from './validation.js';

/**
 * The product's own inventory: VMs kept in its database and changed through
 * the CLI and API. Each change updates the VM's observed state and runs change
 * detection for that VM in the same transaction, so the adjustment is logged
 * at once and billed from the next day.
 */

export const LOCAL_PROVIDER = 'local';

export interface LocalVmChange {
  vm: VirtualMachine;
  detection: DetectionResult;
}

async function requireActiveSystem(db: Db, value: unknown, field: string): Promise<InformationSystem> {
  const code = parseCode(value, field);
  const system = await new InformationSystemRepository(db).getByCode(code);
  if (!system) throw new DomainError('system_not_found', { code }, field);
  if (system.decommissioned_at) {
    throw new DomainError(
      'system_decommissioned',
      { code, at: system.decommissioned_at.toISOString() },
      field,
    );
  }
  return system;
}

async function requireLocalVm(db: Db, value: unknown): Promise<VirtualMachine> {
  const externalId = parseExternalId(value);
  const vm = await new VirtualMachineRepository(db).getByExternalIdForUpdate(LOCAL_PROVIDER, externalId);
  if (!vm)
    throw new DomainError(
      'vm_not_found',
      { external_id: externalId, provider: LOCAL_PROVIDER },
      'external_id',
    );
  if (vm.status === 'deleted')
    throw new DomainError('vm_deleted', { external_id: externalId }, 'external_id');
  return vm;
}

export async function addLocalVm(
  db: Db,
  input: {
    external_id: unknown;
    name: unknown;
    system?: unknown;
    cpu: unknown;
    memory: unknown;
    storage: unknown;
  },
  context: ChangeContext,
): Promise<LocalVmChange> {
  const externalId = parseExternalId(input.external_id);
  const name = parseName(input.name, 'name', 255);
  const cpu = parseCpu(input.cpu);
  const memory = parseSize(input.memory, 'memory');
  const storage = parseSize(input.storage, 'storage');

  return db.transaction().execute(async (trx) => {
    // The adjustment lock comes before any row lock, in the order detection takes them.
    await lockAdjustments(trx);
    const system =
      input.system === undefined || input.system === null
        ? null
        : await requireActiveSystem(trx, input.system, 'system');
    const vms = new VirtualMachineRepository(trx);
    if (await vms.getByExternalIdForUpdate(LOCAL_PROVIDER, externalId)) {
      throw new DomainError(
        'vm_exists',
        { external_id: externalId, provider: LOCAL_PROVIDER },
        'external_id',
      );
    }

    const now = context.now ?? new Date();
    const vm = await vms.create({
      provider: LOCAL_PROVIDER,
      external_id: externalId,
      name,
      observed_system_id: system?.id ?? null,
      observed_cpu: cpu,
      observed_memory: memory,
      observed_storage: storage,
      status: 'running',
      created_at: now,
      last_synced_at: now,
    });
    return detectFor(trx, vm.id, context, now);
  });
}

export async function resizeLocalVm(
  db: Db,
  input: { external_id: unknown; cpu?: unknown; memory?: unknown; storage?: unknown },
  context: ChangeContext,
): Promise<LocalVmChange> {
  const observed: { observed_cpu?: number; observed_memory?: string; observed_storage?: string } = {};
  if (input.cpu !== undefined) observed.observed_cpu = parseCpu(input.cpu);
  if (input.memory !== undefined) observed.observed_memory = parseSize(input.memory, 'memory');
  if (input.storage !== undefined) observed.observed_storage = parseSize(input.storage, 'storage');
  if (Object.keys(observed).length === 0) {
    throw new DomainError('nothing_to_change', { options: '--cpu, --memory, --storage' });
  }

  return db.transaction().execute(async (trx) => {
    await lockAdjustments(trx);
    const vm = await requireLocalVm(trx, input.external_id);
    const now = context.now ?? new Date();
    await new VirtualMachineRepository(trx).updateObserved(vm.id, observed, now);
    return detectFor(trx, vm.id, context, now);
  });
}

export async function assignLocalVm(
  db: Db,
  input: { external_id: unknown; system: unknown },
  context: ChangeContext,
): Promise<LocalVmChange> {
  return db.transaction().execute(async (trx) => {
    await lockAdjustments(trx);
    const vm = await requireLocalVm(trx, input.external_id);
    const system = await requireActiveSystem(trx, input.system, 'system');
    const now = context.now ?? new Date();
    await new VirtualMachineRepository(trx).updateObserved(vm.id, { observed_system_id: system.id }, now);
    return detectFor(trx, vm.id, context, now);
  });
}

/**
 * Resizes a VM and/or assigns it to a system in one transaction, so that a
 * rejected part leaves nothing changed and one detection run logs every change.
 */
export async function updateLocalVm(
  db: Db,
  input: { external_id: unknown; cpu?: unknown; memory?: unknown; storage?: unknown; system?: unknown },
  context: ChangeContext,
): Promise<LocalVmChange> {
  const observed: {
    observed_cpu?: number;
    observed_memory?: string;
    observed_storage?: string;
    observed_system_id?: number;
  } = {};
  if (input.cpu !== undefined) observed.observed_cpu = parseCpu(input.cpu);
  if (input.memory !== undefined) observed.observed_memory = parseSize(input.memory, 'memory');
  if (input.storage !== undefined) observed.observed_storage = parseSize(input.storage, 'storage');
  if (Object.keys(observed).length === 0 && input.system === undefined) {
    throw new DomainError('nothing_to_change', { options: 'cpu, memory, storage, system' });
  }

  return db.transaction().execute(async (trx) => {
    await lockAdjustments(trx);
    const vm = await requireLocalVm(trx, input.external_id);
    if (input.system !== undefined) {
      observed.observed_system_id = (await requireActiveSystem(trx, input.system, 'system')).id;
    }
    const now = context.now ?? new Date();
    await new VirtualMachineRepository(trx).updateObserved(vm.id, observed, now);
    return detectFor(trx, vm.id, context, now);
  });
}

/** Marks a VM deleted; detection removes it from its system's totals. */
export async function removeLocalVm(
  db: Db,
  input: { external_id: unknown },
  context: ChangeContext,
): Promise<LocalVmChange> {
  return db.transaction().execute(async (trx) => {
    await lockAdjustments(trx);
    const vm = await requireLocalVm(trx, input.external_id);
    const now = context.now ?? new Date();
    await new VirtualMachineRepository(trx).updateObserved(vm.id, { status: 'deleted' }, now);
    return detectFor(trx, vm.id, context, now);
  });
}

async function detectFor(trx: Db, vmId: number, context: ChangeContext, now: Date): Promise<LocalVmChange> {
  const detection = await detectResourceChanges(trx, { timezone: context.timezone, now, vmIds: [vmId] });
  const vm = await trx
    .selectFrom('virtual_machines')
    .selectAll()
    .where('id', '=', vmId)
    .executeTakeFirstOrThrow();
  return { vm, detection };
}
