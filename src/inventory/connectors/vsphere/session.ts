import { DomainError } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import type { HttpResponse, SourceHttpClient } from '../http.js';
import { API_DIALECT, REST_DIALECT, type VsphereDialect } from './api.js';

/**
 * An authenticated vSphere Automation API session. It logs in with HTTP basic
 * authentication, sends the session id in the `vmware-api-session-id` header
 * and logs in again once when a request returns 401 (the session expired).
 *
 * Sessions are kept per vCenter and user for the life of the process and
 * reused by later syncs, because vCenter limits the number of open sessions
 * and the shared HTTP client has no DELETE to log out.
 * TODO: log out (DELETE /api/session) once the shared HTTP client sends DELETE.
 */

export type ApiSetting = 'api' | 'rest' | 'auto';

interface CachedSession {
  sessionId: string;
  dialect: VsphereDialect;
}

const sessions = new Map<string, CachedSession>();

/** Forgets every cached session, for tests that restart their fake vCenter. */
export function forgetVsphereSessions(): void {
  sessions.clear();
}

export interface VsphereSessionOptions {
  source: string;
  /** Base URL of the vCenter, without a trailing slash. */
  url: string;
  username: string;
  password: string;
  api: ApiSetting;
  logger: Logger;
}

export class VsphereSession {
  private session: CachedSession | undefined;
  /** The login in progress, shared by concurrent requests that found no valid session. */
  private pendingLogin: Promise<CachedSession> | undefined;
  private readonly cacheKey: string;
  private readonly authorization: string;

  constructor(
    private readonly http: SourceHttpClient,
    private readonly options: VsphereSessionOptions,
  ) {
    this.cacheKey = `${options.url}\n${options.username}\n${options.api}`;
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    http.addSecret(options.password);
    http.addSecret(this.authorization.slice('Basic '.length));
    this.session = sessions.get(this.cacheKey);
    if (this.session) http.addSecret(this.session.sessionId);
  }

  /** Returns the API form in use, logging in first when no session exists yet. */
  async dialect(): Promise<VsphereDialect> {
    return (await this.current()).dialect;
  }

  /** Sends a GET and returns the unwrapped JSON value, or undefined for a status in `missing`. */
  async get(path: (dialect: VsphereDialect) => string, missing: readonly number[] = []): Promise<unknown> {
    return this.send('GET', path, undefined, missing);
  }

  /** Sends a POST with a JSON body and returns the unwrapped JSON value. */
  async post(path: (dialect: VsphereDialect) => string, body: unknown): Promise<unknown> {
    return this.send('POST', path, body, []);
  }

  private async send(
    method: 'GET' | 'POST',
    path: (dialect: VsphereDialect) => string,
    body: unknown,
    missing: readonly number[],
  ): Promise<unknown> {
    let session = await this.current();
    let response = await this.request(method, session, path, body, missing);
    if (response.status === 401) {
      session = await this.renew(session);
      response = await this.request(method, session, path, body, missing);
      if (response.status === 401) {
        throw new DomainError('inventory_source_login_failed', {
          source: this.options.source,
          problem: `${method} ${path(session.dialect)} returned HTTP 401 right after a new login; check the user's permissions`,
        });
      }
    }
    if (missing.includes(response.status)) return undefined;
    return session.dialect.unwrap(this.http.parseJson(response));
  }

  private request(
    method: 'GET' | 'POST',
    session: CachedSession,
    path: (dialect: VsphereDialect) => string,
    body: unknown,
    missing: readonly number[],
  ): Promise<HttpResponse> {
    return this.http.request({
      method,
      url: `${this.options.url}${path(session.dialect)}`,
      headers: { 'vmware-api-session-id': session.sessionId },
      ...(body === undefined ? {} : { json: body }),
      acceptStatuses: [401, ...missing],
    });
  }

  private current(): Promise<CachedSession> {
    return this.session === undefined ? this.renew(undefined) : Promise.resolve(this.session);
  }

  /**
   * Replaces the `expired` session. Concurrent requests that met the same
   * expired session share one login, and one that arrives after another
   * request already renewed it uses the new session.
   */
  private renew(expired: CachedSession | undefined): Promise<CachedSession> {
    if (this.session !== undefined && this.session !== expired) return Promise.resolve(this.session);
    if (this.pendingLogin === undefined) {
      if (expired !== undefined) {
        this.options.logger.info(
          { source: this.options.source, url: this.options.url },
          'vsphere session expired; logging in again',
        );
      }
      this.pendingLogin = this.login().finally(() => {
        this.pendingLogin = undefined;
      });
    }
    return this.pendingLogin;
  }

  /** Creates a session, probing `/api` then `/rest` when the setting is auto. */
  private async login(): Promise<CachedSession> {
    sessions.delete(this.cacheKey);
    this.session = undefined;
    const candidates =
      this.options.api === 'api'
        ? [API_DIALECT]
        : this.options.api === 'rest'
          ? [REST_DIALECT]
          : [API_DIALECT, REST_DIALECT];

    for (const dialect of candidates) {
      const response = await this.http.request({
        method: 'POST',
        url: `${this.options.url}${dialect.sessionPath}`,
        headers: { authorization: this.authorization },
        acceptStatuses: [401, 403, 404],
      });
      // vCenter before 7.0U2 has no /api/session, so auto falls back to /rest.
      if (response.status === 404 && candidates.length > 1 && dialect === API_DIALECT) continue;
      if (response.status !== 200 && response.status !== 201) {
        throw new DomainError('inventory_source_login_failed', {
          source: this.options.source,
          problem:
            response.status === 404
              ? `POST ${dialect.sessionPath} returned HTTP 404; check the url, or set api to ${dialect.api === 'api' ? 'rest for vCenter 6.5 to 7.0U1' : 'api for vCenter 7.0U2 and later'}`
              : `POST ${dialect.sessionPath} returned HTTP ${response.status}; check the username and password`,
        });
      }

      const sessionId = dialect.unwrap(this.http.parseJson(response));
      if (typeof sessionId !== 'string' || sessionId === '') {
        throw new DomainError('inventory_source_unexpected_answer', {
          source: this.options.source,
          url: response.url,
          problem: `the session id is not a non-empty JSON string${dialect.api === 'rest' ? ' in "value"' : ''}`,
        });
      }
      this.http.addSecret(sessionId);
      const session = { sessionId, dialect };
      sessions.set(this.cacheKey, session);
      this.session = session;
      this.options.logger.info(
        { source: this.options.source, url: this.options.url, api: dialect.api },
        'vsphere login succeeded',
      );
      return session;
    }
    // Unreachable: the last candidate either returns or throws.
    throw new Error('no vSphere API form to log in with');
  }
}
