import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld, type Caller } from '../../../test/support/api.js';
import { beijing, ZONE } from '../../../test/support/fixtures.js';
import { resizeLocalVm } from '../../inventory/local-vms.js';
import { setSystemRunMode } from '../../inventory/systems.js';

type LogJson = Record<string, unknown> & { id: number; change_type: string; detected_at: string };

describe('adjustment logs API', () => {
  let world: ApiWorld;
  let vmA: number;

  async function listAll(caller: Caller, query = ''): Promise<LogJson[]> {
    const response = await world.request(caller, 'GET', `/api/adjustment-logs/?page_size=1000&${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().results;
  }

  /** Each log as "change_type system detected_at", in response order. */
  const describeLogs = (logs: LogJson[]) =>
    logs.map((log) => `${log.change_type} ${String(log.information_system_code)} ${log.detected_at}`);

  beforeAll(async () => {
    world = await createApiWorld();
    const db = world.database.db;
    vmA = (
      await db
        .selectFrom('virtual_machines')
        .select('id')
        .where('external_id', '=', world.tenantA.vmExternalId)
        .executeTakeFirstOrThrow()
    ).id;

    // 23:30 and 00:30 in Beijing fall on two billing days but on the same UTC day (15:30Z and 16:30Z).
    await resizeLocalVm(
      db,
      { external_id: world.tenantA.vmExternalId, cpu: 4 },
      { timezone: ZONE, now: beijing('2026-01-10T23:30:00') },
    );
    await resizeLocalVm(
      db,
      { external_id: world.tenantA.vmExternalId, memory: '8' },
      { timezone: ZONE, now: beijing('2026-01-11T00:30:00') },
    );
    await setSystemRunMode(
      db,
      { code: world.tenantB.systemCode, run_mode: '7x24' },
      { timezone: ZONE, now: beijing('2026-01-12T08:00:00') },
    );
  });

  afterAll(async () => {
    await world?.close();
  });

  it('lists logs newest first', async () => {
    const { tenantA, tenantB } = world;
    const logs = await listAll('admin');

    // The two VMs were added at the same instant; ties follow detection order, newest first.
    expect(describeLogs(logs)).toEqual([
      `run_mode_changed ${tenantB.systemCode} 2026-01-12T00:00:00.000Z`,
      `vm_resized ${tenantA.systemCode} 2026-01-10T16:30:00.000Z`,
      `vm_resized ${tenantA.systemCode} 2026-01-10T15:30:00.000Z`,
      `vm_added ${tenantB.systemCode} 2026-01-01T01:00:00.000Z`,
      `vm_added ${tenantA.systemCode} 2026-01-01T01:00:00.000Z`,
    ]);

    const oldestFirst = await listAll('admin', 'ordering=detected_at');
    expect(oldestFirst.map((log) => log.id)).toEqual(logs.map((log) => log.id).reverse());
  });

  it('returns values before and after', async () => {
    const [log] = await listAll('admin', 'change_type=vm_resized&ordering=detected_at');

    expect(log).toMatchObject({
      information_system: world.tenantA.systemId,
      virtual_machine: vmA,
      virtual_machine_external_id: world.tenantA.vmExternalId,
      cpu_before: 2,
      cpu_after: 4,
      memory_before: '4',
      memory_after: '4',
      total_cpu_before: 2,
      total_cpu_after: 4,
      effective_date: '2026-01-11',
    });

    const detail = await world.request('admin', 'GET', `/api/adjustment-logs/${log!.id}/`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toEqual(log);
  });

  it('filters by system, VM and change type', async () => {
    const ofSystemA = await listAll('admin', `information_system=${world.tenantA.systemId}`);
    expect(ofSystemA.map((log) => log.change_type)).toEqual(['vm_resized', 'vm_resized', 'vm_added']);

    const ofVm = await listAll('admin', `virtual_machine=${vmA}`);
    expect(ofVm.map((log) => log.id)).toEqual(ofSystemA.map((log) => log.id));

    const runModes = await listAll('admin', 'change_type=run_mode_changed');
    expect(runModes).toHaveLength(1);
    expect(runModes[0]).toMatchObject({
      run_mode_before: '5x8',
      run_mode_after: '7x24',
      virtual_machine: null,
    });

    expect(await listAll('admin', 'change_type=vm_removed')).toEqual([]);
  });

  it('filters by billing-zone days', async () => {
    const fromEleventh = await listAll('admin', 'detected_after=2026-01-11');
    expect(fromEleventh.map((log) => log.detected_at)).toEqual([
      '2026-01-12T00:00:00.000Z',
      '2026-01-10T16:30:00.000Z',
    ]);

    const eleventh = await listAll('admin', 'detected_after=2026-01-11&detected_before=2026-01-11');
    expect(eleventh.map((log) => log.detected_at)).toEqual(['2026-01-10T16:30:00.000Z']);

    const untilTenth = await listAll('admin', 'detected_before=2026-01-10');
    expect(untilTenth.map((log) => log.detected_at)).toEqual([
      '2026-01-10T15:30:00.000Z',
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
  });

  it('paginates with count and links', async () => {
    const first = await world.request('admin', 'GET', '/api/adjustment-logs/?page_size=2&ordering=id');
    const last = await world.request('admin', 'GET', '/api/adjustment-logs/?page_size=2&ordering=id&page=3');

    expect(first.json().count).toBe(5);
    expect(first.json().next).toBe('http://localhost/api/adjustment-logs/?page_size=2&ordering=id&page=2');
    expect(last.json().results).toHaveLength(1);
    expect(last.json().next).toBeNull();
  });

  it('shows tenant users only own logs', async () => {
    const own = await listAll('tenant_viewer');
    expect(own).toHaveLength(3);
    expect(own.every((log) => log.information_system === world.tenantA.systemId)).toBe(true);
    expect(await listAll('tenant_viewer', `information_system=${world.tenantB.systemId}`)).toEqual([]);

    const [logOfB] = await listAll('other_admin', 'change_type=run_mode_changed');
    const hidden = await world.request('tenant_viewer', 'GET', `/api/adjustment-logs/${logOfB!.id}/`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe('object_not_found');

    const anonymous = await world.request('anonymous', 'GET', '/api/adjustment-logs/');
    expect(anonymous.statusCode).toBe(401);
  });

  it('rejects bad filters with 400', async () => {
    const cases: [string, string][] = [
      ['detected_after=2026-02-30', 'invalid_date'],
      ['detected_before=11/01/2026', 'invalid_date'],
      ['detected_after=2026-01-12&detected_before=2026-01-11', 'invalid_date_range'],
      ['change_type=vm_deleted', 'validation_failed'],
      ['ordering=amount', 'validation_failed'],
      ['virtual_machine=-1', 'validation_failed'],
    ];
    for (const [query, code] of cases) {
      const response = await world.request('admin', 'GET', `/api/adjustment-logs/?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().code, query).toBe(code);
    }

    const missing = await world.request('admin', 'GET', '/api/adjustment-logs/999999/');
    expect(missing.statusCode).toBe(404);
  });
});
