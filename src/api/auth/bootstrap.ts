import type { Db } from '../../db/database.js';
import { UserRepository } from '../../db/repositories/user.repository.js';
import { generatePassword, hashPassword } from './secrets.js';

export const FIRST_ADMIN_USERNAME = 'admin';

/**
 * Creates the first admin when no admin exists, with `password` or a random
 * one. Returns the random password so that the caller can show it once; it is
 * stored only as a hash.
 */
export async function ensureFirstAdmin(
  db: Db,
  password: string | undefined,
): Promise<{ created: boolean; username: string; generatedPassword?: string }> {
  const users = new UserRepository(db);
  const { count } = await users.countAdmins();
  if (Number(count) > 0) return { created: false, username: FIRST_ADMIN_USERNAME };

  const generatedPassword = password ? undefined : generatePassword();
  await users.create({
    username: FIRST_ADMIN_USERNAME,
    password_hash: await hashPassword(password ?? generatedPassword!),
    role: 'admin',
    tenant_id: null,
  });
  return { created: true, username: FIRST_ADMIN_USERNAME, generatedPassword };
}
