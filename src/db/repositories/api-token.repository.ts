import type { Db } from '../database.js';
import type { ApiToken } from '../schema.js';

/** An API token row without its hash, the shape that listings return. */
export type ApiTokenSummary = Omit<ApiToken, 'token_hash'>;

const SUMMARY_COLUMNS = [
  'id',
  'user_id',
  'name',
  'prefix',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const;

export class ApiTokenRepository {
  constructor(private readonly db: Db) {}

  create(token: {
    user_id: number;
    name: string;
    token_hash: string;
    prefix: string;
  }): Promise<ApiTokenSummary> {
    return this.db
      .insertInto('api_tokens')
      .values(token)
      .returning(SUMMARY_COLUMNS)
      .executeTakeFirstOrThrow();
  }

  countForUser(userId: number): Promise<number> {
    return this.db
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow()
      .then(({ count }) => Number(count));
  }

  /** Returns one page of a user's tokens, newest first, revoked ones included. */
  getPageForUser(filter: { userId: number; limit: number; offset: number }): Promise<ApiTokenSummary[]> {
    return this.db
      .selectFrom('api_tokens')
      .select(SUMMARY_COLUMNS)
      .where('user_id', '=', filter.userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
  }

  /**
   * Revokes a token of `userId` and returns it, or undefined when that user has
   * no token `id`. Revoking a revoked token keeps its first `revoked_at`.
   */
  revoke(id: number, userId: number, at: Date): Promise<ApiTokenSummary | undefined> {
    return this.db
      .updateTable('api_tokens')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .returning(SUMMARY_COLUMNS)
      .executeTakeFirst();
  }
}
