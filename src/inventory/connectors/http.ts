import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';

import { DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/**
 * The HTTP client that connectors share. Each request has its own timeout
 * (headers and body together). Network errors, timeouts and 5xx responses
 * are retried with exponential backoff, but 4xx responses are not. TLS certificates are
 * verified unless `verifyTls` is false, against `caFile` when it is set.
 * Errors name the source and the URL, and every registered secret is
 * replaced by `***` in error messages and log lines.
 */

export interface HttpClientOptions {
  /** Source name, used in errors and logs. */
  source: string;
  timeoutSeconds: number;
  /** Retries after the first attempt. */
  retries: number;
  verifyTls: boolean;
  /** PEM file with the CA certificates to trust instead of Node's bundled ones. */
  caFile?: string | undefined;
  logger: Logger;
  /** Delay before the first retry in milliseconds; it doubles for each further retry, up to 30 s. */
  backoffMs?: number;
  /** Largest response body read, in bytes. */
  maxResponseBytes?: number;
}

/** The connection fields of a connector's config entry (see commonSourceFields). */
export interface HttpSourceConfig {
  name: string;
  timeout_seconds: number;
  retries: number;
  verify_tls: boolean;
  ca_file?: string | undefined;
}

/** Creates the HTTP client of a source from its config entry; `backoffMs` is for tests. */
export function createSourceHttpClient(
  config: HttpSourceConfig,
  logger: Logger,
  tuning: { backoffMs?: number } = {},
): SourceHttpClient {
  return new SourceHttpClient({
    source: config.name,
    timeoutSeconds: config.timeout_seconds,
    retries: config.retries,
    verifyTls: config.verify_tls,
    caFile: config.ca_file,
    logger,
    ...(tuning.backoffMs === undefined ? {} : { backoffMs: tuning.backoffMs }),
  });
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** Body sent as JSON. */
  json?: unknown;
  /** 4xx statuses returned to the caller instead of raised, e.g. 401 to log in again. */
  acceptStatuses?: readonly number[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  url: string;
}

export const DEFAULT_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** 256 MiB: a Nova page of 1,000 servers is a few MB, so only a broken server sends this much. */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** Characters of an error answer's body quoted in the error message. */
const QUOTED_BODY_CHARS = 300;

/** Certificate errors that a retry cannot fix. */
const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Reads a PEM CA file; throws DomainError naming the source and the file. */
export function readCaFile(source: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DomainError(
      'inventory_source_ca_file_unreadable',
      { source, file, error: (error as Error).message },
      'ca_file',
    );
  }
}

export class SourceHttpClient {
  private readonly dispatcher: Dispatcher;
  private readonly secrets = new Set<string>();
  private readonly backoffMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: HttpClientOptions) {
    const ca = options.caFile === undefined ? undefined : readCaFile(options.source, options.caFile);
    this.dispatcher = new Agent({
      connect: { rejectUnauthorized: options.verifyTls, ...(ca === undefined ? {} : { ca }) },
    });
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** Registers a value (password, token) to be replaced by `***` in errors and logs. */
  addSecret(value: string): void {
    // Very short values would blank out ordinary words of messages.
    if (value.length >= 4) this.secrets.add(value);
  }

  /** Replaces every registered secret in `text` by `***`. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join('***');
    return result;
  }

  /**
   * Sends a request, retrying network errors, timeouts and 5xx responses.
   * Returns 2xx responses and those with a status in `acceptStatuses`, and
   * throws DomainError for any other response or when the retries run out.
   */
  async request(input: HttpRequest): Promise<HttpResponse> {
    const method = input.method ?? 'GET';
    const attempts = this.options.retries + 1;
    let lastError: DomainError | undefined;

    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) {
        const delay = Math.min(this.backoffMs * 2 ** (attempt - 2), MAX_BACKOFF_MS);
        this.options.logger.warn(
          {
            source: this.options.source,
            method,
            url: this.redact(input.url),
            attempt,
            attempts,
            delay_ms: delay,
            error: lastError ? lastError.message : undefined,
          },
          'inventory source request failed; retrying',
        );
        await sleep(delay);
      }

      const outcome = await this.attempt(method, input, attempt);
      if ('response' in outcome) return outcome.response;
      lastError = outcome.error;
      if (!outcome.retryable) break;
    }
    throw lastError!;
  }

  /** Sends a GET request and parses its JSON body. */
  async getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
    return this.parseJson(await this.request({ url, headers }));
  }

  /** Parses a response body as JSON; throws DomainError naming the source and URL when it is not. */
  parseJson(response: HttpResponse): unknown {
    try {
      return JSON.parse(response.body) as unknown;
    } catch (error) {
      throw new DomainError('inventory_source_invalid_json', {
        source: this.options.source,
        url: this.redact(response.url),
        error: this.redact((error as Error).message),
      });
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async attempt(
    method: 'GET' | 'POST',
    input: HttpRequest,
    attempt: number,
  ): Promise<{ response: HttpResponse } | { error: DomainError; retryable: boolean }> {
    const url = this.redact(input.url);
    const base = { source: this.options.source, method, url, attempts: attempt };
    const timeoutMs = Math.round(this.options.timeoutSeconds * 1000);
    const headers: Record<string, string> = { accept: 'application/json', ...input.headers };
    if (input.json !== undefined) headers['content-type'] = 'application/json';

    try {
      const answer = await request(input.url, {
        method,
        headers,
        body: input.json === undefined ? null : JSON.stringify(input.json),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await this.readBody(answer.body, input.url);
      const response: HttpResponse = {
        status: answer.statusCode,
        headers: answer.headers,
        body,
        url: input.url,
      };

      if (response.status < 400 || input.acceptStatuses?.includes(response.status)) return { response };
      const error = new DomainError('inventory_source_http_error', {
        ...base,
        status: response.status,
        detail: this.redact(body.slice(0, QUOTED_BODY_CHARS).replace(/\s+/g, ' ').trim()),
      });
      return { error, retryable: response.status >= 500 };
    } catch (error) {
      if (error instanceof DomainError) return { error, retryable: false };
      if (isTimeout(error)) {
        return {
          error: new DomainError('inventory_source_timeout', {
            ...base,
            seconds: this.options.timeoutSeconds,
          }),
          retryable: true,
        };
      }
      const code = errorCode(error);
      const tls = code !== undefined && TLS_ERROR_CODES.has(code);
      const message = this.redact(describeError(error));
      return {
        error: new DomainError(tls ? 'inventory_source_tls_failed' : 'inventory_source_request_failed', {
          ...base,
          error: message,
        }),
        retryable: !tls,
      };
    }
  }

  /** Reads a body as UTF-8 text, stopping with an error past maxResponseBytes. */
  private async readBody(body: Dispatcher.ResponseData['body'], url: string): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > this.maxResponseBytes) {
        body.destroy();
        throw new DomainError('inventory_source_response_too_large', {
          source: this.options.source,
          url: this.redact(url),
          max: this.maxResponseBytes,
        });
      }
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'TimeoutError' ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    (error.name === 'AbortError' && (error.cause as Error | undefined)?.name === 'TimeoutError')
  );
}

function errorCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof cause === 'string' ? cause : undefined;
}

/** Returns the error's message with its code and cause, which carry the useful part of network errors. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return [error.message, cause && cause !== error.message ? cause : undefined, code ? `(${code})` : undefined]
    .filter(Boolean)
    .join(': ');
}
