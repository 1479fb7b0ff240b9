import { sql } from 'kysely';

import type { Db } from '../../src/db/database.js';
import { addLocalVm } from '../../src/inventory/local-vms.js';
import { addSystem } from '../../src/inventory/systems.js';
import { addTenant } from '../../src/inventory/tenants.js';

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

/**
 * Inserts one tenant and `count` systems created at `createdAt`, with 4 CPUs,
 * 8 GB and 100 GB each (43.20 yuan a day at the default prices), in one
 * statement. Suites that need thousands of systems use it in place of
 * createSystem.
 */
export async function seedSystems(db: Db, count: number, createdAt: Date): Promise<void> {
  await sql`
    WITH tenant AS (
      INSERT INTO tenants (code, name, discount_rate, created_at)
      VALUES ('T-bulk', 'Bulk tenant', 1, ${createdAt})
      RETURNING id
    )
    INSERT INTO information_systems
      (code, name, tenant_id, run_mode, total_cpu, total_memory, total_storage, created_at)
    SELECT 'S' || n, 'System ' || n, tenant.id, '7x24', 4, 8, 100, ${createdAt}
    FROM tenant, generate_series(1, ${count}) AS n`.execute(db);
}
