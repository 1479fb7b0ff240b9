import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { DomainError } from '../errors.js';
import { translate, type Locale, type MessageCode, type MessageParameters } from '../i18n/messages.js';
import { shortenText, validationDetails, validationSummary } from './validation-messages.js';

/**
 * Error responses: `{code, message, details?}` where `code` is stable for
 * clients, `message` is in the caller's language (Accept-Language, zh-CN by
 * default) and `details` lists field-level problems of a 400.
 */

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** Chinese names of the resources that `object_not_found` names in English. */
const RESOURCE_NAMES_ZH: Record<string, string> = {
  'API token': 'API 令牌',
  'adjustment log': '资源变更记录',
  'billing record': '计费记录',
  'information system': '信息系统',
  'inventory source': '资源清单数据源',
  'price version': '定价版本',
  'task run': '任务执行记录',
  tenant: '租户',
  user: '用户',
  'virtual machine': '虚拟机',
};

export class ApiError extends Error {
  override name = 'ApiError';
  readonly parameters: MessageParameters;

  constructor(
    readonly statusCode: number,
    readonly code: MessageCode,
    parameters: MessageParameters = {},
  ) {
    super(code);
    const resource = parameters.resource;
    this.parameters =
      typeof resource === 'string'
        ? { ...parameters, resource_zh: RESOURCE_NAMES_ZH[resource] ?? resource }
        : parameters;
  }
}

/**
 * Picks zh-CN or English from an Accept-Language header by quality value (`q=`):
 * English when an `en` range ranks above every `zh` range, else zh-CN.
 */
export function localeFromAcceptLanguage(header: string | undefined): Locale {
  let english = -1;
  let chinese = -1;
  for (const [index, part] of (header ?? '').split(',').entries()) {
    const [range = '', ...parameters] = part.trim().toLowerCase().split(';');
    const qualityText = parameters
      .map((parameter) => parameter.trim())
      .find((parameter) => parameter.startsWith('q='));
    const quality = qualityText === undefined ? 1 : Number(qualityText.slice(2));
    if (!Number.isFinite(quality) || quality <= 0) continue;
    // Earlier ranges win ties, as listed order is the client's preference.
    const rank = quality - index * 1e-6;
    if (range === 'en' || range.startsWith('en-')) english = Math.max(english, rank);
    if (range === 'zh' || range.startsWith('zh-')) chinese = Math.max(chinese, rank);
  }
  return english > chinese ? 'en' : 'zh-CN';
}

const CONFLICT_CODES = new Set<string>([
  'tenant_exists',
  'system_exists',
  'vm_exists',
  'price_version_exists',
  'task_already_running',
  'username_exists',
  'price_version_in_use',
  'price_version_in_force',
  'last_active_admin',
  'vm_read_only',
  'vm_deleted',
  'inventory_source_exists',
]);

function domainStatus(error: DomainError): number {
  if (error.code.endsWith('_not_found')) return 404;
  // Redis is down or unreachable: the request was fine and may succeed later.
  if (error.code === 'task_queue_unavailable') return 503;
  if (CONFLICT_CODES.has(error.code)) return 409;
  return 400;
}

export function sendError(
  reply: FastifyReply,
  statusCode: number,
  code: MessageCode,
  parameters: MessageParameters,
  locale: Locale,
  details?: FieldError[],
) {
  return reply
    .status(statusCode)
    .send({ code, message: translate(code, parameters, locale), ...(details ? { details } : {}) });
}

/** Returns whether the request has a body, by the headers that Fastify also checks before parsing one. */
function hasBody(request: FastifyRequest): boolean {
  const { 'content-length': length, 'transfer-encoding': encoding } = request.headers;
  return encoding !== undefined || (length !== undefined && length !== '0');
}

/**
 * Returns the status, code and message parameters of a 4xx that Fastify
 * raises before validation (request body parsing), or of any other 4xx,
 * which becomes `bad_request` with Fastify's English message. Returns
 * undefined for errors that are not 4xx.
 */
function clientErrorOf(
  error: FastifyError,
  request: FastifyRequest,
): { statusCode: number; code: MessageCode; parameters: MessageParameters } | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { statusCode: 400, code: 'invalid_json', parameters: {} };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { statusCode: 400, code: 'empty_json_body', parameters: {} };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { statusCode: 400, code: 'content_length_mismatch', parameters: {} };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        statusCode: 413,
        code: 'body_too_large',
        parameters: { limit: request.routeOptions.bodyLimit },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const contentType = request.headers['content-type'];
      return contentType === undefined
        ? { statusCode: 415, code: 'missing_content_type', parameters: {} }
        : {
            statusCode: 415,
            code: 'unsupported_media_type',
            parameters: { content_type: shortenText(contentType) },
          };
    }
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { statusCode: error.statusCode, code: 'bad_request', parameters: { reason: error.message } };
  }
  return undefined;
}

/** Fastify error handler that maps every error to the documented error shape. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const locale = localeFromAcceptLanguage(request.headers['accept-language']);

  if (error instanceof ApiError)
    return sendError(reply, error.statusCode, error.code, error.parameters, locale);

  if (error instanceof DomainError) {
    const message = translate(error.code, error.parameters, locale);
    const details = error.field ? [{ field: error.field, code: error.code, message }] : undefined;
    return sendError(reply, domainStatus(error), error.code, error.parameters, locale, details);
  }

  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const details = validationDetails(
      fastifyError.validation,
      fastifyError.validationContext,
      locale,
      hasBody(request),
    );
    const summary = validationSummary(details, locale);
    return sendError(reply, 400, 'validation_failed', { summary }, locale, details);
  }

  if (fastifyError.statusCode === 429) {
    const seconds = Number(reply.getHeader('retry-after') ?? 60);
    return sendError(reply, 429, 'rate_limited', { seconds }, locale);
  }

  const clientError = clientErrorOf(fastifyError, request);
  if (clientError) {
    request.log.info(
      { fastify_code: fastifyError.code, code: clientError.code, status: clientError.statusCode },
      'request rejected',
    );
    return sendError(reply, clientError.statusCode, clientError.code, clientError.parameters, locale);
  }

  request.log.error({ err: error }, 'request failed');
  return sendError(reply, 500, 'internal_error', { request_id: request.id }, locale);
}

/**
 * Responds to a request that Node.js could not parse, as Fastify's
 * clientErrorHandler: a URL with raw non-ASCII bytes, headers over the size
 * limit, or a request not received in time. It sends the error shape of
 * every other response instead of Fastify's English one. No header was read,
 * so the message is in zh-CN, the default language.
 */
export function respondToUnparsableRequest(
  error: NodeJS.ErrnoException,
  socket: Socket,
  headers: Record<string, string>,
): void {
  // A reset connection cannot receive a response.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;

  const [statusCode, code]: [number, MessageCode] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request_headers_too_large']
        : [400, 'malformed_request'];
  const body = JSON.stringify({ code, message: translate(code, {}, 'zh-CN') });

  if (socket.writable) {
    const lines = [
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? ''}`,
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(body)}`,
      'connection: close',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
