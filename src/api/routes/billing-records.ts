import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';

import {
  BillingRecordRepository,
  type BillingRecordQuery,
} from '../../db/repositories/billing-record.repository.js';
import { DomainError } from '../../errors.js';
import { parseDate } from '../../inventory/validation.js';
import { tenantScope } from '../auth/plugin.js';
import { ApiError } from '../errors.js';
import { PageQuery, pageOf, paginated, Paginated } from '../pagination.js';
import { DecimalString, errorResponses } from '../schemas.js';
import {
  CONTENT_TYPES,
  csvStream,
  exportFileName,
  MEDIA_TYPES,
  readBatches,
  xlsxStream,
} from './billing-records-export.js';
import {
  BigIdParams,
  BillingRecordWithNamesSchema,
  BillingSummaryRowSchema,
  OrderingQuery,
  orderingOf,
  serializeBillingRecordWithNames,
  serializeSummaryRow,
} from './serializers.js';

const ORDERING = ['billing_date', 'amount', 'id'] as const;
const DEFAULT_ORDERING = '-billing_date';
const SUMMARY_ORDERING = ['key', 'record_count', 'gross_amount', 'amount'] as const;

/** Largest export served. A bigger one is rejected with 400 export_too_large, which names the row count. */
export const MAX_EXPORT_ROWS = 1_000_000;

const RecordFilterQuery = Type.Object({
  tenant: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: '租户 ID / tenant id' }),
  ),
  information_system: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: '信息系统 ID / information system id' }),
  ),
  billing_date_after: Type.Optional(
    Type.String({
      maxLength: 32,
      description: '起始计费日期（含），YYYY-MM-DD / first billing day, included',
    }),
  ),
  billing_date_before: Type.Optional(
    Type.String({
      maxLength: 32,
      description: '结束计费日期（含），YYYY-MM-DD / last billing day, included',
    }),
  ),
  run_mode: Type.Optional(Type.Union([Type.Literal('7x24'), Type.Literal('5x8')])),
});
type RecordFilterQuery = Static<typeof RecordFilterQuery>;

const SummaryTotalsSchema = Type.Object({
  record_count: Type.Integer(),
  gross_amount: DecimalString,
  amount: DecimalString,
});

const SummarySchema = Type.Object({
  group_by: Type.String(),
  ...Paginated(BillingSummaryRowSchema).properties,
  total: SummaryTotalsSchema,
});

/** Validates the filter parameters. The caller's tenant scope applies on top of them. */
function parseFilter(query: RecordFilterQuery, scope: number | null): BillingRecordQuery {
  const from =
    query.billing_date_after === undefined
      ? undefined
      : parseDate(query.billing_date_after, 'billing_date_after');
  const to =
    query.billing_date_before === undefined
      ? undefined
      : parseDate(query.billing_date_before, 'billing_date_before');
  if (from && to && from > to)
    throw new DomainError('invalid_date_range', { from, to }, 'billing_date_after');

  return {
    scope,
    tenant: query.tenant,
    informationSystem: query.information_system,
    from,
    to,
    runMode: query.run_mode,
  };
}

export interface BillingRecordRoutesOptions {
  /** Largest export served, MAX_EXPORT_ROWS unless set. Tests set a lower limit. */
  maxExportRows?: number;
}

export const billingRecordRoutes: FastifyPluginAsyncTypebox<BillingRecordRoutesOptions> = async (
  app,
  options,
) => {
  const records = new BillingRecordRepository(app.deps.database.db);
  const maxExportRows = options.maxExportRows ?? MAX_EXPORT_ROWS;

  app.get(
    '/',
    {
      schema: {
        tags: ['billing-records'],
        summary: '计费记录列表 / list billing records',
        description: `默认按计费日期倒序 / newest billing day first unless \`ordering\` is given (${DEFAULT_ORDERING})`,
        querystring: Type.Intersect([
          PageQuery,
          RecordFilterQuery,
          Type.Object({ ordering: OrderingQuery(ORDERING) }),
        ]),
        response: { 200: Paginated(BillingRecordWithNamesSchema), ...errorResponses },
      },
    },
    async (request) => {
      const filter = parseFilter(request.query, tenantScope(request));
      const order = orderingOf(request.query.ordering ?? DEFAULT_ORDERING, 'billing_date');
      const page = pageOf(request.query);
      const [count, rows] = await Promise.all([
        records.countMatching(filter),
        records.getPage(filter, order, { limit: page.pageSize, offset: page.offset }),
      ]);
      return paginated(request, page, count, rows.map(serializeBillingRecordWithNames));
    },
  );

  app.get(
    '/summary/',
    {
      schema: {
        tags: ['billing-records'],
        summary: '计费汇总：按租户、信息系统或月份 / billing totals per tenant, information system or month',
        description:
          '与列表相同的筛选条件；月份为计费日期所在月份（计费时区）。`ordering=key` 按租户编码、信息系统编码或月份排序。' +
          ' / Same filters as the list; a month is the YYYY-MM of billing_date, a day of the billing time zone.' +
          ' `ordering=key` sorts by tenant code, system code or month.',
        querystring: Type.Intersect([
          PageQuery,
          RecordFilterQuery,
          Type.Object({
            group_by: Type.Union([
              Type.Literal('tenant'),
              Type.Literal('information_system'),
              Type.Literal('month'),
            ]),
            ordering: OrderingQuery(SUMMARY_ORDERING),
          }),
        ]),
        response: { 200: SummarySchema, ...errorResponses },
      },
    },
    async (request) => {
      const filter = parseFilter(request.query, tenantScope(request));
      const groupBy = request.query.group_by;
      const order = orderingOf(request.query.ordering, 'key');
      const page = pageOf(request.query);
      const [totals, rows] = await Promise.all([
        records.getSummaryTotals(filter, groupBy),
        records.getSummaryPage(filter, groupBy, order, { limit: page.pageSize, offset: page.offset }),
      ]);
      return {
        group_by: groupBy,
        ...paginated(request, page, Number(totals.groups), rows.map(serializeSummaryRow)),
        total: {
          record_count: Number(totals.record_count),
          gross_amount: totals.gross_amount,
          amount: totals.amount,
        },
      };
    },
  );

  app.get(
    '/export/',
    {
      schema: {
        tags: ['billing-records'],
        summary: '导出计费记录为 CSV 或 XLSX / export billing records as CSV or XLSX',
        description:
          `与列表相同的筛选与排序，不分页，最多 ${maxExportRows} 条。CSV 为带 BOM 的 UTF-8，金额为精确十进制文本；` +
          'XLSX 中金额为数值（15 位有效数字以内，精确到分），更长的数值保留为文本。' +
          ` / Same filters and ordering as the list, unpaginated, at most ${maxExportRows} rows. CSV is UTF-8` +
          ' with a byte order mark and exact decimal text; XLSX stores decimals of up to 15 significant digits' +
          ' as numbers (exact to the cent) and longer ones as text.',
        querystring: Type.Intersect([
          RecordFilterQuery,
          Type.Object({
            format: Type.Optional(
              Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], {
                description: '默认 csv / default csv',
              }),
            ),
            ordering: OrderingQuery(ORDERING),
          }),
        ]),
        response: {
          200: {
            description: '文件下载 / file download',
            content: {
              [MEDIA_TYPES.csv]: { schema: { type: 'string' } },
              [MEDIA_TYPES.xlsx]: { schema: { type: 'string', format: 'binary' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const filter = parseFilter(request.query, tenantScope(request));
      const order = orderingOf(request.query.ordering ?? DEFAULT_ORDERING, 'billing_date');
      const format = request.query.format ?? 'csv';

      const count = await records.countMatching(filter);
      if (count > maxExportRows) throw new DomainError('export_too_large', { count, max: maxExportRows });

      const batches = readBatches(records, filter, order);
      reply
        .header('content-type', CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="${exportFileName(filter, format)}"`);
      const file = format === 'csv' ? csvStream(batches) : xlsxStream(batches, request.log);
      // The type provider derives a string body from the file schema; Fastify streams a Readable as is.
      return reply.send(file as unknown as string);
    },
  );

  app.get(
    '/:id/',
    {
      schema: {
        tags: ['billing-records'],
        summary: '计费记录详情 / a billing record',
        params: BigIdParams,
        response: { 200: BillingRecordWithNamesSchema, ...errorResponses },
      },
    },
    async (request) => {
      const record = await records.getById(String(request.params.id), tenantScope(request));
      if (!record)
        throw new ApiError(404, 'object_not_found', { resource: 'billing record', id: request.params.id });
      return serializeBillingRecordWithNames(record);
    },
  );
};
