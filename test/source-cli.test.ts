import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

  it('tests a source and writes nothing', async () => {
    const result = await cli(['source', 'test', 'openstack-test', '--limit', '2'], {
      SOURCE_CLI_TEST_PASSWORD: PASSWORD,
    });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('数据源 openstack-test 测试成功，用时');
    expect(result.stdout).toContain(
      '读取 7 台虚拟机，其中 7 台有效（7 台已指定信息系统），0 台无效；未写入任何数据',
    );
    expect(result.stdout).toContain('前 2 条映射结果：');
    expect(result.stdout).toContain(
      '7 台虚拟机的信息系统编码不存在或已下线，同步时将被拒绝：SYS-0 (1), SYS-1 (1)',
    );

    const vms = await cli(['vm', 'list', '--json']);
    expect(JSON.parse(vms.stdout)).toEqual([]);
  });

  it('prints the mapped records as JSON', async () => {
    const result = await cli(['source', 'test', 'openstack-test', '--limit', '1', '--json'], {
      SOURCE_CLI_TEST_PASSWORD: PASSWORD,
    });

    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      source: 'openstack-test',
      status: 'succeeded',
      records: 7,
      valid: 7,
      assigned: 7,
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
