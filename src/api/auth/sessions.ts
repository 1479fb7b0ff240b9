import type { Db } from '../../db/database.js';
import { UserRepository } from '../../db/repositories/user.repository.js';
import { generateSecret, hashSecret } from './secrets.js';

/** A valid scrypt hash of a random password, checked when the username does not exist. */
export const DUMMY_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$2c1Yb0dvp5Dx6cC8uWfM1d7a1P0m9R0H5n6vDd8pQ2c';

/** Lifetime of a login session, in days. */
export const SESSION_DAYS = 7;

/** Creates a session for `userId` and returns its id for the cookie; only its hash is stored. */
export async function startSession(db: Db, userId: number, now: Date): Promise<string> {
  const users = new UserRepository(db);
  const sessionId = generateSecret();
  await users.createSession({
    id_hash: hashSecret(sessionId),
    user_id: userId,
    expires_at: new Date(now.getTime() + SESSION_DAYS * 24 * 3600 * 1000),
  });
  await users.touchLogin(userId, now);
  return sessionId;
}
