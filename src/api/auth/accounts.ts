import type { Db } from '../../db/database.js';
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
      throw new DomainError('role_tenant_mismatch', { role, rule: 'must not have a tenant' }, 'tenant');
    }
  } else {
    if (typeof input.tenant !== 'number') {
      throw new DomainError('role_tenant_mismatch', { role, rule: 'needs a tenant' }, 'tenant');
    }
    const tenant = await new TenantRepository(db).getById(input.tenant, null);
    if (!tenant) throw new DomainError('tenant_not_found', { code: String(input.tenant) }, 'tenant');
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
  const record = await db
    .insertInto('api_tokens')
    .values({
      user_id: userId,
      name,
      token_hash: hashSecret(token),
      prefix: token.slice(0, TOKEN_PREFIX.length + 6),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, record };
}
