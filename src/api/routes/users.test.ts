import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld, type Caller } from '../../../test/support/api.js';
import { availableBackends, createTestDatabase } from '../../../test/support/databases.js';
import { addTenant } from '../../inventory/tenants.js';
import { createUser as createAccount, deleteUser, updateUser } from '../auth/accounts.js';

const backends = await availableBackends();

describe('user API', () => {
  let world: ApiWorld;

  async function login(username: string, password: string) {
    return world.request('anonymous', 'POST', '/api/auth/login/', { username, password });
  }

  async function createUser(body: Record<string, unknown>) {
    const response = await world.request('admin', 'POST', '/api/users/', body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: number; username: string };
  }

  async function userId(username: string): Promise<number> {
    const row = await world.database.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('lists users without password hashes', async () => {
    const response = await world.request('admin', 'GET', '/api/users/');

    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('password');
    expect(response.body).not.toContain('scrypt');
    const body = response.json();
    expect(body.count).toBe(4);
    expect(body.results).toEqual([
      {
        id: await userId('admin'),
        username: 'admin',
        role: 'admin',
        tenant: null,
        is_active: true,
        created_at: expect.any(String),
        last_login_at: null,
      },
      expect.objectContaining({ username: 'other_admin', role: 'tenant_admin', tenant: world.tenantB.id }),
      expect.objectContaining({ username: 'tenant_admin', role: 'tenant_admin', tenant: world.tenantA.id }),
      expect.objectContaining({ username: 'tenant_viewer', role: 'tenant_viewer', tenant: world.tenantA.id }),
    ]);
  });

  it('filters, orders and paginates', async () => {
    const usernames = async (query: string) => {
      const response = await world.request('admin', 'GET', `/api/users/?${query}`);
      expect(response.statusCode, query).toBe(200);
      return response.json().results.map((user: { username: string }) => user.username);
    };

    expect(await usernames('role=tenant_admin')).toEqual(['other_admin', 'tenant_admin']);
    expect(await usernames(`tenant=${world.tenantA.id}`)).toEqual(['tenant_admin', 'tenant_viewer']);
    expect(await usernames('search=viewer')).toEqual(['tenant_viewer']);
    expect(await usernames('is_active=false')).toEqual([]);
    expect(await usernames('ordering=-username&page_size=2')).toEqual(['tenant_viewer', 'tenant_admin']);
    expect(await usernames('ordering=-username&page_size=2&page=2')).toEqual(['other_admin', 'admin']);

    for (const query of ['role=root', 'is_active=yes', 'tenant=abc', 'ordering=password_hash']) {
      const response = await world.request('admin', 'GET', `/api/users/?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
  });

  it('is for admins only', async () => {
    const adminId = await userId('admin');
    for (const caller of ['tenant_admin', 'tenant_viewer', 'other_admin'] as Caller[]) {
      const requests = [
        world.request(caller, 'GET', '/api/users/'),
        world.request(caller, 'GET', `/api/users/${adminId}/`),
        world.request(caller, 'POST', '/api/users/', {
          username: 'sneaky',
          password: 'sneaky-password',
          role: 'admin',
        }),
        world.request(caller, 'PATCH', `/api/users/${adminId}/`, { is_active: false }),
        world.request(caller, 'DELETE', `/api/users/${adminId}/`),
      ];
      for (const response of await Promise.all(requests)) {
        expect(response.statusCode, caller).toBe(403);
        expect(response.json().code).toBe('permission_denied');
      }
    }
    const anonymous = await world.request('anonymous', 'GET', '/api/users/');
    expect(anonymous.statusCode).toBe(401);
  });

  it('creates a tenant user who can log in', async () => {
    const response = await world.request('admin', 'POST', '/api/users/', {
      username: 'zhang.san@example.cn',
      password: 'correct horse battery',
      role: 'tenant_viewer',
      tenant: world.tenantB.id,
    });

    expect(response.statusCode).toBe(201);
    expect(response.body).not.toContain('correct horse battery');
    expect(response.json()).toEqual({
      id: expect.any(Number),
      username: 'zhang.san@example.cn',
      role: 'tenant_viewer',
      tenant: world.tenantB.id,
      is_active: true,
      created_at: expect.any(String),
      last_login_at: null,
    });
    expect((await login('zhang.san@example.cn', 'correct horse battery')).statusCode).toBe(200);

    const detail = await world.request('admin', 'GET', `/api/users/${response.json().id}/`);
    expect(detail.json().last_login_at).not.toBeNull();
  });

  it('creates an admin with a null tenant', async () => {
    const user = await createUser({
      username: 'root-2',
      password: 'root-2-password',
      role: 'admin',
      tenant: null,
    });
    const detail = await world.request('admin', 'GET', `/api/users/${user.id}/`);
    expect(detail.json()).toMatchObject({ role: 'admin', tenant: null });
  });

  it('validates each field of a new user', async () => {
    const valid = {
      username: 'valid-user',
      password: 'valid-password',
      role: 'tenant_admin',
      tenant: world.tenantA.id,
    };
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['short password', { password: 'short' }, 'body.password', 'minLength'],
      ['over-long password', { password: 'p'.repeat(1025) }, 'body.password', 'maxLength'],
      ['password as number', { password: 12345678 }, 'body.password', 'type'],
      ['unknown role', { role: 'root' }, 'body.role', 'anyOf'],
      ['role as number', { role: 1 }, 'body.role', 'anyOf'],
      ['over-long username', { username: 'u'.repeat(151) }, 'body.username', 'maxLength'],
      ['short username', { username: 'ab' }, 'username', 'invalid_username'],
      ['username with a space', { username: 'li si' }, 'username', 'invalid_username'],
      ['tenant as text', { tenant: 'T1' }, 'body.tenant', 'anyOf'],
      ['tenant as boolean', { tenant: true }, 'body.tenant', 'anyOf'],
      ['tenant zero', { tenant: 0 }, 'body.tenant', 'anyOf'],
      ['tenant user without tenant', { tenant: null }, 'tenant', 'role_tenant_mismatch'],
      ['admin with a tenant', { role: 'admin' }, 'tenant', 'role_tenant_mismatch'],
      ['unknown field', { is_superuser: true }, 'body.is_superuser', 'additionalProperties'],
    ];

    for (const [label, change, field, code] of cases) {
      const response = await world.request('admin', 'POST', '/api/users/', { ...valid, ...change });
      expect(response.statusCode, label).toBe(400);
      expect(response.json().details, label).toContainEqual(expect.objectContaining({ field, code }));
    }

    const missing = await world.request('admin', 'POST', '/api/users/', { username: 'nobody' });
    expect(missing.json().details.map((detail: { field: string }) => detail.field)).toEqual([
      'body.password',
      'body.role',
    ]);
    const unknownTenant = await world.request('admin', 'POST', '/api/users/', { ...valid, tenant: 999999 });
    expect(unknownTenant.statusCode).toBe(400);
    expect(unknownTenant.json().code).toBe('unknown_tenant_id');
    expect(unknownTenant.json().details[0].field).toBe('tenant');

    const created = await world.request('admin', 'GET', '/api/users/?search=valid-user');
    expect(created.json().count).toBe(0);
  });

  it('rejects a duplicate username with 409', async () => {
    const response = await world.request('admin', 'POST', '/api/users/', {
      username: 'tenant_admin',
      password: 'another-password',
      role: 'tenant_viewer',
      tenant: world.tenantA.id,
    });

    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('username_exists');
  });

  it('changes a password and ends the user sessions', async () => {
    const user = await createUser({
      username: 'wang.wu',
      password: 'first-password',
      role: 'tenant_viewer',
      tenant: world.tenantA.id,
    });
    const session = (await login('wang.wu', 'first-password')).cookies.find((c) => c.name === 'cp_session')!;
    const me = () =>
      world.app.inject({ method: 'GET', url: '/api/auth/me/', cookies: { cp_session: session.value } });
    expect((await me()).statusCode).toBe(200);

    const response = await world.request('admin', 'PATCH', `/api/users/${user.id}/`, {
      password: 'second-password',
    });

    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('second-password');
    expect((await me()).statusCode).toBe(401);
    expect((await login('wang.wu', 'first-password')).statusCode).toBe(401);
    expect((await login('wang.wu', 'second-password')).statusCode).toBe(200);
  });

  it('changes role and tenant', async () => {
    const user = await createUser({
      username: 'zhao.liu',
      password: 'zhao-password',
      role: 'tenant_viewer',
      tenant: world.tenantA.id,
    });
    const url = `/api/users/${user.id}/`;

    const moved = await world.request('admin', 'PATCH', url, {
      role: 'tenant_admin',
      tenant: world.tenantB.id,
    });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ role: 'tenant_admin', tenant: world.tenantB.id });

    // Promotion to admin leaves the tenant unless the request names one.
    const promoted = await world.request('admin', 'PATCH', url, { role: 'admin' });
    expect(promoted.json()).toMatchObject({ role: 'admin', tenant: null });

    const withoutTenant = await world.request('admin', 'PATCH', url, { role: 'tenant_viewer' });
    expect(withoutTenant.statusCode).toBe(400);
    expect(withoutTenant.json()).toMatchObject({
      code: 'role_tenant_mismatch',
      details: [{ field: 'tenant' }],
    });

    const adminWithTenant = await world.request('admin', 'PATCH', url, { tenant: world.tenantA.id });
    expect(adminWithTenant.statusCode).toBe(400);
    expect(adminWithTenant.json().code).toBe('role_tenant_mismatch');

    const unknownTenant = await world.request('admin', 'PATCH', url, {
      role: 'tenant_viewer',
      tenant: 999999,
    });
    expect(unknownTenant.statusCode).toBe(400);
    expect(unknownTenant.json().code).toBe('unknown_tenant_id');
    expect(unknownTenant.json().details[0].field).toBe('tenant');

    const demoted = await world.request('admin', 'PATCH', url, {
      role: 'tenant_viewer',
      tenant: world.tenantA.id,
    });
    expect(demoted.json()).toMatchObject({ role: 'tenant_viewer', tenant: world.tenantA.id });
  });

  it('validates each field of a change', async () => {
    const id = await userId('tenant_viewer');
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['short password', { password: '1234567' }, 'body.password', 'minLength'],
      ['unknown role', { role: 'superuser' }, 'body.role', 'anyOf'],
      ['is_active as text', { is_active: 'no' }, 'body.is_active', 'type'],
      ['is_active as number', { is_active: 0 }, 'body.is_active', 'type'],
      ['tenant as list', { tenant: [world.tenantA.id] }, 'body.tenant', 'anyOf'],
      ['username change', { username: 'renamed' }, 'body.username', 'additionalProperties'],
    ];

    for (const [label, body, field, code] of cases) {
      const response = await world.request('admin', 'PATCH', `/api/users/${id}/`, body);
      expect(response.statusCode, label).toBe(400);
      expect(response.json().details, label).toContainEqual(expect.objectContaining({ field, code }));
    }
    for (const url of ['/api/users/abc/', '/api/users/0/', '/api/users/2.5/']) {
      const response = await world.request('admin', 'GET', url);
      expect(response.statusCode, url).toBe(400);
    }
    const missing = await world.request('admin', 'PATCH', '/api/users/999999/', { is_active: false });
    expect(missing.statusCode).toBe(404);
  });

  it('deactivates a user, whose token stops working', async () => {
    const id = await userId('other_admin');
    expect((await world.request('other_admin', 'GET', '/api/vms/')).statusCode).toBe(200);

    const response = await world.request('admin', 'PATCH', `/api/users/${id}/`, { is_active: false });

    expect(response.statusCode).toBe(200);
    expect(response.json().is_active).toBe(false);
    expect((await world.request('other_admin', 'GET', '/api/vms/')).statusCode).toBe(401);
    expect((await login('other_admin', 'other_admin-password')).statusCode).toBe(401);

    await world.request('admin', 'PATCH', `/api/users/${id}/`, { is_active: true });
    expect((await world.request('other_admin', 'GET', '/api/vms/')).statusCode).toBe(200);
  });

  it('deletes a user with its tokens', async () => {
    const id = await userId('tenant_viewer');
    const response = await world.request('admin', 'DELETE', `/api/users/${id}/`);

    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await world.request('admin', 'GET', `/api/users/${id}/`)).statusCode).toBe(404);
    expect((await world.request('tenant_viewer', 'GET', '/api/vms/')).statusCode).toBe(401);
    const tokens = await world.database.db
      .selectFrom('api_tokens')
      .select('id')
      .where('user_id', '=', id)
      .execute();
    expect(tokens).toEqual([]);

    expect((await world.request('admin', 'DELETE', `/api/users/${id}/`)).statusCode).toBe(404);
  });

  describe('last active admin', () => {
    it('cannot be deleted, deactivated or demoted', async () => {
      // Leave `admin` as the only active admin: deactivate the other admins created above.
      const others = await world.request('admin', 'GET', '/api/users/?role=admin&is_active=true');
      for (const user of others.json().results as { id: number; username: string }[]) {
        if (user.username === 'admin') continue;
        const response = await world.request('admin', 'PATCH', `/api/users/${user.id}/`, {
          is_active: false,
        });
        expect(response.statusCode).toBe(200);
      }
      const id = await userId('admin');

      const attempts = [
        await world.request('admin', 'DELETE', `/api/users/${id}/`),
        await world.request('admin', 'PATCH', `/api/users/${id}/`, { is_active: false }),
        await world.request('admin', 'PATCH', `/api/users/${id}/`, {
          role: 'tenant_admin',
          tenant: world.tenantA.id,
        }),
      ];
      for (const response of attempts) {
        expect(response.statusCode).toBe(409);
        expect(response.json().code).toBe('last_active_admin');
      }
      expect(attempts[0]!.json().message).toContain('admin');

      const still = await world.request('admin', 'GET', `/api/users/${id}/`);
      expect(still.json()).toMatchObject({ role: 'admin', is_active: true });
      // Changing only the password of the last admin is allowed.
      const password = await world.request('admin', 'PATCH', `/api/users/${id}/`, {
        password: 'admin-password-2',
      });
      expect(password.statusCode).toBe(200);
    });

    it('can step down once another admin is active', async () => {
      const successor = await createUser({
        username: 'successor',
        password: 'successor-password',
        role: 'admin',
      });
      const id = await userId('admin');

      const demoted = await world.request('admin', 'PATCH', `/api/users/${id}/`, {
        role: 'tenant_viewer',
        tenant: world.tenantA.id,
      });

      expect(demoted.statusCode).toBe(200);
      expect(demoted.json()).toMatchObject({ role: 'tenant_viewer', tenant: world.tenantA.id });
      // The demoted user's token now carries the new role at once.
      expect((await world.request('admin', 'GET', '/api/users/')).statusCode).toBe(403);
      expect(successor.username).toBe('successor');
    });
  });
});

describe.each(backends)('last active admin under concurrency on %s', (backend) => {
  it('lets only one of two concurrent removals through', async () => {
    const database = await createTestDatabase(backend);
    try {
      const tenant = await addTenant(
        database.db,
        { code: 'T-RACE', name: 'Race' },
        { timezone: 'Asia/Shanghai' },
      );
      for (let round = 0; round < 3; round += 1) {
        const first = await createAccount(database.db, {
          username: `first-${round}`,
          password: 'first-password',
          role: 'admin',
        });
        const second = await createAccount(database.db, {
          username: `second-${round}`,
          password: 'second-password',
          role: 'admin',
        });

        // Each round removes both admins of the round in parallel, in a different way.
        const removals =
          round === 0
            ? [updateUser(database.db, first.id, { is_active: false }), deleteUser(database.db, second.id)]
            : round === 1
              ? [deleteUser(database.db, first.id), deleteUser(database.db, second.id)]
              : [
                  updateUser(database.db, first.id, { role: 'tenant_viewer', tenant: tenant.id }),
                  updateUser(database.db, second.id, { is_active: false }),
                ];
        const results = await Promise.allSettled(removals);

        const rejected = results.filter((result) => result.status === 'rejected');
        expect(rejected, `round ${round}`).toHaveLength(1);
        expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'last_active_admin' });
        const active = await database.db
          .selectFrom('users')
          .select('username')
          .where('role', '=', 'admin')
          .where('is_active', '=', true)
          .execute();
        expect(active, `round ${round}`).toHaveLength(1);

        // Retire the survivor so that the next round starts without an active admin.
        await database.db.updateTable('users').set({ is_active: false }).execute();
      }
    } finally {
      await database.drop();
    }
  });
});
