import type { MessageCode, MessageParameters } from './i18n/messages.js';

/**
 * An error a user can fix: bad input, an unknown code, a conflict. `code` is
 * stable (API clients match on it) and selects the zh-CN or English message.
 */
export class DomainError extends Error {
  override name = 'DomainError';

  constructor(
    readonly code: MessageCode,
    readonly parameters: MessageParameters = {},
    /** Field of the request that contains the bad value, when there is one. */
    readonly field?: string,
  ) {
    super(`${code} ${JSON.stringify(parameters)}`);
  }
}

/** Returns whether `error` is PostgreSQL's unique_violation (SQLSTATE 23505), from pg or PGlite. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
