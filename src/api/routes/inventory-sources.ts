import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import { InventorySourceRepository } from '../../db/repositories/inventory-source.repository.js';
import type { InventorySourceRow } from '../../db/schema.js';
import { DomainError, isUniqueViolation } from '../../errors.js';
import { SOURCE_NAME_PATTERN } from '../../inventory/connectors/connector.js';
import { connectorTypes, parseSourceConfig } from '../../inventory/connectors/registry.js';
import { entryOfRow, splitSecrets } from '../../inventory/sources.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DateTimeString, errorResponses, IdParams } from '../schemas.js';

const SETTINGS_DESCRIPTION =
  '连接器的其余配置项（如 auth_url、username、password_env），见 docs/inventory-sources.md；' +
  '密码等密钥字段只写不读 / the connector settings (e.g. auth_url, username, password_env), ' +
  'see docs/inventory-sources.md; secret fields are write-only';

/** Settings every connector shares; the connector's own schema checks the rest of the body. */
const commonSettings = {
  timeout_seconds: Type.Optional(
    Type.Number({ description: '每个请求的超时（秒）/ per-request timeout in seconds' }),
  ),
  retries: Type.Optional(Type.Integer({ description: '失败后的重试次数 / retries after a failed request' })),
  verify_tls: Type.Optional(
    Type.Boolean({ description: '校验 TLS 证书（默认 true）/ verify TLS certificates' }),
  ),
  ca_file: Type.Optional(Type.String({ description: 'PEM 格式 CA 证书路径 / PEM file of CA certificates' })),
};

const SourceName = Type.String({
  pattern: SOURCE_NAME_PATTERN.source,
  description: '数据源名称，也是其虚拟机的 provider / source name, also the provider of its VMs',
});

const SourceType = () =>
  Type.Union(
    connectorTypes().map((type) => Type.Literal(type)),
    { description: '连接器类型 / connector type' },
  );

/** A source as the API returns it: its settings without secrets, and which secrets are set. */
export const InventorySourceSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  type: Type.String(),
  settings: Type.Record(Type.String(), Type.Unknown(), {
    description: '不含密钥的配置项 / settings without secrets',
  }),
  secrets_set: Type.Array(Type.String(), {
    description: '已保存的内联密钥字段名 / names of the inline secret fields that are stored',
  }),
  created_at: DateTimeString,
  updated_at: DateTimeString,
});

export function serializeInventorySource(row: InventorySourceRow) {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    settings: row.options,
    secrets_set: Object.keys(row.secrets).sort(),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * Inventory sources stored in the database, for admins only. The body of a
 * create or update is the same entry as in the `sources:` list of
 * CONFIG_FILE. Secret fields are write-only: responses, logs and errors never
 * contain them.
 */
export const inventorySourceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { database, settings } = app.deps;
  const sources = new InventorySourceRepository(database.db);
  const notFound = (id: number) =>
    new ApiError(404, 'object_not_found', { resource: 'inventory source', id });

  app.get(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory-sources'],
        summary: '资源清单数据源列表 / list inventory sources',
        description:
          '只列出通过 API 添加的数据源；配置文件中的数据源用 `cloud-platform source list` 查看 / lists the sources added through the API; `cloud-platform source list` also shows those of CONFIG_FILE',
        querystring: PageQuery,
        response: { 200: Paginated(InventorySourceSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const [count, rows] = await Promise.all([
        sources.count(),
        sources.getPage({ limit: page.pageSize, offset: page.offset }),
      ]);
      return paginated(request, page, count, rows.map(serializeInventorySource));
    },
  );

  app.post(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory-sources'],
        summary: '添加资源清单数据源 / add an inventory source',
        description: SETTINGS_DESCRIPTION,
        body: Type.Object(
          { name: SourceName, type: SourceType(), ...commonSettings },
          { additionalProperties: true },
        ),
        response: { 201: InventorySourceSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { config } = parseSourceConfig(request.body, String(request.body.name));
      if (settings.inventorySources.some((source) => source.name === config.name)) {
        throw new DomainError(
          'inventory_source_exists',
          { name: config.name, origin: 'CONFIG_FILE' },
          'name',
        );
      }
      const created = await sources
        .create({ name: config.name, type: config.type, ...splitSecrets(config) }, new Date())
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) {
            throw new DomainError(
              'inventory_source_exists',
              { name: config.name, origin: 'database' },
              'name',
            );
          }
          throw error;
        });
      request.log.info(
        {
          inventory_source_id: created.id,
          name: created.name,
          type: created.type,
          by_user_id: request.user!.id,
        },
        'inventory source created',
      );
      return reply.status(201).send(serializeInventorySource(created));
    },
  );

  app.get(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory-sources'],
        summary: '资源清单数据源详情 / an inventory source',
        params: IdParams,
        response: { 200: InventorySourceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await sources.getById(request.params.id);
      if (!row) throw notFound(request.params.id);
      return serializeInventorySource(row);
    },
  );

  app.patch(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory-sources'],
        summary: '修改资源清单数据源 / update an inventory source',
        description:
          '只需给出要修改的配置项；值为 null 表示删除该项（如改用 password_env 时给 password: null）。' +
          'name 与 type 不能修改 / give only the settings to change; null removes a setting ' +
          '(e.g. password: null when switching to password_env); name and type cannot change',
        params: IdParams,
        body: Type.Object(commonSettings, { additionalProperties: true }),
        response: { 200: InventorySourceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body as Record<string, unknown>;
      for (const field of ['name', 'type']) {
        if (field in body) throw new DomainError('inventory_source_field_fixed', { field }, field);
      }
      const row = await sources.getById(id);
      if (!row) throw notFound(id);

      // The merged entry is validated whole, so an update never stores an entry the connector rejects.
      const merged: Record<string, unknown> = { ...entryOfRow(row) };
      for (const [field, value] of Object.entries(body)) {
        if (value === null) delete merged[field];
        else merged[field] = value;
      }
      const { config } = parseSourceConfig(merged, row.name);
      const updated = await sources.update(id, splitSecrets(config), new Date());
      if (!updated) throw notFound(id);
      request.log.info(
        { inventory_source_id: id, fields: Object.keys(body), by_user_id: request.user!.id },
        'inventory source updated',
      );
      return serializeInventorySource(updated);
    },
  );

  app.delete(
    '/:id/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['inventory-sources'],
        summary:
          '删除资源清单数据源；其虚拟机保持不变 / delete an inventory source; its VMs stay as they are',
        params: IdParams,
        response: { 204: Type.Null({ description: '已删除 / deleted' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await sources.delete(request.params.id))) throw notFound(request.params.id);
      request.log.info(
        { inventory_source_id: request.params.id, by_user_id: request.user!.id },
        'inventory source deleted',
      );
      return reply.status(204).send(null);
    },
  );
};
