import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../../test/support/api.js';
import { InventorySourceRepository } from '../../db/repositories/inventory-source.repository.js';

const URL = '/api/inventory-sources/';
const SECRET = 'keystone-Secret-42';

const openstack = {
  name: 'openstack-prod',
  type: 'openstack',
  auth_url: 'https://keystone.example.com:5000/v3',
  username: 'billing',
  password: SECRET,
  project_name: 'admin',
  region: 'RegionOne',
};

describe('inventory sources API', () => {
  let world: ApiWorld;
  const logLines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    world = await createApiWorld('pglite', { logger: pino({ level: 'trace' }, sink) });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('creates a source without returning its secret', async () => {
    const response = await world.request('admin', 'POST', URL, openstack);

    expect(response.statusCode, response.body).toBe(201);
    expect(response.body).not.toContain(SECRET);
    const body = response.json();
    expect(body.name).toBe('openstack-prod');
    expect(body.type).toBe('openstack');
    expect(body.secrets_set).toEqual(['password']);
    expect(body.settings).toMatchObject({
      auth_url: 'https://keystone.example.com:5000/v3',
      username: 'billing',
      region: 'RegionOne',
      interface: 'public',
      timeout_seconds: 30,
      retries: 3,
      verify_tls: true,
      system_metadata_key: 'cloud_platform_system',
    });
    expect(body.settings).not.toHaveProperty('password');

    const stored = await new InventorySourceRepository(world.database.db).getByName('openstack-prod');
    expect(stored?.secrets).toEqual({ password: SECRET });
  });

  it('lists and shows sources without secrets', async () => {
    const list = await world.request('admin', 'GET', URL);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(SECRET);
    expect(list.json().count).toBe(1);
    const id = list.json().results[0].id as number;

    const detail = await world.request('admin', 'GET', `${URL}${id}/`);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).not.toContain(SECRET);
    expect(detail.json().secrets_set).toEqual(['password']);
  });

  it('rejects a second source with the same name', async () => {
    const response = await world.request('admin', 'POST', URL, openstack, { 'accept-language': 'en' });

    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('inventory_source_exists');
    expect(response.body).not.toContain(SECRET);
  });

  it('names the source and field of an invalid setting', async () => {
    const response = await world.request(
      'admin',
      'POST',
      URL,
      { ...openstack, name: 'openstack-test', interface: 'private' },
      { 'accept-language': 'en' },
    );

    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('inventory_source_invalid');
    expect(response.json().message).toBe(
      'invalid setting interface of inventory source openstack-test: must be public, internal or admin',
    );
    expect(response.json().details[0].field).toBe('interface');
    expect(response.body).not.toContain(SECRET);

    const chinese = await world.request('admin', 'POST', URL, {
      ...openstack,
      name: 'openstack-test',
      interface: 'private',
    });
    expect(chinese.statusCode).toBe(400);
    expect(chinese.json().message).toBe(
      '资源清单数据源 openstack-test 的配置项 interface 无效：应为 public、internal 或 admin',
    );
  });

  it('rejects a source given both a secret and its variable', async () => {
    const response = await world.request(
      'admin',
      'POST',
      URL,
      { ...openstack, name: 'openstack-both', password_env: 'OPENSTACK_PASSWORD' },
      { 'accept-language': 'en' },
    );

    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain('give either password or password_env, not both');
    expect(response.body).not.toContain(SECRET);
  });

  it('rejects an unknown type and a reserved name', async () => {
    const unknownType = await world.request('admin', 'POST', URL, {
      ...openstack,
      name: 'x1',
      type: 'hyperv',
    });
    expect(unknownType.statusCode).toBe(400);

    const reserved = await world.request(
      'admin',
      'POST',
      URL,
      { ...openstack, name: 'local' },
      { 'accept-language': 'en' },
    );
    expect(reserved.statusCode).toBe(400);
    expect(reserved.json().message).toContain('local is reserved');
  });

  it('switches a secret to an environment variable', async () => {
    const id = (await world.request('admin', 'GET', URL)).json().results[0].id as number;

    const response = await world.request('admin', 'PATCH', `${URL}${id}/`, {
      password: null,
      password_env: 'OPENSTACK_PASSWORD',
      timeout_seconds: 12.5,
    });

    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().secrets_set).toEqual([]);
    expect(response.json().settings).toMatchObject({
      password_env: 'OPENSTACK_PASSWORD',
      timeout_seconds: 12.5,
    });
    const stored = await new InventorySourceRepository(world.database.db).getById(id);
    expect(stored?.secrets).toEqual({});
  });

  it('restores a default when a setting is null', async () => {
    const id = (await world.request('admin', 'GET', URL)).json().results[0].id as number;
    await world.request('admin', 'PATCH', `${URL}${id}/`, { ca_file: '/etc/ssl/cloud-ca.pem', retries: 5 });

    const response = await world.request('admin', 'PATCH', `${URL}${id}/`, { ca_file: null, retries: null });

    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().settings).not.toHaveProperty('ca_file');
    expect(response.json().settings.retries).toBe(3);
  });

  it('rejects renaming and leaves an invalid update unstored', async () => {
    const id = (await world.request('admin', 'GET', URL)).json().results[0].id as number;

    const rename = await world.request('admin', 'PATCH', `${URL}${id}/`, { name: 'other' });
    expect(rename.statusCode).toBe(400);
    expect(rename.json().code).toBe('inventory_source_field_fixed');

    const invalid = await world.request('admin', 'PATCH', `${URL}${id}/`, { retries: 99 });
    expect(invalid.statusCode).toBe(400);
    const stored = await new InventorySourceRepository(world.database.db).getById(id);
    expect(stored?.options.retries).toBe(3);
  });

  it('deletes a source', async () => {
    const id = (await world.request('admin', 'GET', URL)).json().results[0].id as number;

    expect((await world.request('admin', 'DELETE', `${URL}${id}/`)).statusCode).toBe(204);
    expect((await world.request('admin', 'GET', `${URL}${id}/`)).statusCode).toBe(404);
    expect((await world.request('admin', 'DELETE', `${URL}${id}/`)).statusCode).toBe(404);
  });

  it('never logs a secret', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => line.includes(SECRET))).toEqual([]);
  });
});
