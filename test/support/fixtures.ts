import { addLocalVm } from '../../src/inventory/local-vms.js';
import { addSystem } from '../../src/inventory/systems.js';
import { addTenant } from '../../src/inventory/tenants.js';
import type { Db } from '../../src/db/database.js';

export const ZONE = 'Asia/Shanghai';

/** Returns the instant of a wall-clock time in Asia/Shanghai (UTC+8, no DST). */
export function beijing(localDateTime: string): Date {
  return new Date(`${localDateTime}+08:00`);
}

let sequence = 0;

/** Creates a tenant, a system and (optionally) one VM sized as given, all at `at`. */
export async function createSystem(
  db: Db,
  options: {
    at: Date;
    runMode: '7x24' | '5x8';
    discountRate?: string;
    cpu?: number;
    memory?: string;
    storage?: string;
    tenantCode?: string;
  },
) {
  sequence += 1;
  const context = { timezone: ZONE, now: options.at };
  const tenantCode = options.tenantCode ?? `T${sequence}`;
  if (!options.tenantCode) {
    await addTenant(
      db,
      { code: tenantCode, name: `Tenant ${sequence}`, discount_rate: options.discountRate ?? '1' },
      context,
    );
  }
  const system = await addSystem(
    db,
    { code: `S${sequence}`, tenant: tenantCode, name: `System ${sequence}`, run_mode: options.runMode },
    context,
  );
  let vmExternalId: string | undefined;
  if (options.cpu !== undefined) {
    vmExternalId = `vm-${sequence}`;
    await addLocalVm(
      db,
      {
        external_id: vmExternalId,
        name: `VM ${sequence}`,
        system: system.code,
        cpu: options.cpu,
        memory: options.memory ?? '0',
        storage: options.storage ?? '0',
      },
      context,
    );
  }
  return { system, tenantCode, vmExternalId };
}
