import { once } from 'node:events';
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../test/support/api.js';
import { localeFromAcceptLanguage } from './errors.js';

describe('localeFromAcceptLanguage', () => {
  it.each([
    [undefined, 'zh-CN'],
    ['', 'zh-CN'],
    ['en', 'en'],
    ['en-US,en;q=0.9', 'en'],
    ['zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
    ['en;q=0.1, zh;q=0.9', 'zh-CN'],
    ['zh-CN;q=0.5, en;q=0.6', 'en'],
    ['fr, en;q=0.5', 'en'],
    ['en;q=0, zh;q=0.1', 'zh-CN'],
    ['en;q=abc', 'zh-CN'],
    ['english', 'zh-CN'],
  ])('%j picks %s', (header, locale) => {
    expect(localeFromAcceptLanguage(header)).toBe(locale);
  });
});

describe('request errors', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  async function send(payload: string, headers: Record<string, string>) {
    const chinese = await world.request('admin', 'POST', '/api/tenants/', payload, headers);
    const english = await world.request('admin', 'POST', '/api/tenants/', payload, {
      ...headers,
      'accept-language': 'en',
    });
    return { chinese, english };
  }

  it('rejects malformed JSON', async () => {
    const { chinese, english } = await send('{"code": "t9", ', { 'content-type': 'application/json' });

    expect(chinese.statusCode).toBe(400);
    expect(chinese.json()).toEqual({
      code: 'invalid_json',
      message: '请求体不是有效的 JSON：请检查引号、逗号与括号（键名 __proto__ 也会被拒绝）',
    });
    expect(english.json()).toEqual({
      code: 'invalid_json',
      message:
        'the request body is not valid JSON: check quotes, commas and brackets (a key named __proto__ is also rejected)',
    });
  });

  it('rejects a JSON body with __proto__', async () => {
    const { chinese } = await send('{"__proto__": {"admin": true}}', { 'content-type': 'application/json' });

    expect(chinese.statusCode).toBe(400);
    expect(chinese.json().code).toBe('invalid_json');
  });

  it('rejects an empty JSON body', async () => {
    const { chinese, english } = await send('', { 'content-type': 'application/json' });

    expect(chinese.statusCode).toBe(400);
    expect(chinese.json()).toEqual({
      code: 'empty_json_body',
      message:
        '请求体为空，但 Content-Type 为 application/json：请发送 JSON 内容，或不带请求体也不带 Content-Type',
    });
    expect(english.json()).toEqual({
      code: 'empty_json_body',
      message:
        'the request body is empty but Content-Type is application/json: send JSON, or send neither a body nor Content-Type',
    });
  });

  it('answers 415 for a form body', async () => {
    const { chinese, english } = await send('code=t9', {
      'content-type': 'application/x-www-form-urlencoded',
    });

    expect(chinese.statusCode).toBe(415);
    expect(chinese.json()).toEqual({
      code: 'unsupported_media_type',
      message:
        '不支持的 Content-Type "application/x-www-form-urlencoded"：请以 JSON 发送请求体，并设置 Content-Type: application/json',
    });
    expect(english.statusCode).toBe(415);
    expect(english.json()).toEqual({
      code: 'unsupported_media_type',
      message:
        'unsupported Content-Type "application/x-www-form-urlencoded": send the body as JSON with Content-Type: application/json',
    });
  });

  it('returns 415 for a text/plain body', async () => {
    const { english } = await send('{"code": "t9", "name": "t9"}', { 'content-type': 'text/plain' });

    expect(english.statusCode).toBe(415);
    expect(english.json().code).toBe('unsupported_media_type');
  });

  it('answers 415 for a body without Content-Type', async () => {
    const response = await world.app.inject({
      method: 'POST',
      url: '/api/tenants/',
      payload: Buffer.from('{"code": "t9"}'),
      headers: { authorization: `Bearer ${world.tokens.admin}`, 'accept-language': 'en' },
    });

    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({
      code: 'missing_content_type',
      message:
        'the request body has no Content-Type header: send it as JSON with Content-Type: application/json',
    });
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const payload = JSON.stringify({ code: 't9', name: 'x'.repeat(1024 * 1024) });

    const { chinese, english } = await send(payload, { 'content-type': 'application/json' });

    expect(chinese.statusCode).toBe(413);
    expect(chinese.json()).toEqual({
      code: 'body_too_large',
      message: '请求体超过上限 1048576 字节：请减少单次提交的数据',
    });
    expect(english.json()).toEqual({
      code: 'body_too_large',
      message: 'the request body is larger than the maximum of 1048576 bytes: send less data per request',
    });
  });

  it('rejects a body that does not match Content-Length', async () => {
    const response = await world.request('admin', 'POST', '/api/tenants/', '{"code": "t9"}', {
      'content-type': 'application/json',
      'content-length': '5',
      'accept-language': 'en',
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'content_length_mismatch',
      message:
        'the request body length does not match the Content-Length header: correct it or let the HTTP client set it',
    });
  });

  it('localizes schema violations of a real route', async () => {
    const body = { username: 'new-user', password: 'pw', role: 'root' };

    const chinese = await world.request('admin', 'POST', '/api/users/', body);
    const english = await world.request('admin', 'POST', '/api/users/', body, { 'accept-language': 'en' });

    expect(chinese.statusCode).toBe(400);
    expect(english.json().details).toEqual([
      {
        field: 'body.password',
        code: 'minLength',
        message: 'must be text of 8 to 1024 characters',
      },
      {
        field: 'body.role',
        code: 'anyOf',
        message: 'must be admin, tenant_admin or tenant_viewer, got "root"',
      },
    ]);
    expect(chinese.json().message).toBe(
      '请求参数无效：body.password 应为 8 到 1024 个字符的文本；body.role 应为 admin、tenant_admin 或 tenant_viewer，收到 "root"',
    );
  });

  it('localizes query violations of a real route', async () => {
    const response = await world.request(
      'admin',
      'GET',
      '/api/billing-records/?page_size=0&tenant=abc',
      undefined,
      {
        'accept-language': 'en',
      },
    );

    expect(response.statusCode).toBe(400);
    expect(response.json().details).toEqual([
      {
        field: 'querystring.page_size',
        code: 'minimum',
        message: 'must be an integer from 1 to 1000, got 0',
      },
      {
        field: 'querystring.tenant',
        code: 'type',
        message: 'must be an integer from 1 to 2147483647, got "abc"',
      },
    ]);
  });

  it('rejects U+0000 in a body field', async () => {
    const response = await world.request(
      'admin',
      'POST',
      '/api/tenants/',
      { code: 'nul', name: 'a\u0000b' },
      { 'accept-language': 'en' },
    );

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'validation_failed',
      message: 'invalid request: body.name must not contain the NUL character (U+0000); remove it',
      details: [
        {
          field: 'body.name',
          code: 'nulCharacter',
          message: 'must not contain the NUL character (U+0000); remove it',
        },
      ],
    });
    const list = await world.request('admin', 'GET', '/api/tenants/?search=nul');
    expect(list.json().count).toBe(0);
  });

  it.each([
    ['a list search', 'admin', 'GET', '/api/vms/?search=%00', undefined, 'querystring.search'],
    [
      'a login',
      'anonymous',
      'POST',
      '/api/auth/login/',
      { username: 'ad\u0000min', password: 'x' },
      'body.username',
    ],
  ] as const)('rejects U+0000 in %s', async (_case, caller, method, url, body, field) => {
    const response = await world.request(caller, method, url, body);

    expect(response.statusCode).toBe(400);
    expect(response.json().details).toEqual([
      { field, code: 'nulCharacter', message: '不能包含空字符（U+0000），请删除该字符' },
    ]);
  });

  it('responds to raw non-ASCII URL bytes in the error shape', async () => {
    const address = await world.app.listen({ host: '127.0.0.1', port: 0 });
    const socket = connect(Number(new URL(address).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.write(Buffer.from('GET /api/tenants/?search=测试 HTTP/1.1\r\nHost: localhost\r\n\r\n', 'utf8'));
    await once(socket, 'close');
    const [head, body] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');

    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head).toContain('x-content-type-options: nosniff');
    expect(JSON.parse(body!)).toEqual({
      code: 'malformed_request',
      message:
        '无法解析 HTTP 请求：请检查请求行与请求头，URL 中的非 ASCII 字符须按百分号编码（如 %E4%B8%AD）',
    });
  });

  it('returns 405 with the accepted methods', async () => {
    const response = await world.request('admin', 'DELETE', `/api/tenants/${world.tenantA.id}/`, undefined, {
      'accept-language': 'en',
    });

    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD, PATCH');
    expect(response.json()).toEqual({
      code: 'method_not_allowed',
      message: 'method DELETE not allowed here; this URL accepts GET, HEAD, PATCH',
    });
    expect((await world.request('admin', 'PUT', '/api/tenants/')).statusCode).toBe(405);
    expect((await world.request('admin', 'DELETE', '/api/no-such-resource/')).statusCode).toBe(404);
  });

  it('rejects a URL that cannot be decoded', async () => {
    const chinese = await world.request('admin', 'GET', '/api/tenants/%E0%A4%A/');
    expect(chinese.statusCode).toBe(400);
    expect(chinese.json()).toEqual({
      code: 'invalid_url',
      message: 'URL 无效：/api/tenants/%E0%A4%A/；请检查路径与查询参数中的百分号编码（如 %E4%B8%AD）',
    });
    expect(chinese.headers['x-content-type-options']).toBe('nosniff');

    const english = await world.request('admin', 'GET', '/api/tenants/%E0%A4%A/', undefined, {
      'accept-language': 'en',
    });
    expect(english.statusCode).toBe(400);
    expect(english.json<{ message: string }>().message).toBe(
      'invalid URL: /api/tenants/%E0%A4%A/; check the percent-encoding (such as %E4%B8%AD) of its path and query',
    );
  });
});
