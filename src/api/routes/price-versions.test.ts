import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../../test/support/api.js';
import { ZONE } from '../../../test/support/fixtures.js';
import { billDay } from '../../billing/daily-billing.js';
import { dayOf } from '../../billing/days.js';

const URL = '/api/price-versions/';

const prices = { cpu_price: '0.12', memory_price: 0.06, storage_price: '0.015' };

describe('price versions API', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('lists versions to every signed-in user', async () => {
    for (const caller of ['admin', 'tenant_admin', 'tenant_viewer', 'other_admin'] as const) {
      const response = await world.request(caller, 'GET', URL);
      expect(response.statusCode, caller).toBe(200);
      expect(response.json()).toMatchObject({
        count: 1,
        results: [
          {
            id: 1,
            effective_from: '1970-01-01',
            cpu_price: '0.100000',
            memory_price: '0.050000',
            storage_price: '0.010000',
            in_use: false,
          },
        ],
      });
    }
    expect((await world.request('anonymous', 'GET', URL)).statusCode).toBe(401);
  });

  it('rejects changing a version in force', async () => {
    const response = await world.request(
      'admin',
      'PATCH',
      `${URL}1/`,
      { cpu_price: '0.2' },
      {
        'accept-language': 'en',
      },
    );

    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('price_version_in_force');
    expect(response.json().message).toContain('took effect on 1970-01-01');
    expect((await world.request('admin', 'DELETE', `${URL}1/`)).statusCode).toBe(409);
  });

  it('creates a future version as admin only', async () => {
    const body = { effective_from: '2099-01-01', ...prices };
    expect((await world.request('tenant_admin', 'POST', URL, body)).statusCode).toBe(403);
    expect((await world.request('tenant_viewer', 'POST', URL, body)).statusCode).toBe(403);
    expect((await world.request('anonymous', 'POST', URL, body)).statusCode).toBe(401);

    const created = await world.request('admin', 'POST', URL, body);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      effective_from: '2099-01-01',
      cpu_price: '0.120000',
      memory_price: '0.060000',
      storage_price: '0.015000',
      in_use: false,
    });

    const detail = await world.request('tenant_viewer', 'GET', `${URL}${created.json().id}/`);
    expect(detail.json()).toEqual(created.json());

    const duplicate = await world.request('admin', 'POST', URL, body);
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().code).toBe('price_version_exists');
  });

  it('rejects a start not after today', async () => {
    const today = dayOf(new Date(), ZONE);
    for (const effectiveFrom of ['2020-01-01', today]) {
      const response = await world.request('admin', 'POST', URL, {
        effective_from: effectiveFrom,
        ...prices,
      });
      expect(response.statusCode, effectiveFrom).toBe(400);
      expect(response.json().code).toBe('price_version_not_future');
      expect(response.json().details).toEqual([expect.objectContaining({ field: 'effective_from' })]);
    }
  });

  it('rejects invalid dates and prices', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ effective_from: '2099-02-30' }, 'invalid_date', 'effective_from'],
      [{ effective_from: 'next year' }, 'invalid_date', 'effective_from'],
      [{ cpu_price: '-0.1' }, 'invalid_price', 'cpu_price'],
      [{ memory_price: '0.1234567' }, 'invalid_price', 'memory_price'],
      [{ storage_price: '1000000' }, 'invalid_price', 'storage_price'],
      [{ storage_price: 'cheap' }, 'invalid_price', 'storage_price'],
      [{ cpu_price: { value: 0.1 } }, 'validation_failed', 'body.cpu_price'],
    ];
    for (const [change, code, field] of cases) {
      const body = { effective_from: '2099-05-01', ...prices, ...change };
      const response = await world.request('admin', 'POST', URL, body);
      expect(response.statusCode, JSON.stringify(change)).toBe(400);
      expect(response.json().code, JSON.stringify(change)).toBe(code);
      expect(response.json().details, JSON.stringify(change)).toContainEqual(
        expect.objectContaining({ field }),
      );
    }

    const unknown = await world.request('admin', 'POST', URL, {
      effective_from: '2099-05-01',
      ...prices,
      discount: 1,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('validation_failed');

    const missing = await world.request('admin', 'POST', URL, { effective_from: '2099-05-01' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().code).toBe('validation_failed');
  });

  it('updates and deletes a future version', async () => {
    const created = await world.request('admin', 'POST', URL, { effective_from: '2099-03-01', ...prices });
    const id = created.json().id as number;

    expect(
      (await world.request('tenant_admin', 'PATCH', `${URL}${id}/`, { cpu_price: '1' })).statusCode,
    ).toBe(403);

    const updated = await world.request('admin', 'PATCH', `${URL}${id}/`, {
      effective_from: '2099-04-01',
      cpu_price: 0.2,
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({
      id,
      effective_from: '2099-04-01',
      cpu_price: '0.200000',
      memory_price: '0.060000',
    });

    const taken = await world.request('admin', 'PATCH', `${URL}${id}/`, { effective_from: '2099-01-01' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('price_version_exists');

    const past = await world.request('admin', 'PATCH', `${URL}${id}/`, { effective_from: '2000-01-01' });
    expect(past.statusCode).toBe(400);
    expect(past.json().code).toBe('price_version_not_future');

    const empty = await world.request('admin', 'PATCH', `${URL}${id}/`, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('nothing_to_change');

    expect((await world.request('tenant_viewer', 'DELETE', `${URL}${id}/`)).statusCode).toBe(403);
    const deleted = await world.request('admin', 'DELETE', `${URL}${id}/`);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await world.request('admin', 'GET', `${URL}${id}/`)).statusCode).toBe(404);
    expect((await world.request('admin', 'DELETE', `${URL}${id}/`)).statusCode).toBe(404);
    expect((await world.request('admin', 'PATCH', `${URL}${id}/`, { cpu_price: '1' })).statusCode).toBe(404);
  });

  it('orders versions by start date', async () => {
    const newest = await world.request('tenant_viewer', 'GET', `${URL}?ordering=-effective_from`);
    expect(
      newest.json().results.map((version: { effective_from: string }) => version.effective_from),
    ).toEqual(['2099-01-01', '1970-01-01']);
  });

  it('rejects changing a used version', async () => {
    await billDay(world.database.db, '2026-01-30', { timezone: ZONE, chunkSize: 100 });

    const detail = await world.request('admin', 'GET', `${URL}1/`);
    expect(detail.json().in_use).toBe(true);

    const patch = await world.request('admin', 'PATCH', `${URL}1/`, { cpu_price: '0.2' });
    expect(patch.statusCode).toBe(409);
    expect(patch.json().code).toBe('price_version_in_use');
    expect(patch.json().message).toContain('已被计费记录使用');

    const remove = await world.request('admin', 'DELETE', `${URL}1/`);
    expect(remove.statusCode).toBe(409);
    expect(remove.json().code).toBe('price_version_in_use');

    const list = await world.request('admin', 'GET', URL);
    expect(list.json().results.map((version: { in_use: boolean }) => version.in_use)).toEqual([true, false]);
  });
});
