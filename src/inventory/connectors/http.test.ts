import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import { DomainError } from '../../errors.js';
import { translate } from '../../i18n/messages.js';
import { SourceHttpClient } from './http.js';

const silent = pino({ level: 'silent' });
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Starts a server whose n-th request (1-based) gets `handler(n)`: a status and body, or `reset` to drop the connection. */
async function serve(
  handler: (request: number) => { status: number; body: string } | 'reset',
): Promise<string> {
  let count = 0;
  server = createServer((request, response) => {
    count += 1;
    const answer = handler(count);
    if (answer === 'reset') {
      request.socket.destroy();
      return;
    }
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(options: { retries?: number; maxResponseBytes?: number } = {}) {
  return new SourceHttpClient({
    source: 'test-source',
    timeoutSeconds: 5,
    retries: options.retries ?? 2,
    verifyTls: true,
    logger: silent,
    backoffMs: 1,
    ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
  });
}

async function failureOf(work: Promise<unknown>): Promise<DomainError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('SourceHttpClient', () => {
  it('retries a dropped connection', async () => {
    const url = await serve((request) => (request === 1 ? 'reset' : { status: 200, body: '{"ok": true}' }));
    const http = client();

    expect(await http.getJson(`${url}/x`)).toEqual({ ok: true });
    await http.close();
  });

  it('stops after the configured retries', async () => {
    let requests = 0;
    const url = await serve(() => {
      requests += 1;
      return { status: 502, body: 'bad gateway' };
    });
    const http = client({ retries: 3 });

    const error = await failureOf(http.getJson(`${url}/x`));

    expect(requests).toBe(4);
    expect(translate(error.code, error.parameters, 'en')).toBe(
      `inventory source test-source: GET ${url}/x answered HTTP 502 after 4 attempt(s): bad gateway`,
    );
    await http.close();
  });

  it('returns accepted 4xx statuses', async () => {
    const url = await serve(() => ({ status: 404, body: '{}' }));
    const http = client();

    const response = await http.request({ url: `${url}/x`, acceptStatuses: [404] });

    expect(response.status).toBe(404);
    await http.close();
  });

  it('stops reading a response that is too large', async () => {
    const url = await serve(() => ({ status: 200, body: JSON.stringify({ data: 'x'.repeat(10_000) }) }));
    const http = client({ maxResponseBytes: 1000 });

    const error = await failureOf(http.getJson(`${url}/x`));

    expect(translate(error.code, error.parameters, 'en')).toBe(
      `inventory source test-source answered more than 1000 bytes at ${url}/x; reading stopped`,
    );
    await http.close();
  });

  it('redacts registered secrets', () => {
    const http = client();
    http.addSecret('s3cret-value');
    http.addSecret('abc');

    expect(http.redact('token s3cret-value and abc')).toBe('token *** and abc');
  });
});
