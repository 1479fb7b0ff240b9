import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { TenantRepository } from '../../db/repositories/tenant.repository.js';
import { addTenant, setTenantDiscount } from '../../inventory/tenants.js';
import { parseName } from '../../inventory/validation.js';
import { tenantScope } from '../auth/plugin.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import {
  DateString,
  DateTimeString,
  DecimalInput,
  DecimalString,
  errorResponses,
  IdParams,
} from '../schemas.js';
import { OrderingQuery, orderingOf, serializeTenant, TenantSchema } from './serializers.js';

const ORDERING = ['code', 'name', 'discount_rate', 'created_at', 'id'] as const;

const DiscountChangeSchema = Type.Object({
  discount_rate_before: DecimalString,
  discount_rate_after: DecimalString,
  changed_at: DateTimeString,
  effective_date: DateString,
});

export const tenantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { database, settings } = app.deps;
  const tenants = new TenantRepository(database.db);

  async function requireTenant(id: number, scope: number | null) {
    const tenant = await tenants.getById(id, scope);
    if (!tenant) throw new ApiError(404, 'object_not_found', { resource: 'tenant', id });
    return tenant;
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['tenants'],
        summary: '租户列表 / list tenants',
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            code: Type.Optional(Type.String({ maxLength: 64 })),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive')])),
            search: Type.Optional(Type.String({ maxLength: 200, description: '名称包含 / name contains' })),
            ordering: OrderingQuery(ORDERING),
          }),
        ]),
        response: { 200: Paginated(TenantSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const { rows, count } = await tenants.getPage({
        scope: tenantScope(request),
        code: request.query.code,
        status: request.query.status,
        search: request.query.search,
        ...orderingOf(request.query.ordering, 'code'),
        limit: page.pageSize,
        offset: page.offset,
      });
      return paginated(request, page, count, rows.map(serializeTenant));
    },
  );

  app.post(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tenants'],
        summary: '创建租户 / create a tenant',
        body: Type.Object(
          {
            code: Type.String({ minLength: 1, maxLength: 64 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            discount_rate: Type.Optional(DecimalInput),
          },
          { additionalProperties: false },
        ),
        response: { 201: TenantSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = await addTenant(database.db, request.body, { timezone: settings.billingTimezone });
      return reply.status(201).send(serializeTenant(tenant));
    },
  );

  app.get(
    '/:id/',
    {
      schema: {
        tags: ['tenants'],
        summary: '租户详情 / a tenant',
        params: IdParams,
        response: { 200: TenantSchema, ...errorResponses },
      },
    },
    async (request) => serializeTenant(await requireTenant(request.params.id, tenantScope(request))),
  );

  app.patch(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tenants'],
        summary:
          '修改租户；折扣率变更次日生效并保留历史 / update a tenant; a new discount rate is billed from the next day',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            discount_rate: Type.Optional(DecimalInput),
          },
          { additionalProperties: false },
        ),
        response: { 200: TenantSchema, ...errorResponses },
      },
    },
    async (request) => {
      const tenant = await requireTenant(request.params.id, null);
      // Validate every field before writing any, so a bad value leaves nothing changed.
      const name = request.body.name === undefined ? undefined : parseName(request.body.name, 'name');
      if (request.body.discount_rate !== undefined) {
        await setTenantDiscount(
          database.db,
          { code: tenant.code, discount_rate: request.body.discount_rate },
          { timezone: settings.billingTimezone },
        );
      }
      if (name !== undefined) await tenants.updateName(tenant.id, name);
      return serializeTenant(await requireTenant(tenant.id, null));
    },
  );

  app.get(
    '/:id/discount_history/',
    {
      schema: {
        tags: ['tenants'],
        summary: '折扣率变更历史 / discount rate history',
        params: IdParams,
        response: { 200: Type.Array(DiscountChangeSchema), ...errorResponses },
      },
    },
    async (request) => {
      const tenant = await requireTenant(request.params.id, tenantScope(request));
      const changes = await tenants.getDiscountChanges(tenant.id);
      return changes.map((change) => ({
        discount_rate_before: change.discount_rate_before,
        discount_rate_after: change.discount_rate_after,
        changed_at: change.changed_at.toISOString(),
        effective_date: change.effective_date,
      }));
    },
  );
};
