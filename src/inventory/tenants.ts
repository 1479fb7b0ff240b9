import { addDays, dayOf } from '../billing/days.js';
import type { Db } from '../db/database.js';
import { TenantRepository } from '../db/repositories/tenant.repository.js';
import type { Tenant } from '../db/schema.js';
import { DomainError, isUniqueViolation } from '../errors.js';
import { parseCode, parseDiscountRate, parseName } from './validation.js';

export interface ChangeContext {
  /** IANA billing time zone, which sets the day a change takes effect. */
  timezone: string;
  now?: Date;
}

export async function addTenant(
  db: Db,
  input: { code: unknown; name: unknown; discount_rate?: unknown },
  context: ChangeContext,
): Promise<Tenant> {
  const code = parseCode(input.code, 'code');
  const name = parseName(input.name, 'name');
  const discountRate = parseDiscountRate(input.discount_rate ?? '1');

  const tenants = new TenantRepository(db);
  if (await tenants.getByCode(code)) throw new DomainError('tenant_exists', { code }, 'code');
  return tenants
    .create({ code, name, discount_rate: discountRate, created_at: context.now ?? new Date() })
    .catch((error: unknown) => {
      // A concurrent add of the same code passes the check above and fails here.
      if (isUniqueViolation(error)) throw new DomainError('tenant_exists', { code }, 'code');
      throw error;
    });
}

/**
 * Changes a tenant's discount rate from the next billing day on, keeping the
 * change (rate before and after) as history that billing reads.
 */
export async function setTenantDiscount(
  db: Db,
  input: { code: unknown; discount_rate: unknown },
  context: ChangeContext,
): Promise<{ tenant: Tenant; effective_date: string; changed: boolean }> {
  const code = parseCode(input.code, 'code');
  const discountRate = parseDiscountRate(input.discount_rate);

  return db.transaction().execute(async (trx) => {
    const tenants = new TenantRepository(trx);
    const tenant = await tenants.getByCodeForUpdate(code);
    if (!tenant) throw new DomainError('tenant_not_found', { code }, 'code');

    const now = context.now ?? new Date();
    const effectiveDate = addDays(dayOf(now, context.timezone), 1);
    if (tenant.discount_rate === discountRate)
      return { tenant, effective_date: effectiveDate, changed: false };

    await tenants.createDiscountChange({
      tenant_id: tenant.id,
      discount_rate_before: tenant.discount_rate,
      discount_rate_after: discountRate,
      changed_at: now,
      effective_date: effectiveDate,
    });
    const updated = await tenants.updateDiscountRate(tenant.id, discountRate);
    return { tenant: updated, effective_date: effectiveDate, changed: true };
  });
}
