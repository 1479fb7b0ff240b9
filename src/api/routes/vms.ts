import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';

import { InformationSystemRepository } from '../../db/repositories/information-system.repository.js';
import {
  VirtualMachineRepository,
  type VmOrderColumn,
} from '../../db/repositories/virtual-machine.repository.js';
import type { VirtualMachine } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import {
  addLocalVm,
  LOCAL_PROVIDER,
  removeLocalVm,
  updateLocalVm,
  type LocalVmChange,
} from '../../inventory/local-vms.js';
import { MAX_CPU } from '../../inventory/validation.js';
import { tenantScope } from '../auth/plugin.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DateString, DateTimeString, DecimalInput, errorResponses, IdParams } from '../schemas.js';
import { OrderingQuery, orderingOf, serializeVm, VirtualMachineSchema } from './serializers.js';

const VM_STATUSES = ['running', 'stopped', 'suspended', 'error', 'missing', 'deleted', 'unknown'] as const;

/** API ordering fields and the columns they sort by. */
const ORDER_COLUMNS = {
  external_id: 'external_id',
  name: 'name',
  provider: 'provider',
  status: 'status',
  cpu: 'recorded_cpu',
  memory: 'recorded_memory',
  storage: 'recorded_storage',
  created_at: 'created_at',
  last_synced_at: 'last_synced_at',
  id: 'id',
} as const satisfies Record<string, VmOrderColumn>;
type OrderField = keyof typeof ORDER_COLUMNS;
const ORDERING = Object.keys(ORDER_COLUMNS) as OrderField[];

const SystemId = Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: '信息系统 ID / system id' });
const Cpu = Type.Integer({ minimum: 0, maximum: MAX_CPU, description: 'vCPU 核数 / cores' });

const AdjustmentSummarySchema = Type.Object({
  changes: Type.Integer({ description: '本次记录的资源变更条数 / resource changes logged by this request' }),
  by_type: Type.Record(Type.String(), Type.Integer()),
  detected_at: DateTimeString,
  effective_date: DateString,
});

/** A VM after a change, with the adjustments that the change logged. */
const VmChangeSchema = Type.Object({
  ...VirtualMachineSchema.properties,
  adjustments: AdjustmentSummarySchema,
});

function serializeChange(change: LocalVmChange) {
  return {
    ...serializeVm(change.vm),
    adjustments: {
      changes: change.detection.changes,
      by_type: change.detection.by_type,
      detected_at: change.detection.detected_at,
      effective_date: change.detection.effective_date,
    },
  };
}

export const vmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Bodies are checked without coercion, so that null or true never passes as an integer.

  const { database, settings } = app.deps;
  const db = database.db;
  const vms = new VirtualMachineRepository(db);
  const systems = new InformationSystemRepository(db);
  const context = { timezone: settings.billingTimezone };

  async function requireVm(id: number, scope: number | null): Promise<VirtualMachine> {
    const vm = await vms.getById(id, scope);
    if (!vm) throw new ApiError(404, 'object_not_found', { resource: 'virtual machine', id });
    return vm;
  }

  /** Returns a VM that this caller may change: visible in its scope, from the local inventory and not deleted. */
  async function requireWritableVm(request: FastifyRequest, id: number): Promise<VirtualMachine> {
    const vm = await requireVm(id, tenantScope(request));
    if (vm.provider !== LOCAL_PROVIDER) {
      throw new DomainError('vm_read_only', { external_id: vm.external_id, provider: vm.provider });
    }
    if (vm.status === 'deleted') throw new DomainError('vm_deleted', { external_id: vm.external_id });
    return vm;
  }

  /** Returns the code of an active system visible to the caller, for the inventory functions. */
  async function requireAssignableSystem(request: FastifyRequest, id: number): Promise<string> {
    const system = await systems.getById(id, tenantScope(request));
    if (!system) throw new ApiError(404, 'object_not_found', { resource: 'information system', id });
    if (system.decommissioned_at) {
      throw new DomainError(
        'system_decommissioned',
        { code: system.code, at: system.decommissioned_at.toISOString() },
        'information_system',
      );
    }
    return system.code;
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['vms'],
        summary: '虚拟机列表 / list virtual machines',
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            information_system: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 2_147_483_647,
                description:
                  '计费基线或最近同步所属的信息系统 ID / system id of the recorded or the observed assignment',
              }),
            ),
            provider: Type.Optional(Type.String({ maxLength: 64, description: '数据源 / inventory source' })),
            status: Type.Optional(Type.Union(VM_STATUSES.map((status) => Type.Literal(status)))),
            search: Type.Optional(
              Type.String({
                maxLength: 200,
                description: '名称或外部 ID 包含（不区分大小写）/ name or external id contains, any case',
              }),
            ),
            ordering: OrderingQuery(ORDERING),
          }),
        ]),
        response: { 200: Paginated(VirtualMachineSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const { orderBy, direction } = orderingOf<OrderField>(request.query.ordering, 'external_id');
      const filter = {
        scope: tenantScope(request),
        system: request.query.information_system,
        provider: request.query.provider,
        status: request.query.status,
        search: request.query.search,
      };
      const [count, rows] = await Promise.all([
        vms.count(filter),
        vms.getPage({
          ...filter,
          orderBy: ORDER_COLUMNS[orderBy],
          direction,
          limit: page.pageSize,
          offset: page.offset,
        }),
      ]);
      return paginated(request, page, count, rows.map(serializeVm));
    },
  );

  app.post(
    '/',
    {
      config: { access: 'write' },
      schema: {
        tags: ['vms'],
        summary:
          '在本地资源清单中创建虚拟机，次日起计费 / create a VM in the local inventory, billed from the next day',
        body: Type.Object(
          {
            external_id: Type.String({ minLength: 1, maxLength: 255 }),
            name: Type.String({ minLength: 1, maxLength: 255 }),
            information_system: Type.Optional(
              Type.Union([SystemId, Type.Null()], {
                description: '所属信息系统 ID；租户管理员必填 / system id; required for a tenant_admin',
              }),
            ),
            cpu: Cpu,
            memory: DecimalInput,
            storage: DecimalInput,
          },
          { additionalProperties: false },
        ),
        response: { 201: VmChangeSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { information_system: systemId = null, ...vm } = request.body;
      if (systemId === null && tenantScope(request) !== null) {
        throw new DomainError('vm_system_required', {}, 'information_system');
      }
      const system = systemId === null ? null : await requireAssignableSystem(request, systemId);

      const change = await addLocalVm(db, { ...vm, system }, context);
      request.log.info(
        { vm_id: change.vm.id, external_id: change.vm.external_id, user_id: request.user!.id },
        'local VM created',
      );
      return reply.status(201).send(serializeChange(change));
    },
  );

  app.get(
    '/:id/',
    {
      schema: {
        tags: ['vms'],
        summary: '虚拟机详情 / a virtual machine',
        params: IdParams,
        response: { 200: VirtualMachineSchema, ...errorResponses },
      },
    },
    async (request) => serializeVm(await requireVm(request.params.id, tenantScope(request))),
  );

  app.patch(
    '/:id/',
    {
      config: { access: 'write' },
      schema: {
        tags: ['vms'],
        summary:
          '调整本地虚拟机配置或所属信息系统，变更次日起计费 / resize or reassign a local VM; billed from the next day',
        params: IdParams,
        body: Type.Object(
          {
            cpu: Type.Optional(Cpu),
            memory: Type.Optional(DecimalInput),
            storage: Type.Optional(DecimalInput),
            information_system: Type.Optional(SystemId),
          },
          { additionalProperties: false },
        ),
        response: { 200: VmChangeSchema, ...errorResponses },
      },
    },
    async (request) => {
      if (Object.keys(request.body).length === 0) {
        throw new DomainError('nothing_to_change', { options: 'cpu, memory, storage, information_system' });
      }
      const vm = await requireWritableVm(request, request.params.id);
      const { information_system: systemId, ...sizes } = request.body;
      const system = systemId === undefined ? undefined : await requireAssignableSystem(request, systemId);

      const change = await updateLocalVm(db, { external_id: vm.external_id, ...sizes, system }, context);
      request.log.info(
        { vm_id: vm.id, changes: change.detection.changes, user_id: request.user!.id },
        'local VM changed',
      );
      return serializeChange(change);
    },
  );

  app.delete(
    '/:id/',
    {
      config: { access: 'write' },
      schema: {
        tags: ['vms'],
        summary:
          '删除本地虚拟机（标记为 deleted），次日起不再计费 / delete a local VM (marked deleted); not billed from the next day',
        params: IdParams,
        response: { 200: VmChangeSchema, ...errorResponses },
      },
    },
    async (request) => {
      const vm = await requireWritableVm(request, request.params.id);
      const change = await removeLocalVm(db, { external_id: vm.external_id }, context);
      request.log.info({ vm_id: vm.id, user_id: request.user!.id }, 'local VM deleted');
      return serializeChange(change);
    },
  );
};
