import type { Db } from '../database.js';
import type { Role, User } from '../schema.js';

export type AuthenticatedUser = Pick<User, 'id' | 'username' | 'role' | 'tenant_id'>;

export class UserRepository {
  constructor(private readonly db: Db) {}

  getByUsername(username: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  getById(id: number): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  countAdmins(): Promise<{ count: string }> {
    return this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow();
  }

  create(user: {
    username: string;
    password_hash: string;
    role: Role;
    tenant_id: number | null;
  }): Promise<User> {
    return this.db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
  }

  touchLogin(id: number, at: Date) {
    return this.db.updateTable('users').set({ last_login_at: at }).where('id', '=', id).execute();
  }

  /** Returns the active user whose unexpired session has this id hash. */
  getBySessionHash(idHash: string, now: Date): Promise<AuthenticatedUser | undefined> {
    return this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['u.id', 'u.username', 'u.role', 'u.tenant_id'])
      .where('s.id_hash', '=', idHash)
      .where('s.expires_at', '>', now)
      .where('u.is_active', '=', true)
      .executeTakeFirst();
  }

  /** Returns the active user of an unrevoked API token with this hash. */
  getByTokenHash(tokenHash: string): Promise<(AuthenticatedUser & { token_id: number }) | undefined> {
    return this.db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select(['u.id', 'u.username', 'u.role', 'u.tenant_id', 't.id as token_id'])
      .where('t.token_hash', '=', tokenHash)
      .where('t.revoked_at', 'is', null)
      .where('u.is_active', '=', true)
      .executeTakeFirst();
  }

  createSession(session: { id_hash: string; user_id: number; expires_at: Date }) {
    return this.db.insertInto('sessions').values(session).execute();
  }

  deleteSession(idHash: string) {
    return this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  touchToken(id: number, at: Date) {
    return this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
