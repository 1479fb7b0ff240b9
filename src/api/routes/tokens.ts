import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';

import { ApiTokenRepository, type ApiTokenSummary } from '../../db/repositories/api-token.repository.js';
import { UserRepository } from '../../db/repositories/user.repository.js';
import { parseName } from '../../inventory/validation.js';
import { createApiToken } from '../auth/accounts.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DateTimeString, errorResponses, IdParams } from '../schemas.js';

const MAX_NAME_LENGTH = 200;

/** A token as listings return it, without the secret or its hash. */
export const ApiTokenSchema = Type.Object({
  id: Type.Integer(),
  user: Type.Integer({ description: '令牌所属用户 ID / id of the user who owns the token' }),
  name: Type.String(),
  prefix: Type.String({
    description: '令牌开头几位，用于辨认 / first characters of the token, to recognize it',
  }),
  created_at: DateTimeString,
  last_used_at: Type.Union([DateTimeString, Type.Null()], {
    description:
      '最近使用时间，最多滞后一分钟 / when the token was last used, up to a minute behind; null if never',
  }),
  revoked_at: Type.Union([DateTimeString, Type.Null()]),
});

const CreatedApiTokenSchema = Type.Object({
  ...ApiTokenSchema.properties,
  token: Type.String({
    description:
      '令牌本身，仅在创建时返回这一次 / the token itself, returned only this once; send it as Authorization: Bearer <token>',
  }),
});

const UserQuery = Type.Object({
  user: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      description:
        '用户 ID，仅管理员可指定他人；默认当前用户 / user id; admins only for other users; default the caller',
    }),
  ),
});

function serializeToken(token: ApiTokenSummary) {
  return {
    id: token.id,
    user: token.user_id,
    name: token.name,
    prefix: token.prefix,
    created_at: token.created_at.toISOString(),
    last_used_at: token.last_used_at?.toISOString() ?? null,
    revoked_at: token.revoked_at?.toISOString() ?? null,
  };
}

/** Routes for personal API tokens. Every signed-in user manages their own, and admins those of any user. */
export const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.deps.database.db;
  const tokens = new ApiTokenRepository(db);
  const users = new UserRepository(db);

  /** Returns the id of the user whose tokens a request reads or revokes: `?user=` for admins, else the caller. */
  async function tokenOwner(request: FastifyRequest, requested: number | undefined): Promise<number> {
    const caller = request.user!;
    if (requested === undefined || requested === caller.id) return caller.id;
    if (caller.role !== 'admin') throw new ApiError(403, 'permission_denied', { role: caller.role });
    if (!(await users.getById(requested))) {
      throw new ApiError(404, 'object_not_found', { resource: 'user', id: requested });
    }
    return requested;
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['tokens'],
        summary:
          'API 令牌列表（含已吊销），不含令牌本身 / list API tokens, revoked ones included, without secrets',
        querystring: Type.Intersect([PageQuery, UserQuery]),
        response: { 200: Paginated(ApiTokenSchema), ...errorResponses },
      },
    },
    async (request) => {
      const userId = await tokenOwner(request, request.query.user);
      const page = pageOf(request.query);
      const [count, rows] = await Promise.all([
        tokens.countForUser(userId),
        tokens.getPageForUser({ userId, limit: page.pageSize, offset: page.offset }),
      ]);
      return paginated(request, page, count, rows.map(serializeToken));
    },
  );

  app.post(
    '/',
    {
      schema: {
        tags: ['tokens'],
        summary:
          '为当前用户创建 API 令牌；令牌只返回这一次 / create an API token for the caller; the token is returned only this once',
        body: Type.Object(
          {
            name: Type.String({
              minLength: 1,
              maxLength: MAX_NAME_LENGTH,
              description: '用途 / what it is for',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedApiTokenSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const name = parseName(request.body.name, 'name', MAX_NAME_LENGTH);
      const { token, record } = await createApiToken(db, request.user!.id, name);
      request.log.info({ token_id: record.id, user_id: record.user_id }, 'API token created');
      return reply.status(201).send({ ...serializeToken(record), token });
    },
  );

  app.delete(
    '/:id/',
    {
      schema: {
        tags: ['tokens'],
        summary: '吊销 API 令牌，立即失效 / revoke an API token; it stops working at once',
        params: IdParams,
        querystring: UserQuery,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = await tokenOwner(request, request.query.user);
      const revoked = await tokens.revoke(request.params.id, userId, new Date());
      if (!revoked)
        throw new ApiError(404, 'object_not_found', { resource: 'API token', id: request.params.id });
      // Other processes empty their caches on PostgreSQL's notification, this one at once.
      app.credentialCache.clear();
      request.log.info(
        { token_id: revoked.id, user_id: userId, by_user_id: request.user!.id },
        'API token revoked',
      );
      return reply.status(204).send(null);
    },
  );
};
