import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONNECTORS } from '../inventory/connectors/registry.js';
import { handleError } from './errors.js';
import { isSecretName, renderValue } from './validation-messages.js';
import { strictValidatorCompiler } from './validator.js';

const Body = Type.Object(
  {
    label: Type.String({ minLength: 1 }),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    ratio: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    share: Type.Optional(Type.Number({ exclusiveMaximum: 1 })),
    step: Type.Optional(Type.Number({ multipleOf: 0.5 })),
    name: Type.Optional(Type.String({ minLength: 2, maxLength: 10 })),
    code: Type.Optional(Type.String({ pattern: '^[a-z]+$' })),
    day: Type.Optional(Type.String({ format: 'date' })),
    at: Type.Optional(Type.String({ format: 'date-time' })),
    mode: Type.Optional(Type.Union([Type.Literal('7x24'), Type.Literal('5x8')])),
    tenant: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    color: Type.Optional(Type.Enum(['red', 'green'])),
    kind: Type.Optional(Type.Literal('vm')),
    tags: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 3, uniqueItems: true })),
    active: Type.Optional(Type.Boolean()),
    filter: Type.Optional(Type.Object({ id: Type.Integer() }, { additionalProperties: false })),
    password: Type.Optional(Type.String({ minLength: 8 })),
    settings: Type.Optional(Type.Object({ token_secret: Type.String({ maxLength: 4 }) })),
    point: Type.Optional(Type.Union([Type.Object({ x: Type.Integer() }), Type.Null()])),
    pair: Type.Optional(Type.Tuple([Type.Integer()])),
  },
  { additionalProperties: false },
);

/** A bare Fastify app with the API's validator compiler and error handler. */
async function buildTestApp(): Promise<FastifyInstance> {
  const app = Fastify();
  app.setValidatorCompiler(strictValidatorCompiler);
  app.setErrorHandler(handleError);
  app.post('/things', { schema: { body: Body } }, async () => ({ ok: true }));
  app.post(
    '/small',
    { schema: { body: Type.Object({ id: Type.Integer() }, { additionalProperties: false }) } },
    async () => ({ ok: true }),
  );
  app.get(
    '/things',
    {
      schema: {
        querystring: Type.Object({
          page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          active: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async () => ({ ok: true }),
  );
  app.get(
    '/keyed',
    { schema: { headers: Type.Object({ 'x-api-key': Type.String({ minLength: 20 }) }) } },
    async () => ({ ok: true }),
  );
  await app.ready();
  return app;
}

interface Detail {
  field: string;
  code: string;
  message: string;
}

describe('validation messages', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildTestApp();
  });

  afterAll(async () => {
    await app?.close();
  });

  async function post(url: string, body: unknown, language?: string) {
    const response = await app.inject({
      method: 'POST',
      url,
      payload: body as object,
      headers: language === undefined ? {} : { 'accept-language': language },
    });
    return {
      statusCode: response.statusCode,
      body: response.json() as { code: string; message: string; details: Detail[] },
    };
  }

  // [change to a valid body, field, code, zh-CN message, English message]
  const cases: [Record<string, unknown>, string, string, string, string][] = [
    [
      { count: 0 },
      'body.count',
      'minimum',
      '应为 1 到 100 之间的整数，收到 0',
      'must be an integer from 1 to 100, got 0',
    ],
    [
      { count: 101 },
      'body.count',
      'maximum',
      '应为 1 到 100 之间的整数，收到 101',
      'must be an integer from 1 to 100, got 101',
    ],
    [
      { count: 1.5 },
      'body.count',
      'type',
      '应为 1 到 100 之间的整数，收到 1.5',
      'must be an integer from 1 to 100, got 1.5',
    ],
    [
      { count: '5' },
      'body.count',
      'type',
      '应为 1 到 100 之间的整数，收到 "5"',
      'must be an integer from 1 to 100, got "5"',
    ],
    [
      { ratio: 0 },
      'body.ratio',
      'exclusiveMinimum',
      '应为大于 0 且不大于 1 的数值，收到 0',
      'must be a number above 0 and of at most 1, got 0',
    ],
    [
      { share: 1 },
      'body.share',
      'exclusiveMaximum',
      '应为小于 1 的数值，收到 1',
      'must be a number below 1, got 1',
    ],
    [
      { step: 0.3 },
      'body.step',
      'multipleOf',
      '应为可被 0.5 整除的数值，收到 0.3',
      'must be a number divisible by 0.5, got 0.3',
    ],
    [
      { name: 'a' },
      'body.name',
      'minLength',
      '应为 2 到 10 个字符的文本，收到 "a"',
      'must be text of 2 to 10 characters, got "a"',
    ],
    [
      { name: 'abcdefghijk' },
      'body.name',
      'maxLength',
      '应为 2 到 10 个字符的文本，收到 "abcdefghijk"',
      'must be text of 2 to 10 characters, got "abcdefghijk"',
    ],
    [
      { code: 'ABC' },
      'body.code',
      'pattern',
      '应为符合正则表达式 ^[a-z]+$ 的文本，收到 "ABC"',
      'must be text matching the regular expression ^[a-z]+$, got "ABC"',
    ],
    [
      { day: '2026-13-01' },
      'body.day',
      'format',
      '应为 YYYY-MM-DD 格式的日期，收到 "2026-13-01"',
      'must be a date in the form YYYY-MM-DD, got "2026-13-01"',
    ],
    [
      { at: 'tomorrow' },
      'body.at',
      'format',
      '应为 ISO 8601 格式的日期时间（如 2026-01-31T08:00:00+08:00），收到 "tomorrow"',
      'must be an ISO 8601 date and time such as 2026-01-31T08:00:00+08:00, got "tomorrow"',
    ],
    [
      { mode: '24x7' },
      'body.mode',
      'anyOf',
      '应为 7x24 或 5x8，收到 "24x7"',
      'must be 7x24 or 5x8, got "24x7"',
    ],
    [{ mode: null }, 'body.mode', 'anyOf', '应为 7x24 或 5x8，收到 null', 'must be 7x24 or 5x8, got null'],
    [
      { tenant: 0 },
      'body.tenant',
      'anyOf',
      '应为不小于 1 的整数或 null，收到 0',
      'must be an integer of at least 1 or null, got 0',
    ],
    [
      { tenant: 'T1' },
      'body.tenant',
      'anyOf',
      '应为不小于 1 的整数或 null，收到 "T1"',
      'must be an integer of at least 1 or null, got "T1"',
    ],
    [
      { color: 'blue' },
      'body.color',
      'enum',
      '应为 red 或 green，收到 "blue"',
      'must be red or green, got "blue"',
    ],
    [{ kind: 'host' }, 'body.kind', 'const', '应为 vm，收到 "host"', 'must be vm, got "host"'],
    [
      { tags: [] },
      'body.tags',
      'minItems',
      '应为 1 到 3 项且不含重复项的列表，收到 []',
      'must be a list of 1 to 3 items without duplicates, got []',
    ],
    [
      { tags: ['a', 'b', 'c', 'd'] },
      'body.tags',
      'maxItems',
      '应为 1 到 3 项且不含重复项的列表，收到 ["a","b","c","d"]',
      'must be a list of 1 to 3 items without duplicates, got ["a","b","c","d"]',
    ],
    [
      { tags: ['a', 'a'] },
      'body.tags',
      'uniqueItems',
      '应为 1 到 3 项且不含重复项的列表，收到 ["a","a"]',
      'must be a list of 1 to 3 items without duplicates, got ["a","a"]',
    ],
    [{ tags: ['a', 7] }, 'body.tags.1', 'type', '应为文本，收到 7', 'must be text, got 7'],
    [
      { active: 'yes' },
      'body.active',
      'type',
      '应为 true 或 false，收到 "yes"',
      'must be true or false, got "yes"',
    ],
    [{ filter: 'x' }, 'body.filter', 'type', '应为 JSON 对象，收到 "x"', 'must be a JSON object, got "x"'],
    [
      { filter: { id: 1, name: 'x' } },
      'body.filter.name',
      'additionalProperties',
      '不是可用字段；可用字段：id',
      'is not an allowed field; allowed fields: id',
    ],
    [{ filter: {} }, 'body.filter.id', 'required', '必填，应为整数', 'is required and must be an integer'],
    [{ pair: [1, 2] }, 'body.pair.1', 'boolean', '不允许出现', 'is not allowed'],
    [{ label: '' }, 'body.label', 'minLength', '应为非空文本，收到 ""', 'must be non-empty text, got ""'],
    [
      { count: { n: 1, password: 'hunter22' } },
      'body.count',
      'type',
      '应为 1 到 100 之间的整数，收到 {"n":1,"password":"***"}',
      'must be an integer from 1 to 100, got {"n":1,"password":"***"}',
    ],
    [
      { name: '名'.repeat(80) },
      'body.name',
      'maxLength',
      `应为 2 到 10 个字符的文本，收到 "${'名'.repeat(60)}…"`,
      `must be text of 2 to 10 characters, got "${'名'.repeat(60)}…"`,
    ],
  ];

  it.each(cases)('reports %j', async (change, field, code, chinese, english) => {
    const body = { label: 'ok', ...change };

    const zh = await post('/things', body, 'zh-CN');
    const en = await post('/things', body, 'en');

    expect(zh.statusCode).toBe(400);
    expect(zh.body.code).toBe('validation_failed');
    expect(zh.body.details).toEqual([{ field, code, message: chinese }]);
    expect(en.body.details).toEqual([{ field, code, message: english }]);
  });

  it('keeps errors inside an object member of a union', async () => {
    const response = await post('/things', { label: 'ok', point: { x: 'q' } }, 'en');

    expect(response.body.details).toEqual([
      { field: 'body.point.x', code: 'type', message: 'must be an integer, got "q"' },
      { field: 'body.point', code: 'anyOf', message: 'must be a JSON object or null, got {"x":"q"}' },
    ]);
  });

  it('never shows the value of a secret field', async () => {
    const cases: [Record<string, unknown>, string, string, string][] = [
      [
        { password: 'hunter2' },
        'body.password',
        '应为至少 8 个字符的文本',
        'must be text of at least 8 characters',
      ],
      [
        { password: 12345678 },
        'body.password',
        '应为至少 8 个字符的文本',
        'must be text of at least 8 characters',
      ],
      [
        { settings: { token_secret: 's3cr3t-value' } },
        'body.settings.token_secret',
        '应为不超过 4 个字符的文本',
        'must be text of at most 4 characters',
      ],
    ];
    for (const [change, field, chinese, english] of cases) {
      const body = { label: 'ok', ...change };
      const zh = await post('/things', body, 'zh-CN');
      const en = await post('/things', body, 'en');

      expect(zh.body.details, field).toEqual([{ field, code: expect.any(String), message: chinese }]);
      expect(en.body.details, field).toEqual([{ field, code: expect.any(String), message: english }]);
      expect(zh.body.message, field).toBe(`请求参数无效：${field} ${chinese}`);
      for (const secret of ['hunter2', '12345678', 's3cr3t-value']) {
        expect(JSON.stringify(zh.body), field).not.toContain(secret);
        expect(JSON.stringify(en.body), field).not.toContain(secret);
      }
    }
  });

  it('never shows a secret header', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/keyed',
      headers: { 'x-api-key': 'short-key', 'accept-language': 'en' },
    });

    expect(response.statusCode).toBe(400);
    expect(response.json().details).toEqual([
      { field: 'headers.x-api-key', code: 'minLength', message: 'must be text of at least 20 characters' },
    ]);
    expect(response.body).not.toContain('short-key');
  });

  it('puts the field messages into the top-level message', async () => {
    const body = { label: 'ok', count: 0, mode: '24x7' };

    const zh = await post('/things', body);
    const en = await post('/things', body, 'en-US,en;q=0.9');

    expect(zh.body.message).toBe(
      '请求参数无效：body.count 应为 1 到 100 之间的整数，收到 0；body.mode 应为 7x24 或 5x8，收到 "24x7"',
    );
    expect(en.body.message).toBe(
      'invalid request: body.count must be an integer from 1 to 100, got 0; body.mode must be 7x24 or 5x8, got "24x7"',
    );
  });

  it('names each missing and unknown field', async () => {
    const missing = await post('/things', { count: 5 }, 'en');
    const unknown = await post('/small', { id: 1, 'a/b': 2, 'c~d': 3 }, 'en');
    const chineseUnknown = await post('/small', { id: 1, extra: true });

    expect(missing.body.details).toEqual([
      { field: 'body.label', code: 'required', message: 'is required and must be non-empty text' },
    ]);
    expect(unknown.body.details).toEqual([
      {
        field: 'body.a/b',
        code: 'additionalProperties',
        message: 'is not an allowed field; allowed fields: id',
      },
      {
        field: 'body.c~d',
        code: 'additionalProperties',
        message: 'is not an allowed field; allowed fields: id',
      },
    ]);
    expect(chineseUnknown.body.details).toEqual([
      { field: 'body.extra', code: 'additionalProperties', message: '不是可用字段；可用字段：id' },
    ]);
  });

  it('describes a body that is not an object', async () => {
    const array = await post('/small', [1, 2], 'en');
    const nullBody = await app.inject({
      method: 'POST',
      url: '/small',
      payload: 'null',
      headers: { 'content-type': 'application/json', 'accept-language': 'en' },
    });
    const none = await app.inject({ method: 'POST', url: '/small', headers: { 'accept-language': 'en' } });

    expect(array.body.details).toEqual([
      { field: 'body', code: 'type', message: 'must be a JSON object, got [1,2]' },
    ]);
    expect(nullBody.json().details).toEqual([
      { field: 'body', code: 'type', message: 'must be a JSON object, got null' },
    ]);
    expect(none.statusCode).toBe(400);
    expect(none.json().details).toEqual([
      { field: 'body', code: 'type', message: 'is required and must be a JSON object' },
    ]);
  });

  it('shows converted query values', async () => {
    const cases: [string, string, string][] = [
      ['page=0', 'minimum', '应为 1 到 1000 之间的整数，收到 0'],
      ['page=abc', 'type', '应为 1 到 1000 之间的整数，收到 "abc"'],
      ['page=1.5', 'type', '应为 1 到 1000 之间的整数，收到 "1.5"'],
      ['page=1&page=2', 'type', '应为 1 到 1000 之间的整数，收到 ["1","2"]'],
    ];
    for (const [query, code, message] of cases) {
      const response = await app.inject({ method: 'GET', url: `/things?${query}` });

      expect(response.statusCode, query).toBe(400);
      expect(response.json().details, query).toEqual([{ field: 'querystring.page', code, message }]);
    }

    const flag = await app.inject({
      method: 'GET',
      url: '/things?active=yes',
      headers: { 'accept-language': 'en' },
    });
    expect(flag.json().details).toEqual([
      { field: 'querystring.active', code: 'type', message: 'must be true or false, got "yes"' },
    ]);
  });

  it('answers 400 for a body with many bad fields', async () => {
    const body = {
      label: '',
      count: 0,
      ratio: 2,
      share: 5,
      step: 0.1,
      name: 'a',
      code: 'X',
      day: 'x',
      at: 'x',
      mode: 'x',
      tenant: 'x',
      color: 'x',
      kind: 'x',
      tags: [],
      active: 'x',
    };

    const response = await post('/things', body, 'en');

    expect(response.statusCode).toBe(400);
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.details[0]).toEqual({
      field: 'body.label',
      code: 'minLength',
      message: 'must be non-empty text, got ""',
    });
    expect(response.body.details.length).toBeGreaterThan(3);
  });
});

describe('isSecretName', () => {
  it('covers every secret field of the inventory connectors', () => {
    const fields = CONNECTORS.flatMap((connector) => connector.secretFields);

    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields) expect(isSecretName(field), field).toBe(true);
  });

  it.each(['password', 'new_password', 'token', 'api_key', 'X-Api-Key', 'authorization', 'client_secret'])(
    'treats %s as secret',
    (name) => {
      expect(isSecretName(name)).toBe(true);
    },
  );

  it.each(['name', 'username', 'cpu', 'code', 'page'])('treats %s as public', (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe('renderValue', () => {
  it.each([
    ['text', '"text"'],
    ['say "hi"\n', '"say \\"hi\\"\\n"'],
    [0, '0'],
    [-1.5, '-1.5'],
    [true, 'true'],
    [null, 'null'],
    [[1, 'a'], '[1,"a"]'],
    [{ a: { secret: 'x', b: 1 } }, '{"a":{"secret":"***","b":1}}'],
    ['x'.repeat(61), `"${'x'.repeat(60)}…"`],
    ['x'.repeat(60), `"${'x'.repeat(60)}"`],
    [{ list: 'y'.repeat(80) }, `${`{"list":"${'y'.repeat(80)}"}`.slice(0, 60)}…`],
    ['𠮷'.repeat(61), `"${'𠮷'.repeat(60)}…"`],
  ])('renders %j as %s', (value, rendered) => {
    expect(renderValue(value)).toBe(rendered);
  });
});
