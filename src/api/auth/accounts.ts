import type { Db } from '../../db/database.js';
import { ApiTokenRepository } from '../../db/repositories/api-token.repository.js';
import { TenantRepository } from '../../db/repositories/tenant.repository.js';
import { UserRepository } from '../../db/repositories/user.repository.js';
import type { Role, User } from '../../db/schema.js';
import { DomainError, isUniqueViolation } from '../../errors.js';
import { generateSecret, hashPassword, hashSecret } from './secrets.js';

/** Users and their API tokens. */

const ROLES: readonly Role[] = ['admin', 'tenant_admin', 'tenant_viewer'];
const USERNAME = /^[A-Za-z0-9._@-]{3,150}$/;
/** Prefix of every API token, so that leaked tokens are easy to recognize and scan for. */
export const TOKEN_PREFIX = 'cpt_';

export function parseRole(value: unknown): Role {
  if (typeof value === 'string' && (ROLES as readonly string[]).includes(value)) return value as Role;
  throw new DomainError('invalid_role', { value: String(value) }, 'role');
}

export function parsePassword(value: unknown): string {
  if (typeof value !== 'string' || value.length < 8 || value.length > 1024) {
    throw new DomainError('invalid_password', {}, 'password');
  }
  return value;
}

export async function createUser(
  db: Db,
  input: { username: unknown; password: unknown; role: unknown; tenant?: unknown },
): Promise<User> {
  const username = typeof input.username === 'string' ? input.username.trim() : '';
  if (!USERNAME.test(username))
    throw new DomainError('invalid_username', { value: String(input.username) }, 'username');
  const password = parsePassword(input.password);
  const role = parseRole(input.role);

  let tenantId: number | null = null;
  if (role === 'admin') {
    if (input.tenant !== undefined && input.tenant !== null) {
      throw new DomainError('role_tenant_mismatch', { role }, 'tenant');
    }
  } else {
    if (typeof input.tenant !== 'number') {
      throw new DomainError('role_tenant_mismatch', { role }, 'tenant');
    }
    const tenant = await new TenantRepository(db).getById(input.tenant, null);
    if (!tenant) throw new DomainError('unknown_tenant_id', { id: input.tenant }, 'tenant');
    tenantId = tenant.id;
  }

  const users = new UserRepository(db);
  if (await users.getByUsername(username)) throw new DomainError('username_exists', { username }, 'username');
  return users
    .create({ username, password_hash: await hashPassword(password), role, tenant_id: tenantId })
    .catch((error: unknown) => {
      if (isUniqueViolation(error)) throw new DomainError('username_exists', { username }, 'username');
      throw error;
    });
}

/** Creates an API token for a user; the returned `token` is the only copy of the secret. */
export async function createApiToken(db: Db, userId: number, name: string) {
  const token = generateSecret(TOKEN_PREFIX);
  const record = await new ApiTokenRepository(db).create({
    user_id: userId,
    name,
    token_hash: hashSecret(token),
    prefix: token.slice(0, TOKEN_PREFIX.length + 6),
  });
  return { token, record };
}

export interface UserChanges {
  password?: unknown;
  role?: unknown;
  /** Tenant id, or null for none. When absent, a user promoted to admin leaves its tenant. */
  tenant?: number | null;
  is_active?: boolean;
}

/** Throws unless an active admin other than `user` remains. The caller holds the admin lock. */
function requireAnotherActiveAdmin(activeAdminIds: number[], user: User): void {
  if (!activeAdminIds.some((id) => id !== user.id)) {
    throw new DomainError('last_active_admin', { username: user.username });
  }
}

/**
 * Changes a user's password, role, tenant or active flag in one transaction.
 * Rejects a change that would leave no active admin, and ends the user's
 * sessions when the password changes. Returns undefined when no user has `id`.
 */
export async function updateUser(db: Db, id: number, changes: UserChanges): Promise<User | undefined> {
  const role = changes.role === undefined ? undefined : parseRole(changes.role);
  const password = changes.password === undefined ? undefined : parsePassword(changes.password);
  // Hash before the transaction, so the slow scrypt call holds no row locks.
  const passwordHash = password === undefined ? undefined : await hashPassword(password);

  return db.transaction().execute(async (trx) => {
    const users = new UserRepository(trx);
    const activeAdminIds = await users.lockActiveAdmins();
    const user = await users.getByIdForUpdate(id);
    if (!user) return undefined;

    const newRole = role ?? user.role;
    let newTenant: number | null;
    if (changes.tenant !== undefined) newTenant = changes.tenant;
    else newTenant = newRole === 'admin' ? null : user.tenant_id;

    if (newRole === 'admin' && newTenant !== null) {
      throw new DomainError('role_tenant_mismatch', { role: newRole }, 'tenant');
    }
    if (newRole !== 'admin' && newTenant === null) {
      throw new DomainError('role_tenant_mismatch', { role: newRole }, 'tenant');
    }
    if (newTenant !== null && newTenant !== user.tenant_id) {
      const tenant = await new TenantRepository(trx).getById(newTenant, null);
      if (!tenant) throw new DomainError('unknown_tenant_id', { id: newTenant }, 'tenant');
    }

    const newIsActive = changes.is_active ?? user.is_active;
    const wasActiveAdmin = user.role === 'admin' && user.is_active;
    if (wasActiveAdmin && !(newRole === 'admin' && newIsActive)) {
      requireAnotherActiveAdmin(activeAdminIds, user);
    }

    const updated = await users.update(user.id, {
      role: newRole,
      tenant_id: newTenant,
      is_active: newIsActive,
      ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
    });
    if (passwordHash !== undefined) await users.deleteSessionsOfUser(user.id);
    return updated;
  });
}

/**
 * Deletes a user with its sessions and API tokens, unless it is the last
 * active admin. Returns the deleted user, or undefined when no user has `id`.
 */
export async function deleteUser(db: Db, id: number): Promise<User | undefined> {
  return db.transaction().execute(async (trx) => {
    const users = new UserRepository(trx);
    const activeAdminIds = await users.lockActiveAdmins();
    const user = await users.getByIdForUpdate(id);
    if (!user) return undefined;
    if (user.role === 'admin' && user.is_active) requireAnotherActiveAdmin(activeAdminIds, user);
    await users.delete(user.id);
    return user;
  });
}
