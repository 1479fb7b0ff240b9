import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { dayOf } from '../../billing/days.js';
import {
  PriceVersionRepository,
  type PriceVersionChanges,
} from '../../db/repositories/price-version.repository.js';
import { DomainError, isUniqueViolation } from '../../errors.js';
import { parseDate, parsePrice } from '../../inventory/validation.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DecimalInput, errorResponses, IdParams } from '../schemas.js';
import { OrderingQuery, orderingOf, PriceVersionSchema, serializePriceVersion } from './serializers.js';

const ORDERING = ['effective_from', 'id'] as const;
const PRICE_FIELDS = ['cpu_price', 'memory_price', 'storage_price'] as const;
const PRICE_UNITS =
  '单价：cpu_price 元/核·时，memory_price 与 storage_price 元/GB·时，最多六位小数' +
  ' / prices: cpu_price in CNY per core-hour, memory_price and storage_price in CNY per GB-hour, up to six decimals';

const EffectiveFrom = Type.String({
  maxLength: 32,
  description:
    '生效日期 YYYY-MM-DD，须晚于今天（计费时区）/ first day of the prices, after today in the billing time zone',
});

/**
 * Price versions. Billing reads the version in force on each billed day, so a
 * version may change or be deleted only while it starts after today and no
 * billing record uses it. A new price takes the form of a new version.
 */
export const priceVersionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { database, settings } = app.deps;
  const prices = new PriceVersionRepository(database.db);
  const today = () => dayOf(new Date(), settings.billingTimezone);

  /** Parses a new effective_from, which must come after `day` (today). */
  function parseFutureDate(value: string, day: string): string {
    const date = parseDate(value, 'effective_from');
    if (date <= day)
      throw new DomainError('price_version_not_future', { date, today: day }, 'effective_from');
    return date;
  }

  /** Throws the reason why a conditional write to version `id` matched no row. */
  async function rejectChange(id: number, day: string): Promise<never> {
    const version = await prices.getById(id);
    if (!version) throw new ApiError(404, 'object_not_found', { resource: 'price version', id });
    if (version.in_use) {
      throw new DomainError('price_version_in_use', { id, date: version.effective_from });
    }
    if (version.effective_from <= day) {
      throw new DomainError('price_version_in_force', { id, date: version.effective_from, today: day });
    }
    // Versions only ever stop qualifying (days pass, records appear), so this needs a concurrent change.
    throw new Error(`price version ${id} changed while it was being written; retry the request`);
  }

  function conflictOnDuplicate(date: string | undefined) {
    return (error: unknown): never => {
      // The unique effective_from constraint catches a duplicate that no earlier check saw, e.g. a concurrent write.
      if (date !== undefined && isUniqueViolation(error)) {
        throw new DomainError('price_version_exists', { date }, 'effective_from');
      }
      throw error;
    };
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['price-versions'],
        summary: '定价版本列表 / list price versions',
        querystring: Type.Intersect([PageQuery, Type.Object({ ordering: OrderingQuery(ORDERING) })]),
        response: { 200: Paginated(PriceVersionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const order = orderingOf(request.query.ordering, 'effective_from');
      const [count, rows] = await Promise.all([
        prices.count(),
        prices.getPage(order, { limit: page.pageSize, offset: page.offset }),
      ]);
      return paginated(request, page, count, rows.map(serializePriceVersion));
    },
  );

  app.get(
    '/:id/',
    {
      schema: {
        tags: ['price-versions'],
        summary: '定价版本详情 / a price version',
        params: IdParams,
        response: { 200: PriceVersionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const version = await prices.getById(request.params.id);
      if (!version)
        throw new ApiError(404, 'object_not_found', { resource: 'price version', id: request.params.id });
      return serializePriceVersion(version);
    },
  );

  app.post(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['price-versions'],
        summary: '添加定价版本，生效日期须晚于今天 / add a price version that starts after today',
        description: PRICE_UNITS,
        body: Type.Object(
          {
            effective_from: EffectiveFrom,
            cpu_price: DecimalInput,
            memory_price: DecimalInput,
            storage_price: DecimalInput,
          },
          { additionalProperties: false },
        ),
        response: { 201: PriceVersionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const day = today();
      const version = {
        effective_from: parseFutureDate(request.body.effective_from, day),
        cpu_price: parsePrice(request.body.cpu_price, 'cpu_price'),
        memory_price: parsePrice(request.body.memory_price, 'memory_price'),
        storage_price: parsePrice(request.body.storage_price, 'storage_price'),
      };
      if (await prices.getByEffectiveFrom(version.effective_from)) {
        throw new DomainError('price_version_exists', { date: version.effective_from }, 'effective_from');
      }
      const created = await prices.create(version).catch(conflictOnDuplicate(version.effective_from));
      return reply.status(201).send(serializePriceVersion({ ...created, in_use: false }));
    },
  );

  app.patch(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['price-versions'],
        summary:
          '修改未生效且未使用的定价版本 / update a price version that starts after today and no billing record uses',
        description: PRICE_UNITS,
        params: IdParams,
        body: Type.Object(
          {
            effective_from: Type.Optional(EffectiveFrom),
            cpu_price: Type.Optional(DecimalInput),
            memory_price: Type.Optional(DecimalInput),
            storage_price: Type.Optional(DecimalInput),
          },
          { additionalProperties: false },
        ),
        response: { 200: PriceVersionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const day = today();
      // Validate every field before writing any, so a bad value leaves nothing changed.
      const changes: PriceVersionChanges = {};
      if (request.body.effective_from !== undefined) {
        changes.effective_from = parseFutureDate(request.body.effective_from, day);
      }
      for (const field of PRICE_FIELDS) {
        const value = request.body[field];
        if (value !== undefined) changes[field] = parsePrice(value, field);
      }
      if (Object.keys(changes).length === 0) {
        throw new DomainError('nothing_to_change', {
          options: ['effective_from', ...PRICE_FIELDS].join(', '),
        });
      }

      const updated = await prices
        .updateIfUnused(id, day, changes)
        .catch(conflictOnDuplicate(changes.effective_from));
      if (!updated) return rejectChange(id, day);
      return serializePriceVersion({ ...updated, in_use: false });
    },
  );

  app.delete(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['price-versions'],
        summary:
          '删除未生效且未使用的定价版本 / delete a price version that starts after today and no billing record uses',
        params: IdParams,
        response: { 204: Type.Null({ description: '已删除 / deleted' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const day = today();
      if (!(await prices.deleteIfUnused(request.params.id, day))) return rejectChange(request.params.id, day);
      return reply.status(204).send(null);
    },
  );
};
