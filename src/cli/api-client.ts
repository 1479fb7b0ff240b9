import { SESSION_COOKIE } from '../api/auth/plugin.js';
import { translate, type Locale } from '../i18n/messages.js';

/** Exit statuses of the commands that call the API. */
export const EXIT = {
  succeeded: 0,
  /** The task failed, or the request did: server unreachable, not logged in, permission denied. */
  failed: 1,
  /** The API rejected the input (400, unknown task). */
  badInput: 2,
  /** A run of the task is already in progress (409). */
  alreadyRunning: 3,
  /** The run did not finish within the --wait time, and it continues on the server. */
  timedOut: 4,
} as const;

/** Timeout of a request that does not wait for a task, in milliseconds. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A failure that ends a command with `exitCode` after printing `message` (unless empty). */
export class RemoteCommandError extends Error {
  override name = 'RemoteCommandError';

  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export type Authentication = { token: string } | { session: string } | null;

export interface ApiResponse {
  status: number;
  url: string;
  headers: Headers;
  /** Parsed JSON body, undefined when the body is empty or not JSON. */
  body: unknown;
}

/**
 * A JSON client of the cloud-platform API over Node's fetch. Every request
 * has a timeout, and Accept-Language requests messages in the CLI's locale.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly authentication: Authentication,
    private readonly locale: Locale,
  ) {}

  /** Sends a request. Throws RemoteCommandError only when no HTTP response arrives. */
  async request(
    method: 'GET' | 'POST' | 'DELETE',
    apiPath: string,
    options: { body?: unknown; timeoutMs?: number } = {},
  ): Promise<ApiResponse> {
    const url = `${this.baseUrl}${apiPath}`;
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'accept-language': this.locale === 'en' ? 'en' : 'zh-CN',
    };
    if (this.authentication && 'token' in this.authentication) {
      headers.authorization = `Bearer ${this.authentication.token}`;
    } else if (this.authentication) {
      headers.cookie = `${SESSION_COOKIE}=${this.authentication.session}`;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        // A redirect could carry the credentials elsewhere, so it is reported as an unexpected response.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw this.#connectionError(url, error, timeoutMs);
    }

    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, url, headers: response.headers, body };
  }

  #connectionError(url: string, error: unknown, timeoutMs: number): RemoteCommandError {
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new RemoteCommandError(
        EXIT.failed,
        translate('cli_api_timed_out', { url, seconds: Math.round(timeoutMs / 1000) }, this.locale),
      );
    }
    const cause =
      error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
    const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new RemoteCommandError(
      EXIT.failed,
      translate('cli_api_unreachable', { url: this.baseUrl, reason }, this.locale),
    );
  }
}

/** Turns an error response into a RemoteCommandError with the API's message, already in the CLI's locale. */
export function responseError(response: ApiResponse, locale: Locale): RemoteCommandError {
  const body = response.body as { code?: unknown; message?: unknown } | undefined;
  if (typeof body?.message !== 'string') {
    return new RemoteCommandError(
      EXIT.failed,
      translate('cli_api_unexpected', { url: response.url, status: response.status }, locale),
    );
  }
  let exitCode: number = EXIT.failed;
  if (response.status === 400 || (response.status === 404 && body.code === 'unknown_task')) {
    exitCode = EXIT.badInput;
  } else if (response.status === 409) {
    exitCode = EXIT.alreadyRunning;
  }
  return new RemoteCommandError(exitCode, body.message);
}

/**
 * Validates a server URL given by the user and returns it without a trailing
 * slash. A path stays, for a server behind a reverse proxy under a prefix.
 * Returns undefined for anything but an http or https URL without user info,
 * query or fragment.
 */
export function normalizeServerUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
