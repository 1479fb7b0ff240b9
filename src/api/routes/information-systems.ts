import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DateTime } from 'luxon';
import { Type } from 'typebox';

import { addDays, dayOf } from '../../billing/days.js';
import { AdjustmentLogRepository } from '../../db/repositories/adjustment-log.repository.js';
import { BillingRecordRepository } from '../../db/repositories/billing-record.repository.js';
import { InformationSystemRepository } from '../../db/repositories/information-system.repository.js';
import { TenantRepository } from '../../db/repositories/tenant.repository.js';
import { VirtualMachineRepository } from '../../db/repositories/virtual-machine.repository.js';
import { DomainError } from '../../errors.js';
import { addSystem, decommissionSystem, setSystemRunMode } from '../../inventory/systems.js';
import { parseDate, parseName } from '../../inventory/validation.js';
import { tenantScope } from '../auth/plugin.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DateString, DecimalString, errorResponses, IdParams } from '../schemas.js';
import {
  AdjustmentLogSchema,
  BillingRecordSchema,
  InformationSystemSchema,
  OrderingQuery,
  orderingOf,
  serializeAdjustmentLog,
  serializeBillingRecord,
  serializeSystem,
  serializeVm,
  TenantSchema,
  serializeTenant,
  VirtualMachineSchema,
} from './serializers.js';

const ORDERING = ['code', 'name', 'created_at', 'total_cpu', 'total_memory', 'total_storage', 'id'] as const;
const RunMode = Type.String({ enum: ['7x24', '5x8'] });

const DetailedInfoSchema = Type.Object({
  system: InformationSystemSchema,
  tenant: TenantSchema,
  virtual_machines: Type.Array(VirtualMachineSchema),
  billing_records: Type.Array(BillingRecordSchema, { description: '最近 30 条 / latest 30' }),
  adjustment_logs: Type.Array(AdjustmentLogSchema, { description: '最近 30 条 / latest 30' }),
  month_to_date_amount: DecimalString,
  month_to_date: Type.Object({ from: DateString, to: Type.Union([DateString, Type.Null()]) }),
});

export const informationSystemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { database, settings } = app.deps;
  const db = database.db;
  const systems = new InformationSystemRepository(db);
  const context = { timezone: settings.billingTimezone };

  async function requireSystem(id: number, scope: number | null) {
    const system = await systems.getById(id, scope);
    if (!system) throw new ApiError(404, 'object_not_found', { resource: 'information system', id });
    return system;
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['information-systems'],
        summary: '信息系统列表 / list information systems',
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            tenant: Type.Optional(Type.Integer({ minimum: 1, description: '租户 ID / tenant id' })),
            code: Type.Optional(Type.String({ maxLength: 64 })),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('decommissioned')])),
            run_mode: Type.Optional(RunMode),
            search: Type.Optional(Type.String({ maxLength: 200, description: '名称包含 / name contains' })),
            ordering: OrderingQuery(ORDERING),
          }),
        ]),
        response: { 200: Paginated(InformationSystemSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const { rows, count } = await systems.getPage({
        scope: tenantScope(request),
        tenant: request.query.tenant,
        code: request.query.code,
        status: request.query.status,
        runMode: request.query.run_mode as '7x24' | '5x8' | undefined,
        search: request.query.search,
        ...orderingOf(request.query.ordering, 'code'),
        limit: page.pageSize,
        offset: page.offset,
      });
      return paginated(request, page, count, rows.map(serializeSystem));
    },
  );

  app.post(
    '/',
    {
      config: { access: 'write' },
      schema: {
        tags: ['information-systems'],
        summary: '创建信息系统，次日起计费 / create an information system, billed from the next day',
        body: Type.Object(
          {
            tenant: Type.Integer({ minimum: 1, description: '租户 ID / tenant id' }),
            code: Type.String({ minLength: 1, maxLength: 64 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            run_mode: RunMode,
          },
          { additionalProperties: false },
        ),
        response: { 201: InformationSystemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = await new TenantRepository(db).getById(request.body.tenant, tenantScope(request));
      if (!tenant) throw new DomainError('unknown_tenant_id', { id: request.body.tenant }, 'tenant');
      const created = await addSystem(db, { ...request.body, tenant: tenant.code }, context);
      return reply.status(201).send(serializeSystem(await requireSystem(created.id, null)));
    },
  );

  app.get(
    '/:id/',
    {
      schema: {
        tags: ['information-systems'],
        summary: '信息系统详情 / an information system',
        params: IdParams,
        response: { 200: InformationSystemSchema, ...errorResponses },
      },
    },
    async (request) => serializeSystem(await requireSystem(request.params.id, tenantScope(request))),
  );

  app.patch(
    '/:id/',
    {
      config: { access: 'write' },
      schema: {
        tags: ['information-systems'],
        summary:
          '修改信息系统；运行模式变更次日生效 / update a system; a new run mode is billed from the next day',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            run_mode: Type.Optional(RunMode),
          },
          { additionalProperties: false },
        ),
        response: { 200: InformationSystemSchema, ...errorResponses },
      },
    },
    async (request) => {
      const system = await requireSystem(request.params.id, tenantScope(request));
      const name = request.body.name === undefined ? undefined : parseName(request.body.name, 'name');
      if (request.body.run_mode !== undefined && request.body.run_mode !== system.run_mode) {
        await setSystemRunMode(db, { code: system.code, run_mode: request.body.run_mode }, context);
      }
      if (name !== undefined) await systems.updateName(system.id, name);
      return serializeSystem(await requireSystem(system.id, null));
    },
  );

  app.post(
    '/:id/decommission/',
    {
      config: { access: 'write' },
      schema: {
        tags: ['information-systems'],
        summary: '下线信息系统，当日仍计费 / decommission a system; today is still billed',
        params: IdParams,
        response: { 200: InformationSystemSchema, ...errorResponses },
      },
    },
    async (request) => {
      const system = await requireSystem(request.params.id, tenantScope(request));
      await decommissionSystem(db, { code: system.code }, context);
      return serializeSystem(await requireSystem(system.id, null));
    },
  );

  app.get(
    '/:id/detailed_info/',
    {
      schema: {
        tags: ['information-systems'],
        summary:
          '信息系统全貌：租户、虚拟机、近期计费与变更、本月累计 / system with tenant, VMs, recent billing and changes, month to date',
        params: IdParams,
        response: { 200: DetailedInfoSchema, ...errorResponses },
      },
    },
    async (request) => {
      const system = await requireSystem(request.params.id, tenantScope(request));
      const today = dayOf(new Date(), settings.billingTimezone);
      const monthStart = DateTime.fromISO(today).startOf('month').toISODate()!;
      const yesterday = addDays(today, -1);
      const records = new BillingRecordRepository(db);

      const [tenant, vms, latestRecords, logs, monthToDate] = await Promise.all([
        new TenantRepository(db).getById(system.tenant_id, null),
        new VirtualMachineRepository(db).getBySystem(system.id),
        records.getLatestForSystem(system.id, 30),
        new AdjustmentLogRepository(db).getLatest({ systemId: system.id, limit: 30 }),
        yesterday >= monthStart
          ? records.sumForSystem(system.id, monthStart, yesterday)
          : Promise.resolve('0.00'),
      ]);

      return {
        system: serializeSystem(system),
        tenant: serializeTenant(tenant!),
        virtual_machines: vms.map(serializeVm),
        billing_records: latestRecords.map(serializeBillingRecord),
        adjustment_logs: logs.map(serializeAdjustmentLog),
        month_to_date_amount: monthToDate,
        month_to_date: { from: monthStart, to: yesterday >= monthStart ? yesterday : null },
      };
    },
  );

  app.get(
    '/:id/billing_records/',
    {
      schema: {
        tags: ['information-systems'],
        summary:
          '信息系统的计费记录，可按日期范围筛选 / the system’s billing records, filterable by date range',
        params: IdParams,
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            billing_date_after: Type.Optional(
              Type.String({ maxLength: 10, description: '起始日期（含）/ first day, included' }),
            ),
            billing_date_before: Type.Optional(
              Type.String({ maxLength: 10, description: '结束日期（含）/ last day, included' }),
            ),
          }),
        ]),
        response: { 200: Paginated(BillingRecordSchema), ...errorResponses },
      },
    },
    async (request) => {
      const scope = tenantScope(request);
      let from: string | undefined;
      let to: string | undefined;
      try {
        from =
          request.query.billing_date_after === undefined
            ? undefined
            : parseDate(request.query.billing_date_after, 'billing_date_after');
        to =
          request.query.billing_date_before === undefined
            ? undefined
            : parseDate(request.query.billing_date_before, 'billing_date_before');
        if (from && to && from > to)
          throw new DomainError('invalid_date_range', { from, to }, 'billing_date_after');
      } catch (error) {
        // An unknown or hidden system is a 404 whatever the dates, as for the other routes.
        await requireSystem(request.params.id, scope);
        throw error;
      }

      const page = pageOf(request.query);
      const result = await new BillingRecordRepository(db).getPageForSystem({
        systemId: request.params.id,
        scope,
        from,
        to,
        limit: page.pageSize,
        offset: page.offset,
      });
      if (!result) {
        throw new ApiError(404, 'object_not_found', {
          resource: 'information system',
          id: request.params.id,
        });
      }
      return paginated(request, page, result.count, result.rows.map(serializeBillingRecord));
    },
  );
};
