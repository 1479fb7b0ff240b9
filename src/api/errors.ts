import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { DomainError } from '../errors.js';
import { translate, type Locale, type MessageCode, type MessageParameters } from '../i18n/messages.js';

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

export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly statusCode: number,
    readonly code: MessageCode,
    readonly parameters: MessageParameters = {},
  ) {
    super(code);
  }
}

/** Picks zh-CN or English from an Accept-Language header; zh-CN when absent or neither is preferred first. */
export function localeFromAcceptLanguage(header: string | undefined): Locale {
  const first = header?.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'zh-CN';
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
]);

function domainStatus(error: DomainError): number {
  if (error.code.endsWith('_not_found')) return 404;
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
    const details = fastifyError.validation.map((issue) => {
      const missing = (issue.params as { missingProperty?: string } | undefined)?.missingProperty;
      const path = [fastifyError.validationContext, ...issue.instancePath.split('/').filter(Boolean), missing]
        .filter(Boolean)
        .join('.');
      return { field: path, code: issue.keyword, message: issue.message ?? 'invalid' };
    });
    const summary = details.map((detail) => `${detail.field}: ${detail.message}`).join('; ');
    return sendError(reply, 400, 'validation_failed', { summary }, locale, details);
  }

  if (fastifyError.statusCode === 429) {
    const seconds = Number(reply.getHeader('retry-after') ?? 60);
    return sendError(reply, 429, 'rate_limited', { seconds }, locale);
  }

  if (
    fastifyError.statusCode !== undefined &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return sendError(
      reply,
      fastifyError.statusCode,
      'invalid_body',
      { reason: fastifyError.message },
      locale,
    );
  }

  request.log.error({ err: error }, 'request failed');
  return sendError(reply, 500, 'internal_error', { request_id: request.id }, locale);
}
