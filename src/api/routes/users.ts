import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { UserRepository } from '../../db/repositories/user.repository.js';
import type { User } from '../../db/schema.js';
import { createUser, deleteUser, updateUser } from '../auth/accounts.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DateTimeString, errorResponses, IdParams } from '../schemas.js';
import { OrderingQuery, orderingOf } from './serializers.js';

const ORDERING = ['username', 'role', 'created_at', 'last_login_at', 'id'] as const;

const Role = Type.Union(
  [Type.Literal('admin'), Type.Literal('tenant_admin'), Type.Literal('tenant_viewer')],
  {
    description: '角色 / role',
  },
);
const Password = Type.String({
  minLength: 8,
  maxLength: 1024,
  description: '密码 / password, 8 to 1024 characters',
});
const TenantId = Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()], {
  description: '租户 ID；admin 不属于租户 / tenant id; null for an admin',
});

/** A user as the API returns it, without the password hash. */
export const UserSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  role: Role,
  tenant: Type.Union([Type.Integer(), Type.Null()]),
  is_active: Type.Boolean(),
  created_at: DateTimeString,
  last_login_at: Type.Union([DateTimeString, Type.Null()]),
});

export function serializeUser(user: User) {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    tenant: user.tenant_id,
    is_active: user.is_active,
    created_at: user.created_at.toISOString(),
    last_login_at: user.last_login_at?.toISOString() ?? null,
  };
}

/** Routes for users and their roles, for admins only. */
export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Bodies are checked without coercion, so that `"tenant": null` stays null instead of becoming 0.

  const db = app.deps.database.db;
  const users = new UserRepository(db);

  const notFound = (id: number) => new ApiError(404, 'object_not_found', { resource: 'user', id });

  app.get(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary: '用户列表 / list users',
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            role: Type.Optional(Role),
            tenant: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
            is_active: Type.Optional(Type.Boolean()),
            search: Type.Optional(
              Type.String({ maxLength: 150, description: '用户名包含 / username contains' }),
            ),
            ordering: OrderingQuery(ORDERING),
          }),
        ]),
        response: { 200: Paginated(UserSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const filter = {
        role: request.query.role,
        tenant: request.query.tenant,
        isActive: request.query.is_active,
        search: request.query.search,
      };
      const [count, rows] = await Promise.all([
        users.count(filter),
        users.getPage({
          ...filter,
          ...orderingOf(request.query.ordering, 'username'),
          limit: page.pageSize,
          offset: page.offset,
        }),
      ]);
      return paginated(request, page, count, rows.map(serializeUser));
    },
  );

  app.post(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary: '创建用户 / create a user',
        body: Type.Object(
          {
            username: Type.String({
              minLength: 1,
              maxLength: 150,
              description: '3 到 150 个字母、数字或 . _ - @ / 3 to 150 letters, digits or . _ - @',
            }),
            password: Password,
            role: Role,
            tenant: Type.Optional(TenantId),
          },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await createUser(db, request.body);
      request.log.info({ user_id: user.id, role: user.role, by_user_id: request.user!.id }, 'user created');
      return reply.status(201).send(serializeUser(user));
    },
  );

  app.get(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary: '用户详情 / a user',
        params: IdParams,
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => {
      const user = await users.getById(request.params.id);
      if (!user) throw notFound(request.params.id);
      return serializeUser(user);
    },
  );

  app.patch(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary:
          '修改用户的密码、角色、租户或启用状态；改密码会结束其会话 / change a user’s password, role, tenant or active flag; a new password ends the user’s sessions',
        params: IdParams,
        body: Type.Object(
          {
            password: Type.Optional(Password),
            role: Type.Optional(Role),
            tenant: Type.Optional(TenantId),
            is_active: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => {
      const user = await updateUser(db, request.params.id, request.body);
      if (!user) throw notFound(request.params.id);
      app.credentialCache.clear();
      request.log.info(
        {
          user_id: user.id,
          changed: Object.keys(request.body),
          by_user_id: request.user!.id,
        },
        'user changed',
      );
      return serializeUser(user);
    },
  );

  app.delete(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        summary: '删除用户及其会话与 API 令牌 / delete a user with its sessions and API tokens',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await deleteUser(db, request.params.id);
      if (!user) throw notFound(request.params.id);
      app.credentialCache.clear();
      request.log.info({ user_id: user.id, by_user_id: request.user!.id }, 'user deleted');
      return reply.status(204).send(null);
    },
  );
};
