import { addDays, dayOf } from '../billing/days.js';
import type { Db } from '../db/database.js';
import { AdjustmentLogRepository } from '../db/repositories/adjustment-log.repository.js';
import { InformationSystemRepository } from '../db/repositories/information-system.repository.js';
import { TenantRepository } from '../db/repositories/tenant.repository.js';
import type { InformationSystem } from '../db/schema.js';
import { DomainError, isUniqueViolation } from '../errors.js';
import { lockAdjustments } from '../monitoring/detect-resource-changes.js';
import type { ChangeContext } from './tenants.js';
import { parseCode, parseName, parseRunMode } from './validation.js';

export async function addSystem(
  db: Db,
  input: { code: unknown; tenant: unknown; name: unknown; run_mode: unknown },
  context: ChangeContext,
): Promise<InformationSystem> {
  const code = parseCode(input.code, 'code');
  const tenantCode = parseCode(input.tenant, 'tenant');
  const name = parseName(input.name, 'name');
  const runMode = parseRunMode(input.run_mode);

  const tenant = await new TenantRepository(db).getByCode(tenantCode);
  if (!tenant) throw new DomainError('tenant_not_found', { code: tenantCode }, 'tenant');

  const systems = new InformationSystemRepository(db);
  if (await systems.getByCode(code)) throw new DomainError('system_exists', { code }, 'code');
  return systems
    .create({ tenant_id: tenant.id, code, name, run_mode: runMode, created_at: context.now ?? new Date() })
    .catch((error: unknown) => {
      // A concurrent add of the same code passes the check above and fails here.
      if (isUniqueViolation(error)) throw new DomainError('system_exists', { code }, 'code');
      throw error;
    });
}

/** Changes a system's run mode from the next billing day on, logged as a run_mode_changed adjustment. */
export async function setSystemRunMode(
  db: Db,
  input: { code: unknown; run_mode: unknown },
  context: ChangeContext,
): Promise<{ system: InformationSystem; effective_date: string }> {
  const code = parseCode(input.code, 'code');
  const runMode = parseRunMode(input.run_mode);

  return db.transaction().execute(async (trx) => {
    await lockAdjustments(trx);
    const systems = new InformationSystemRepository(trx);
    const system = await systems.getByCodeForUpdate(code);
    if (!system) throw new DomainError('system_not_found', { code }, 'code');
    if (system.decommissioned_at) {
      throw new DomainError(
        'system_decommissioned',
        { code, at: system.decommissioned_at.toISOString() },
        'code',
      );
    }
    if (system.run_mode === runMode)
      throw new DomainError('run_mode_unchanged', { code, value: runMode }, 'run_mode');

    const now = context.now ?? new Date();
    const effectiveDate = addDays(dayOf(now, context.timezone), 1);
    await new AdjustmentLogRepository(trx).create({
      information_system_id: system.id,
      virtual_machine_id: null,
      change_type: 'run_mode_changed',
      run_mode_before: system.run_mode,
      run_mode_after: runMode,
      total_cpu_before: system.total_cpu,
      total_memory_before: system.total_memory,
      total_storage_before: system.total_storage,
      total_cpu_after: system.total_cpu,
      total_memory_after: system.total_memory,
      total_storage_after: system.total_storage,
      detected_at: now,
      effective_date: effectiveDate,
    });
    const updated = await systems.updateRunMode(system.id, runMode);
    return { system: updated, effective_date: effectiveDate };
  });
}

/** Marks a system decommissioned: it is billed for the current day and not after. */
export async function decommissionSystem(db: Db, input: { code: unknown }, context: ChangeContext) {
  const code = parseCode(input.code, 'code');

  return db.transaction().execute(async (trx) => {
    const systems = new InformationSystemRepository(trx);
    const system = await systems.getByCodeForUpdate(code);
    if (!system) throw new DomainError('system_not_found', { code }, 'code');
    if (system.decommissioned_at) {
      throw new DomainError(
        'system_decommissioned',
        { code, at: system.decommissioned_at.toISOString() },
        'code',
      );
    }

    const now = context.now ?? new Date();
    const updated = await systems.decommission(system.id, now);
    return { system: updated, last_billed_date: dayOf(now, context.timezone) };
  });
}
