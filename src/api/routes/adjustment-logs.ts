import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { addDays, dayStart } from '../../billing/days.js';
import { AdjustmentLogRepository } from '../../db/repositories/adjustment-log.repository.js';
import { DomainError } from '../../errors.js';
import { parseDate } from '../../inventory/validation.js';
import { tenantScope } from '../auth/plugin.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { errorResponses } from '../schemas.js';
import {
  AdjustmentLogSchema,
  BigIdParams,
  OrderingQuery,
  orderingOf,
  serializeAdjustmentLog,
} from './serializers.js';

const ORDERING = ['detected_at', 'id'] as const;
const DEFAULT_ORDERING = '-detected_at';

const ChangeType = Type.Union([
  Type.Literal('vm_added'),
  Type.Literal('vm_removed'),
  Type.Literal('vm_resized'),
  Type.Literal('vm_reassigned'),
  Type.Literal('run_mode_changed'),
]);

export const adjustmentLogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { database, settings } = app.deps;
  const logs = new AdjustmentLogRepository(database.db);

  app.get(
    '/',
    {
      schema: {
        tags: ['adjustment-logs'],
        summary: '资源变更记录列表 / list resource adjustment logs',
        description:
          '日期按计费时区的自然日筛选，默认按检测时间倒序 / dates are whole days of the billing time zone;' +
          ` newest first unless \`ordering\` is given (${DEFAULT_ORDERING})`,
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            information_system: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 2_147_483_647,
                description: '信息系统 ID / information system id',
              }),
            ),
            virtual_machine: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 2_147_483_647,
                description: '虚拟机 ID / virtual machine id',
              }),
            ),
            change_type: Type.Optional(ChangeType),
            detected_after: Type.Optional(
              Type.String({
                maxLength: 32,
                description: '检测日期起（含），YYYY-MM-DD / first day, included',
              }),
            ),
            detected_before: Type.Optional(
              Type.String({
                maxLength: 32,
                description: '检测日期止（含），YYYY-MM-DD / last day, included',
              }),
            ),
            ordering: OrderingQuery(ORDERING),
          }),
        ]),
        response: { 200: Paginated(AdjustmentLogSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { query } = request;
      const from =
        query.detected_after === undefined ? undefined : parseDate(query.detected_after, 'detected_after');
      const to =
        query.detected_before === undefined ? undefined : parseDate(query.detected_before, 'detected_before');
      if (from && to && from > to)
        throw new DomainError('invalid_date_range', { from, to }, 'detected_after');

      const zone = settings.billingTimezone;
      const filter = {
        scope: tenantScope(request),
        informationSystem: query.information_system,
        virtualMachine: query.virtual_machine,
        changeType: query.change_type,
        detectedFrom: from === undefined ? undefined : dayStart(from, zone),
        // The last day runs until the next day starts in the billing time zone.
        detectedUntil: to === undefined ? undefined : dayStart(addDays(to, 1), zone),
      };
      const order = orderingOf(query.ordering ?? DEFAULT_ORDERING, 'detected_at');
      const page = pageOf(query);
      const [count, rows] = await Promise.all([
        logs.countMatching(filter),
        logs.getPage(filter, order, { limit: page.pageSize, offset: page.offset }),
      ]);
      return paginated(request, page, count, rows.map(serializeAdjustmentLog));
    },
  );

  app.get(
    '/:id/',
    {
      schema: {
        tags: ['adjustment-logs'],
        summary: '资源变更记录详情 / a resource adjustment log',
        params: BigIdParams,
        response: { 200: AdjustmentLogSchema, ...errorResponses },
      },
    },
    async (request) => {
      const log = await logs.getById(String(request.params.id), tenantScope(request));
      if (!log)
        throw new ApiError(404, 'object_not_found', { resource: 'adjustment log', id: request.params.id });
      return serializeAdjustmentLog(log);
    },
  );
};
