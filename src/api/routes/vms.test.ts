import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addDays, dayOf } from '../../billing/days.js';
import { VirtualMachineRepository } from '../../db/repositories/virtual-machine.repository.js';
import { createApiWorld, type ApiWorld, type Caller } from '../../../test/support/api.js';
import { beijing } from '../../../test/support/fixtures.js';

/** Returns the first billing day that uses a change made now, in the test world's zone Asia/Shanghai. */
function tomorrow(): string {
  return addDays(dayOf(new Date(), 'Asia/Shanghai'), 1);
}

describe('VM API', () => {
  let world: ApiWorld;
  /** VM ids of the test world: vm A in tenant A's system, vm B in tenant B's, and a read-only `file` VM in A. */
  const ids = { vmA: 0, vmB: 0, fileVm: 0 };

  async function vmIdOf(externalId: string): Promise<number> {
    const row = await world.database.db
      .selectFrom('virtual_machines')
      .select('id')
      .where('external_id', '=', externalId)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function systemTotals(systemId: number) {
    return world.database.db
      .selectFrom('information_systems')
      .select(['total_cpu', 'total_memory', 'total_storage'])
      .where('id', '=', systemId)
      .executeTakeFirstOrThrow();
  }

  async function createSystem(caller: Caller, tenant: number, code: string) {
    const response = await world.request(caller, 'POST', '/api/information-systems/', {
      tenant,
      code,
      name: `System ${code}`,
      run_mode: '7x24',
    });
    expect(response.statusCode).toBe(201);
    return response.json().id as number;
  }

  beforeAll(async () => {
    world = await createApiWorld();
    ids.vmA = await vmIdOf(world.tenantA.vmExternalId);
    ids.vmB = await vmIdOf(world.tenantB.vmExternalId);

    // A VM that an inventory file reported in tenant A's system; detection has not run for it yet.
    const at = beijing('2026-01-02T10:00:00');
    const fileVm = await new VirtualMachineRepository(world.database.db).create({
      provider: 'file',
      external_id: 'FILE-Web-01',
      name: 'file web 01',
      observed_system_id: world.tenantA.systemId,
      observed_cpu: 8,
      observed_memory: '16',
      observed_storage: '200.5',
      status: 'stopped',
      created_at: at,
      last_synced_at: at,
    });
    ids.fileVm = fileVm.id;
  });

  afterAll(async () => {
    await world?.close();
  });

  describe('reading', () => {
    it('lists every VM for an admin, with exact fields', async () => {
      const response = await world.request('admin', 'GET', '/api/vms/?ordering=id');

      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.count).toBe(3);
      expect(body.next).toBeNull();
      expect(body.previous).toBeNull();
      expect(body.results[0]).toEqual({
        id: ids.vmA,
        provider: 'local',
        external_id: world.tenantA.vmExternalId,
        name: expect.any(String),
        information_system: world.tenantA.systemId,
        observed_information_system: world.tenantA.systemId,
        status: 'running',
        cpu: 2,
        memory: '4',
        storage: '50',
        observed_cpu: 2,
        observed_memory: '4',
        observed_storage: '50',
        last_synced_at: '2026-01-01T01:00:00.000Z',
        created_at: '2026-01-01T01:00:00.000Z',
      });
      expect(body.results[1]).toMatchObject({ id: ids.vmB, information_system: world.tenantB.systemId });
      expect(body.results[2]).toEqual({
        id: ids.fileVm,
        provider: 'file',
        external_id: 'FILE-Web-01',
        name: 'file web 01',
        information_system: null,
        observed_information_system: world.tenantA.systemId,
        status: 'stopped',
        cpu: 0,
        memory: '0',
        storage: '0',
        observed_cpu: 8,
        observed_memory: '16',
        observed_storage: '200.5',
        last_synced_at: '2026-01-02T02:00:00.000Z',
        created_at: '2026-01-02T02:00:00.000Z',
      });
    });

    it('scopes the list to the caller tenant', async () => {
      const ownIds = async (caller: Caller) =>
        (await world.request(caller, 'GET', '/api/vms/?ordering=id'))
          .json()
          .results.map((vm: { id: number }) => vm.id);

      // The file VM is visible to tenant A through its observed system alone.
      expect(await ownIds('tenant_admin')).toEqual([ids.vmA, ids.fileVm]);
      expect(await ownIds('tenant_viewer')).toEqual([ids.vmA, ids.fileVm]);
      expect(await ownIds('other_admin')).toEqual([ids.vmB]);
    });

    it('filters by system, provider, status and search', async () => {
      const idsFor = async (query: string, caller: Caller = 'admin') => {
        const response = await world.request(caller, 'GET', `/api/vms/?ordering=id&${query}`);
        expect(response.statusCode).toBe(200);
        return response.json().results.map((vm: { id: number }) => vm.id);
      };

      expect(await idsFor(`information_system=${world.tenantA.systemId}`)).toEqual([ids.vmA, ids.fileVm]);
      expect(await idsFor(`information_system=${world.tenantB.systemId}`)).toEqual([ids.vmB]);
      expect(await idsFor(`information_system=${world.tenantB.systemId}`, 'tenant_admin')).toEqual([]);
      expect(await idsFor('provider=file')).toEqual([ids.fileVm]);
      expect(await idsFor('provider=local')).toEqual([ids.vmA, ids.vmB]);
      expect(await idsFor('status=stopped')).toEqual([ids.fileVm]);
      expect(await idsFor('status=running&provider=file')).toEqual([]);
      // Search matches the name or the external id, in any case, and treats % and _ literally.
      expect(await idsFor('search=web')).toEqual([ids.fileVm]);
      expect(await idsFor('search=file-WEB')).toEqual([ids.fileVm]);
      expect(await idsFor(`search=${world.tenantB.vmExternalId}`)).toEqual([ids.vmB]);
      expect(await idsFor('search=%25')).toEqual([]);
      expect(await idsFor('search=_')).toEqual([]);
    });

    it('orders and paginates', async () => {
      const unknownField = await world.request('admin', 'GET', '/api/vms/?ordering=-observed_cpu');
      expect(unknownField.statusCode).toBe(400);

      const descending = await world.request('admin', 'GET', '/api/vms/?ordering=-cpu');
      expect(descending.json().results.map((vm: { cpu: number }) => vm.cpu)).toEqual([2, 1, 0]);

      const first = await world.request('admin', 'GET', '/api/vms/?ordering=external_id&page_size=2');
      expect(first.json()).toMatchObject({
        count: 3,
        previous: null,
        next: 'http://localhost/api/vms/?ordering=external_id&page_size=2&page=2',
      });
      expect(first.json().results.map((vm: { external_id: string }) => vm.external_id)).toEqual([
        'FILE-Web-01',
        world.tenantA.vmExternalId,
      ]);

      const second = await world.request('admin', 'GET', '/api/vms/?ordering=external_id&page_size=2&page=2');
      expect(second.json().next).toBeNull();
      expect(second.json().previous).toBe('http://localhost/api/vms/?ordering=external_id&page_size=2');
      expect(second.json().results.map((vm: { id: number }) => vm.id)).toEqual([ids.vmB]);
    });

    it('answers 404 for another tenant VM', async () => {
      const own = await world.request('tenant_viewer', 'GET', `/api/vms/${ids.vmA}/`);
      const other = await world.request('tenant_viewer', 'GET', `/api/vms/${ids.vmB}/`);
      const missing = await world.request('admin', 'GET', '/api/vms/999999/');

      expect(own.statusCode).toBe(200);
      expect(own.json().external_id).toBe(world.tenantA.vmExternalId);
      expect(other.statusCode).toBe(404);
      expect(other.json().code).toBe('object_not_found');
      expect(missing.statusCode).toBe(404);
    });

    it('rejects bad ids and queries with 400', async () => {
      for (const url of [
        '/api/vms/abc/',
        '/api/vms/0/',
        '/api/vms/1.5/',
        '/api/vms/99999999999/',
        '/api/vms/0x10/',
        '/api/vms/?information_system=x',
        '/api/vms/?information_system=',
        '/api/vms/?page=1.5',
        '/api/vms/?page=1&page=2',
        '/api/vms/?status=sleeping',
        '/api/vms/?page=0',
        '/api/vms/?page_size=1001',
        `/api/vms/?search=${'x'.repeat(201)}`,
        '/api/vms/?ordering=nope',
      ]) {
        const response = await world.request('admin', 'GET', url);
        expect(response.statusCode, url).toBe(400);
        expect(response.json().code, url).toBe('validation_failed');
      }
    });

    it('requires a signed-in caller', async () => {
      const response = await world.request('anonymous', 'GET', '/api/vms/');
      expect(response.statusCode).toBe(401);
    });
  });

  describe('creating', () => {
    it('creates a local VM in an own system, billed from tomorrow', async () => {
      const before = await systemTotals(world.tenantA.systemId);
      const response = await world.request('tenant_admin', 'POST', '/api/vms/', {
        external_id: 'new-01',
        name: '新虚拟机 01',
        information_system: world.tenantA.systemId,
        cpu: 4,
        memory: '8.5',
        storage: 100,
      });

      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({
        provider: 'local',
        external_id: 'new-01',
        name: '新虚拟机 01',
        information_system: world.tenantA.systemId,
        observed_information_system: world.tenantA.systemId,
        status: 'running',
        cpu: 4,
        memory: '8.5',
        storage: '100',
        adjustments: { changes: 1, by_type: { vm_added: 1 }, effective_date: tomorrow() },
      });
      expect(await systemTotals(world.tenantA.systemId)).toEqual({
        total_cpu: before.total_cpu + 4,
        total_memory: String(Number(before.total_memory) + 8.5),
        total_storage: String(Number(before.total_storage) + 100),
      });

      const detail = await world.request('tenant_viewer', 'GET', `/api/vms/${body.id}/`);
      expect(detail.statusCode).toBe(200);
    });

    it('lets an admin create an unassigned VM', async () => {
      const response = await world.request('admin', 'POST', '/api/vms/', {
        external_id: 'spare-01',
        name: 'spare',
        information_system: null,
        cpu: 1,
        memory: 1,
        storage: 0,
      });

      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ information_system: null, adjustments: { changes: 0 } });
    });

    it('requires a system from a tenant_admin', async () => {
      const response = await world.request('tenant_admin', 'POST', '/api/vms/', {
        external_id: 'orphan-01',
        name: 'orphan',
        cpu: 1,
        memory: 1,
        storage: 1,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'vm_system_required',
        details: [{ field: 'information_system', code: 'vm_system_required' }],
      });
    });

    it('hides another tenant system as 404', async () => {
      const response = await world.request('tenant_admin', 'POST', '/api/vms/', {
        external_id: 'intruder-01',
        name: 'intruder',
        information_system: world.tenantB.systemId,
        cpu: 1,
        memory: 1,
        storage: 1,
      });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'object_not_found' });
      const created = await world.request('admin', 'GET', '/api/vms/?search=intruder-01');
      expect(created.json().count).toBe(0);
    });

    it('rejects a duplicate external id with 409', async () => {
      const response = await world.request('admin', 'POST', '/api/vms/', {
        external_id: world.tenantA.vmExternalId,
        name: 'duplicate',
        information_system: world.tenantA.systemId,
        cpu: 1,
        memory: 1,
        storage: 1,
      });

      expect(response.statusCode).toBe(409);
      expect(response.json().code).toBe('vm_exists');
    });

    it('rejects writes from a tenant_viewer', async () => {
      const create = await world.request('tenant_viewer', 'POST', '/api/vms/', {
        external_id: 'viewer-01',
        name: 'viewer',
        information_system: world.tenantA.systemId,
        cpu: 1,
        memory: 1,
        storage: 1,
      });
      const patch = await world.request('tenant_viewer', 'PATCH', `/api/vms/${ids.vmA}/`, { cpu: 3 });
      const remove = await world.request('tenant_viewer', 'DELETE', `/api/vms/${ids.vmA}/`);

      expect(create.statusCode).toBe(403);
      expect(create.json().code).toBe('permission_denied');
      expect(patch.statusCode).toBe(403);
      expect(remove.statusCode).toBe(403);
    });

    it('validates each field', async () => {
      const valid = {
        external_id: 'valid-01',
        name: 'valid',
        information_system: world.tenantA.systemId,
        cpu: 1,
        memory: '1',
        storage: '1',
      };
      const cases: [string, Record<string, unknown>, string, string][] = [
        ['negative cpu', { cpu: -1 }, 'body.cpu', 'minimum'],
        ['too many cpus', { cpu: 4097 }, 'body.cpu', 'maximum'],
        ['fractional cpu', { cpu: 1.5 }, 'body.cpu', 'type'],
        ['cpu as text', { cpu: '4' }, 'body.cpu', 'type'],
        ['cpu as boolean', { cpu: true }, 'body.cpu', 'type'],
        ['cpu as null', { cpu: null }, 'body.cpu', 'type'],
        ['cpu as list', { cpu: [4] }, 'body.cpu', 'type'],
        ['negative memory', { memory: '-1' }, 'memory', 'invalid_size'],
        ['negative memory number', { memory: -0.5 }, 'memory', 'invalid_size'],
        ['non-numeric memory', { memory: 'lots' }, 'memory', 'invalid_size'],
        ['memory with seven decimals', { memory: '0.0000001' }, 'memory', 'invalid_size'],
        ['memory above 1 PiB', { memory: '1048577' }, 'memory', 'invalid_size'],
        ['memory in exponent form', { memory: '1e3' }, 'memory', 'invalid_size'],
        ['negative storage', { storage: -10 }, 'storage', 'invalid_size'],
        ['non-numeric storage', { storage: '10GB' }, 'storage', 'invalid_size'],
        ['storage as object', { storage: { gb: 1 } }, 'body.storage', 'anyOf'],
        ['storage as boolean', { storage: true }, 'body.storage', 'anyOf'],
        ['over-long storage text', { storage: '1'.repeat(41) }, 'body.storage', 'anyOf'],
        ['empty external id', { external_id: '' }, 'body.external_id', 'minLength'],
        ['blank external id', { external_id: '   ' }, 'external_id', 'invalid_external_id'],
        ['over-long external id', { external_id: 'x'.repeat(256) }, 'body.external_id', 'maxLength'],
        ['external id as number', { external_id: 12 }, 'body.external_id', 'type'],
        ['over-long name', { name: 'n'.repeat(256) }, 'body.name', 'maxLength'],
        ['blank name', { name: '  ' }, 'name', 'invalid_name'],
        ['system as text', { information_system: 'S1' }, 'body.information_system', 'anyOf'],
        ['system as boolean', { information_system: true }, 'body.information_system', 'anyOf'],
        ['system zero', { information_system: 0 }, 'body.information_system', 'anyOf'],
        ['unknown field', { provider: 'file' }, 'body.provider', 'additionalProperties'],
      ];

      for (const [label, change, field, code] of cases) {
        const response = await world.request('admin', 'POST', '/api/vms/', { ...valid, ...change });
        expect(response.statusCode, label).toBe(400);
        expect(response.json().details, label).toContainEqual(expect.objectContaining({ field, code }));
      }

      const missing = await world.request('admin', 'POST', '/api/vms/', { name: 'x' });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().details.map((detail: { field: string }) => detail.field)).toEqual([
        'body.external_id',
        'body.cpu',
        'body.memory',
        'body.storage',
      ]);

      const nothingCreated = await world.request('admin', 'GET', '/api/vms/?search=valid-01');
      expect(nothingCreated.json().count).toBe(0);
    });

    it('rejects a body that is not JSON', async () => {
      const response = await world.request('admin', 'POST', '/api/vms/', '{"cpu": ', {
        'content-type': 'application/json',
      });
      expect(response.statusCode).toBe(400);
    });
  });

  describe('changing', () => {
    async function createVm(externalId: string, systemId = world.tenantA.systemId) {
      const response = await world.request('admin', 'POST', '/api/vms/', {
        external_id: externalId,
        name: externalId,
        information_system: systemId,
        cpu: 2,
        memory: '4',
        storage: '40',
      });
      expect(response.statusCode).toBe(201);
      return response.json().id as number;
    }

    async function logsOf(vmId: number) {
      return world.database.db
        .selectFrom('resource_adjustment_logs')
        .select(['change_type', 'information_system_id', 'cpu_after', 'memory_after', 'effective_date'])
        .where('virtual_machine_id', '=', vmId)
        .orderBy('id')
        .execute();
    }

    it('resizes a VM and logs the change', async () => {
      const id = await createVm('resize-01');
      const response = await world.request('tenant_admin', 'PATCH', `/api/vms/${id}/`, {
        cpu: 6,
        memory: '12.25',
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        cpu: 6,
        memory: '12.25',
        storage: '40',
        adjustments: { changes: 1, by_type: { vm_resized: 1 }, effective_date: tomorrow() },
      });
      expect(await logsOf(id)).toEqual([
        expect.objectContaining({ change_type: 'vm_added', cpu_after: 2 }),
        {
          change_type: 'vm_resized',
          information_system_id: world.tenantA.systemId,
          cpu_after: 6,
          memory_after: '12.25',
          effective_date: tomorrow(),
        },
      ]);
    });

    it('reports an unchanged size as no change', async () => {
      const id = await createVm('same-01');
      const response = await world.request('tenant_admin', 'PATCH', `/api/vms/${id}/`, { cpu: 2 });

      expect(response.statusCode).toBe(200);
      expect(response.json().adjustments).toMatchObject({ changes: 0, by_type: {} });
    });

    it('reassigns a VM within the tenant', async () => {
      const id = await createVm('move-01');
      const target = await createSystem('tenant_admin', world.tenantA.id, 'A-TARGET');
      const response = await world.request('tenant_admin', 'PATCH', `/api/vms/${id}/`, {
        information_system: target,
        storage: '80',
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        information_system: target,
        observed_information_system: target,
        storage: '80',
        adjustments: { changes: 2, by_type: { vm_reassigned: 2 } },
      });
      expect(await systemTotals(target)).toEqual({ total_cpu: 2, total_memory: '4', total_storage: '80' });
    });

    it('hides another tenant system as 404 and changes nothing', async () => {
      const id = await createVm('stay-01');
      const response = await world.request('tenant_admin', 'PATCH', `/api/vms/${id}/`, {
        cpu: 8,
        information_system: world.tenantB.systemId,
      });

      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('object_not_found');
      const vm = await world.request('admin', 'GET', `/api/vms/${id}/`);
      expect(vm.json()).toMatchObject({ cpu: 2, information_system: world.tenantA.systemId });
    });

    it('hides another tenant VM as 404', async () => {
      const patch = await world.request('tenant_admin', 'PATCH', `/api/vms/${ids.vmB}/`, { cpu: 8 });
      const remove = await world.request('tenant_admin', 'DELETE', `/api/vms/${ids.vmB}/`);

      expect(patch.statusCode).toBe(404);
      expect(remove.statusCode).toBe(404);
      const vm = await world.request('admin', 'GET', `/api/vms/${ids.vmB}/`);
      expect(vm.json()).toMatchObject({ cpu: 1, status: 'running' });
    });

    it('leaves the size unchanged when the new system is decommissioned', async () => {
      const id = await createVm('half-01');
      const retired = await createSystem('admin', world.tenantA.id, 'A-RETIRED');
      const decommission = await world.request(
        'admin',
        'POST',
        `/api/information-systems/${retired}/decommission/`,
      );
      expect(decommission.statusCode).toBe(200);

      const response = await world.request('tenant_admin', 'PATCH', `/api/vms/${id}/`, {
        cpu: 8,
        information_system: retired,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'system_decommissioned',
        details: [{ field: 'information_system' }],
      });
      const vm = await world.request('admin', 'GET', `/api/vms/${id}/`);
      expect(vm.json()).toMatchObject({
        cpu: 2,
        observed_cpu: 2,
        information_system: world.tenantA.systemId,
      });
    });

    it('validates each field of a change', async () => {
      const id = await createVm('patch-validation-01');
      const cases: [string, Record<string, unknown>, string, string][] = [
        ['empty body', {}, 'information_system', 'nothing_to_change'],
        ['negative cpu', { cpu: -2 }, 'body.cpu', 'minimum'],
        ['cpu as text', { cpu: 'two' }, 'body.cpu', 'type'],
        ['negative memory', { memory: '-4' }, 'memory', 'invalid_size'],
        ['non-numeric storage', { storage: 'big' }, 'storage', 'invalid_size'],
        ['system as null', { information_system: null }, 'body.information_system', 'type'],
        ['system negative', { information_system: -1 }, 'body.information_system', 'minimum'],
        ['rename', { name: 'renamed' }, 'body.name', 'additionalProperties'],
      ];

      for (const [label, body, field, code] of cases) {
        const response = await world.request('tenant_admin', 'PATCH', `/api/vms/${id}/`, body);
        expect(response.statusCode, label).toBe(400);
        if (code === 'nothing_to_change') expect(response.json().code, label).toBe(code);
        else expect(response.json().details, label).toContainEqual(expect.objectContaining({ field, code }));
      }
      const vm = await world.request('admin', 'GET', `/api/vms/${id}/`);
      expect(vm.json()).toMatchObject({ cpu: 2, memory: '4', storage: '40' });
    });

    it('deletes a VM, keeping it listed as deleted', async () => {
      const id = await createVm('remove-01');
      const response = await world.request('tenant_admin', 'DELETE', `/api/vms/${id}/`);

      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        id,
        status: 'deleted',
        information_system: null,
        adjustments: { changes: 1, by_type: { vm_removed: 1 }, effective_date: tomorrow() },
      });
      const listed = await world.request('tenant_viewer', 'GET', '/api/vms/?status=deleted&search=remove-01');
      expect(listed.json().results.map((vm: { id: number }) => vm.id)).toEqual([id]);

      const again = await world.request('tenant_admin', 'DELETE', `/api/vms/${id}/`);
      const resize = await world.request('tenant_admin', 'PATCH', `/api/vms/${id}/`, { cpu: 1 });
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('vm_deleted');
      expect(resize.statusCode).toBe(409);
    });

    it('keeps VMs of other providers read-only', async () => {
      const patch = await world.request('admin', 'PATCH', `/api/vms/${ids.fileVm}/`, { cpu: 1 });
      const remove = await world.request('tenant_admin', 'DELETE', `/api/vms/${ids.fileVm}/`, undefined, {
        'accept-language': 'en',
      });

      expect(patch.statusCode).toBe(409);
      expect(patch.json().code).toBe('vm_read_only');
      expect(patch.json().message).toContain('只读');
      expect(remove.statusCode).toBe(409);
      expect(remove.json().message).toBe(
        'virtual machine FILE-Web-01 comes from inventory source file and is read-only; change it in that source, because only VMs of provider local can be changed here',
      );
      const vm = await world.request('admin', 'GET', `/api/vms/${ids.fileVm}/`);
      expect(vm.json()).toMatchObject({ observed_cpu: 8, status: 'stopped' });
    });
  });
});
