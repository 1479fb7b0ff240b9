import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../test/support/api.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Values that often break parsers: wrong types, huge and odd numbers, injection-looking text. */
const oddScalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '-1',
    '0',
    '1e309',
    'NaN',
    '9999999999999999999999',
    "'; DROP TABLE tenants; --",
    '%00',
    '../..',
    '𠮷',
    '\u0000',
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const oddJson = fc.oneof(
  oddScalar,
  fc.array(oddScalar, { maxLength: 4 }),
  fc.dictionary(
    fc.constantFrom(
      'code',
      'name',
      'discount_rate',
      'run_mode',
      'tenant',
      'cpu',
      'memory',
      'storage',
      'date',
      'from',
      'to',
      'password',
      'username',
      'role',
      'effective_from',
      'x',
    ),
    oddScalar,
    { maxKeys: 6 },
  ),
);
const oddPathSegment = fc.oneof(
  fc.constantFrom('0', '-1', '1', '2147483648', '1.5', 'abc', '%20', 'null', '99999999999999999999'),
  fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent),
);
const oddQuery = fc.dictionary(
  fc.constantFrom(
    'page',
    'page_size',
    'ordering',
    'tenant',
    'information_system',
    'billing_date_after',
    'billing_date_before',
    'wait',
    'format',
    'group_by',
    'status',
    'search',
    'code',
  ),
  oddScalar.map(String),
  { maxKeys: 4 },
);
const oddHeaders = fc.record(
  {
    'accept-language': fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('en', 'zh-CN', '*', 'en;q=abc'),
    ),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'application/json; charset=latin1',
    ),
  },
  { requiredKeys: [] },
);

describe('malformed input', () => {
  let world: ApiWorld;
  let operations: { method: Method; path: string }[];

  beforeAll(async () => {
    world = await createApiWorld();
    const document = (await world.request('anonymous', 'GET', '/api/schema/')).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    // Deleting users or revoking tokens could remove the callers' own credentials
    // and leave the rest of the run testing only 401s.
    const credentialRoutes = /^\/api\/(users|tokens)\//;
    operations = Object.entries(document.paths)
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => ({ method: method.toUpperCase() as Method, path })),
      )
      .filter((operation) => !(operation.method === 'DELETE' && credentialRoutes.test(operation.path)));
  });

  afterAll(async () => {
    await world?.close();
  });

  it('never answers 5xx to any route', async () => {
    expect(operations.length).toBeGreaterThan(5);

    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 1_000_000 }),
        fc.constantFrom('admin', 'tenant_viewer', 'anonymous'),
        oddPathSegment,
        oddQuery,
        oddJson,
        oddHeaders,
        fc.boolean(),
        async (pick, caller, segment, query, body, headers, rawBody) => {
          const operation = operations[pick % operations.length]!;
          const path = operation.path.replace(/\{[^}]+\}/g, segment);
          const search = new URLSearchParams(query).toString();
          const url = search ? `${path}?${search}` : path;
          // rawBody sends the JSON cut short, which no JSON parser accepts.
          const json = JSON.stringify(body) ?? 'null';
          const payload =
            operation.method === 'GET' || operation.method === 'DELETE'
              ? undefined
              : rawBody
                ? json.slice(0, -1) || '{'
                : json;

          const response = await world.app.inject({
            method: operation.method,
            url,
            headers: {
              ...headers,
              ...(caller === 'anonymous' ? {} : { authorization: `Bearer ${world.tokens[caller]}` }),
            },
            ...(payload === undefined ? {} : { payload }),
          });

          if (response.statusCode >= 500) {
            throw new Error(
              `${operation.method} ${url} → ${response.statusCode}: ${response.body.slice(0, 300)}`,
            );
          }
        },
      ),
      { numRuns: 600, seed: 4_120_26 },
    );
  });
});
