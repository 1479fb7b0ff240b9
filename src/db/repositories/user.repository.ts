import type { Db } from '../database.js';
import type { Role, User } from '../schema.js';
import { escapeLike } from './like.js';

export type AuthenticatedUser = Pick<User, 'id' | 'username' | 'role' | 'tenant_id'>;

export interface UserListFilter {
  role?: Role;
  tenant?: number;
  isActive?: boolean;
  search?: string;
}

export class UserRepository {
  constructor(private readonly db: Db) {}

  getByUsername(username: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  getById(id: number): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Reads a user and locks the row until the transaction ends. */
  getByIdForUpdate(id: number): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  /**
   * Locks the rows of all active admins, in id order, until the transaction
   * ends, and returns their ids. Changes that may remove the last active admin
   * take this lock first, so two of them cannot both see another admin left.
   */
  async lockActiveAdmins(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .where('is_active', '=', true)
      .orderBy('id')
      .forUpdate()
      .execute();
    return rows.map((row) => row.id);
  }

  private filtered(filter: UserListFilter) {
    let query = this.db.selectFrom('users');
    if (filter.role) query = query.where('role', '=', filter.role);
    if (filter.tenant !== undefined) query = query.where('tenant_id', '=', filter.tenant);
    if (filter.isActive !== undefined) query = query.where('is_active', '=', filter.isActive);
    if (filter.search) query = query.where('username', 'like', `%${escapeLike(filter.search)}%`);
    return query;
  }

  async count(filter: UserListFilter): Promise<number> {
    const { count } = await this.filtered(filter)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  getPage(
    filter: UserListFilter & {
      orderBy: 'username' | 'role' | 'created_at' | 'last_login_at' | 'id';
      direction: 'asc' | 'desc';
      limit: number;
      offset: number;
    },
  ): Promise<User[]> {
    return this.filtered(filter)
      .selectAll()
      .orderBy(filter.orderBy, filter.direction)
      .orderBy('id')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
  }

  update(
    id: number,
    changes: Partial<{ password_hash: string; role: Role; tenant_id: number | null; is_active: boolean }>,
  ): Promise<User> {
    return this.db
      .updateTable('users')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Deletes a user. The foreign keys (ON DELETE CASCADE) delete the user's sessions and API tokens with it. */
  delete(id: number) {
    return this.db.deleteFrom('users').where('id', '=', id).execute();
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

  /** Returns the active user whose unexpired session has this id hash, with the session's expiry. */
  getBySessionHash(
    idHash: string,
    now: Date,
  ): Promise<(AuthenticatedUser & { session_expires_at: Date }) | undefined> {
    return this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['u.id', 'u.username', 'u.role', 'u.tenant_id', 's.expires_at as session_expires_at'])
      .where('s.id_hash', '=', idHash)
      .where('s.expires_at', '>', now)
      .where('u.is_active', '=', true)
      .executeTakeFirst();
  }

  /** Returns the active user of an unrevoked API token with this hash, with the token's id and last use. */
  getByTokenHash(
    tokenHash: string,
  ): Promise<(AuthenticatedUser & { token_id: number; token_last_used_at: Date | null }) | undefined> {
    return this.db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select([
        'u.id',
        'u.username',
        'u.role',
        'u.tenant_id',
        't.id as token_id',
        't.last_used_at as token_last_used_at',
      ])
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

  deleteSessionsOfUser(userId: number) {
    return this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  touchToken(id: number, at: Date) {
    return this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
