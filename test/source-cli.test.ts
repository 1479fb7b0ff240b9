import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate, openDatabase } from '../src/db/database.js';
import { addSystem } from '../src/inventory/systems.js';
import { addTenant } from '../src/inventory/tenants.js';
import {
  generatedServer,
  PASSWORD,
  startFakeOpenStack,
  type FakeOpenStack,
} from './support/fake-openstack.js';

const run = promisify(execFile);
const CLI = path.resolve('src/cli/main.ts');
const TSX = path.resolve('node_modules/.bin/tsx');

let folder: string;
let cloud: FakeOpenStack;

async function cli(args: string[], environment: Record<string, string> = {}, lang = 'zh_CN.UTF-8') {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], {
      env: {
        ...process.env,
        DATA_DIR: path.join(folder, 'data'),
        CONFIG_FILE: path.join(folder, 'config.yaml'),
        LANG: lang,
        LC_ALL: '',
        LOG_LEVEL: 'warn',
        DATABASE_URL: '',
        ...environment,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Adds information systems with the given codes to the CLI's data folder, while no CLI process uses it. */
async function addSystems(codes: string[]): Promise<void> {
  const database = await openDatabase({ dataDir: path.join(folder, 'data') });
  try {
    await migrate(database.db);
    const context = { timezone: 'Asia/Shanghai' };
    if (!(await database.db.selectFrom('tenants').select('id').executeTakeFirst())) {
      await addTenant(database.db, { code: 'gaj', name: '市公安局' }, context);
    }
    for (const code of codes) {
      await addSystem(database.db, { code, tenant: 'gaj', name: code, run_mode: '7x24' }, context);
    }
  } finally {
    await database.close();
  }
}

// Each command is a new Node.js process that opens PGlite, which takes seconds on a busy machine.
describe('cloud-platform source commands', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-source-cli-'));
    cloud = await startFakeOpenStack({ servers: { count: 7, serverAt: generatedServer } });
    writeFileSync(
      path.join(folder, 'config.yaml'),
      [
        'sources:',
        '  - name: openstack-test',
        '    type: openstack',
        `    auth_url: ${cloud.url}/identity/v3`,
        '    username: admin',
        '    password_env: SOURCE_CLI_TEST_PASSWORD',
        '    project_name: admin',
        '    page_size: 3',
        '  - name: pve-down',
        '    type: proxmox',
        '    url: http://127.0.0.1:9',
        '    token_id: sync@pve!billing',
        '    token_secret: pve-secret-value',
        '    retries: 0',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await cloud?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('lists sources without secrets', async () => {
    const result = await cli(['source', 'list', '--json']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('pve-secret-value');
    const rows = JSON.parse(result.stdout) as { name: string; origin: string; secrets_set: string[] }[];
    expect(rows.map((row) => [row.name, row.origin, row.secrets_set])).toEqual([
      ['openstack-test', 'config_file', []],
      ['pve-down', 'config_file', ['token_secret']],
    ]);
  });

  it('fails when every system code is unknown and writes nothing', async () => {
    const result = await cli(['source', 'test', 'openstack-test', '--limit', '2'], {
      SOURCE_CLI_TEST_PASSWORD: PASSWORD,
    });

    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('数据源 openstack-test 连接正常，用时');
    expect(result.stdout).not.toContain('测试成功');
    expect(result.stdout).toContain(
      '读取 7 台虚拟机，其中 7 台有效（7 台已指定信息系统），0 台无效；未写入任何数据',
    );
    expect(result.stdout).toContain('前 2 条映射结果：');
    expect(result.stdout).toContain(
      '7 台虚拟机的信息系统编码不存在或已下线，同步时将被拒绝：SYS-0 (1), SYS-1 (1)',
    );
    expect(result.stdout).toContain('测试未通过：同步将拒绝全部 7 台虚拟机，不会导入任何一台');

    const vms = await cli(['vm', 'list', '--json']);
    expect(JSON.parse(vms.stdout)).toEqual([]);
  });

  it('prints the mapped records as JSON', async () => {
    const result = await cli(['source', 'test', 'openstack-test', '--limit', '1', '--json'], {
      SOURCE_CLI_TEST_PASSWORD: PASSWORD,
    });

    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      source: 'openstack-test',
      status: 'all_rejected',
      records: 7,
      valid: 7,
      assigned: 7,
      importable: 0,
    });
    expect(report.unknown_system_vms).toBe(7);
    expect(report.unknown_system_count).toBe(7);
    expect(report.unknown_systems.slice(0, 2)).toEqual([
      { code: 'SYS-0', vms: 1 },
      { code: 'SYS-1', vms: 1 },
    ]);
    expect(report.sample).toEqual([
      {
        external_id: generatedServer(0).id,
        name: 'vm-0',
        system_code: 'SYS-0',
        cpu: 2,
        memory_gb: '4',
        storage_gb: '40',
        power_status: 'stopped',
      },
    ]);
  });

  it('exits 4 when some system codes are unknown', async () => {
    await addSystems(['SYS-0', 'SYS-1', 'SYS-2']);

    // One at a time, because each CLI process locks the PGlite data folder.
    const chinese = await cli(['source', 'test', 'openstack-test'], { SOURCE_CLI_TEST_PASSWORD: PASSWORD });
    const english = await cli(
      ['source', 'test', 'openstack-test', '--json'],
      { SOURCE_CLI_TEST_PASSWORD: PASSWORD },
      'en_US.UTF-8',
    );

    expect(chinese.code, chinese.stderr).toBe(4);
    expect(chinese.stdout).toContain(
      '测试未完全通过：同步将拒绝 7 台中的 4 台虚拟机，只导入其余 3 台；请按上面的列表处理被拒绝的虚拟机',
    );
    expect(chinese.stdout).toContain('4 台虚拟机的信息系统编码不存在或已下线，同步时将被拒绝：SYS-3 (1)');
    expect(english.code, english.stderr).toBe(4);
    expect(JSON.parse(english.stdout)).toMatchObject({
      status: 'partly_rejected',
      records: 7,
      importable: 3,
      unknown_system_vms: 4,
    });
  });

  it('exits 0 when every VM maps to a system', async () => {
    await addSystems(['SYS-3', 'SYS-4', 'SYS-5', 'SYS-6']);

    const result = await cli(
      ['source', 'test', 'openstack-test'],
      { SOURCE_CLI_TEST_PASSWORD: PASSWORD },
      'en_US.UTF-8',
    );

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'read 7 VMs, 7 valid (7 with an information system), 0 invalid; nothing was written',
    );
    expect(result.stdout).toMatch(/^source openstack-test works \(/);
    expect(result.stdout).not.toContain('test failed');
    expect(result.stdout).not.toContain('would reject');
  });

  it('reports a failing source in English', async () => {
    const result = await cli(['source', 'test', 'pve-down'], {}, 'en_US.UTF-8');

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'source pve-down failed after reading 0 VMs: inventory source pve-down: GET',
    );
    expect(result.stdout).not.toContain('pve-secret-value');
    expect(result.stderr).not.toContain('pve-secret-value');
  });

  it('names a missing password variable', async () => {
    const result = await cli(['source', 'test', 'openstack-test'], {}, 'en_US.UTF-8');

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('environment variable SOURCE_CLI_TEST_PASSWORD, named by password_env');
  });

  it('names an unknown source', async () => {
    const result = await cli(['source', 'test', 'nope'], {}, 'en_US.UTF-8');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('inventory source "nope" not found');
  });
});
