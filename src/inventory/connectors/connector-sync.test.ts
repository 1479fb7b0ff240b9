import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { availableBackends, createTestDatabase, type TestDatabase } from '../../../test/support/databases.js';
import {
  generatedServer,
  PASSWORD,
  startFakeOpenStack,
  type FakeOpenStack,
  type FaultAnswer,
  type RequestRecord,
} from '../../../test/support/fake-openstack.js';
import { beijing, createSystem } from '../../../test/support/fixtures.js';
import { loadSettings } from '../../config/settings.js';
import { silentLogger } from '../../logger.js';
import type { SyncVmStatusResult } from '../../monitoring/sync-vm-status.js';
import { TaskPartlyFailedError } from '../../tasks/errors.js';
import { TASKS } from '../../tasks/registry.js';

/**
 * sync_vm_status with an OpenStack source from CONFIG_FILE, end to end: a
 * source that fails part-way, cannot be reached or returns garbage leaves
 * every one of its VMs exactly as it was, and the task result names the error.
 */

const backends = await availableBackends();
const PASSWORD_VARIABLE = 'CONNECTOR_SYNC_TEST_OPENSTACK_PASSWORD';

describe.each(backends)('OpenStack sync on %s', (backend) => {
  let database: TestDatabase;
  let cloud: FakeOpenStack;
  let fault: ((request: RequestRecord) => FaultAnswer) | undefined;
  let systemCode: string;
  let cloudServers = 5;

  beforeAll(async () => {
    process.env[PASSWORD_VARIABLE] = PASSWORD;
    database = await createTestDatabase(backend);
    ({
      system: { code: systemCode },
    } = await createSystem(database.db, { at: beijing('2026-07-01T09:00:00'), runMode: '7x24' }));
    cloud = await startFakeOpenStack({
      servers: {
        get count() {
          return cloudServers;
        },
        serverAt: (index) => ({
          ...generatedServer(index),
          metadata: index === 0 ? { cloud_platform_system: systemCode } : ({} as Record<string, string>),
        }),
      },
      fault: (request) => fault?.(request),
    });
  });

  afterEach(() => {
    fault = undefined;
  });

  afterAll(async () => {
    delete process.env[PASSWORD_VARIABLE];
    await cloud?.close();
    await database?.drop();
  });

  function settingsFor(authUrl: string) {
    const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-connector-sync-'));
    const file = path.join(folder, 'config.yaml');
    writeFileSync(
      file,
      [
        'sources:',
        '  - name: openstack-test',
        '    type: openstack',
        `    auth_url: ${authUrl}`,
        '    username: admin',
        `    password_env: ${PASSWORD_VARIABLE}`,
        '    project_name: admin',
        '    page_size: 2',
        '    retries: 1',
        '    timeout_seconds: 5',
        '',
      ].join('\n'),
    );
    return loadSettings({ CONFIG_FILE: file, MISSING_AFTER_SYNCS: '1', LOG_LEVEL: 'silent' });
  }

  async function runSync(at: string, authUrl = `${cloud.url}/identity/v3`): Promise<SyncVmStatusResult> {
    const context = {
      db: database.db,
      settings: settingsFor(authUrl),
      logger: silentLogger,
      taskRunId: null,
      now: beijing(at),
    };
    try {
      return (await TASKS.sync_vm_status.run(context, {})) as unknown as SyncVmStatusResult;
    } catch (error) {
      if (error instanceof TaskPartlyFailedError) {
        return {
          ...(error.result as unknown as SyncVmStatusResult),
          failure: error.message,
        } as SyncVmStatusResult;
      }
      throw error;
    }
  }

  function snapshot() {
    return database.db
      .selectFrom('virtual_machines')
      .selectAll()
      .where('provider', '=', 'openstack-test')
      .orderBy('external_id')
      .execute();
  }

  function openstackResult(result: SyncVmStatusResult) {
    return result.sources.find((source) => source.source === 'openstack-test')!;
  }

  it('creates the VMs of the cloud', async () => {
    const result = await runSync('2026-07-01T10:00:00');

    expect(openstackResult(result)).toMatchObject({ status: 'succeeded', records_read: 5, created: 5 });
    const vms = await snapshot();
    expect(vms).toHaveLength(5);
    expect(vms[0]).toMatchObject({
      external_id: generatedServer(0).id,
      provider: 'openstack-test',
      observed_cpu: 2,
      observed_memory: '4',
      observed_storage: '40',
      status: 'stopped',
    });
    expect(vms[0]!.observed_system_id).not.toBeNull();
    expect(vms.slice(1).every((vm) => vm.observed_system_id === null)).toBe(true);
  });

  it('leaves every VM unchanged when page 3 fails after retries', async () => {
    const before = await snapshot();
    fault = (request) =>
      request.page === 3 ? { status: 500, body: '{"computeFault": {"code": 500}}' } : undefined;

    const result = await runSync('2026-07-01T10:05:00');

    const source = openstackResult(result);
    expect(source.status).toBe('failed');
    expect(source.records_read).toBe(4);
    expect(source.error).toContain('answered HTTP 500 after 2 attempt(s)');
    expect((result as unknown as { failure: string }).failure).toContain(
      'openstack-test: inventory source openstack-test: GET',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('leaves every VM unchanged when the cloud is unreachable', async () => {
    const before = await snapshot();

    const result = await runSync('2026-07-01T10:10:00', 'http://127.0.0.1:9/identity/v3');

    expect(openstackResult(result).status).toBe('failed');
    expect(openstackResult(result).error).toContain('failed after 2 attempt(s)');
    expect(await snapshot()).toEqual(before);
  });

  it('leaves every VM unchanged on a garbage answer', async () => {
    const before = await snapshot();
    cloudServers = 3;
    fault = (request) => (request.page === 2 ? { raw: '<html>proxy error</html>' } : undefined);

    const result = await runSync('2026-07-01T10:15:00');

    expect(openstackResult(result).error).toMatch(
      /^inventory source openstack-test answered invalid JSON at http/,
    );
    expect(await snapshot()).toEqual(before);
    cloudServers = 5;
  });

  it('marks a VM missing only after a successful sync', async () => {
    cloudServers = 4;

    const result = await runSync('2026-07-01T10:20:00');

    expect(openstackResult(result)).toMatchObject({ status: 'succeeded', unchanged: 4, marked_missing: 1 });
    const vms = await snapshot();
    expect(vms.find((vm) => vm.external_id === generatedServer(4).id)?.status).toBe('missing');
    cloudServers = 5;
  });
});
