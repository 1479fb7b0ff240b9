import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dayOf, addDays } from '../src/billing/days.js';
import { openDatabase, DataFolderLockedError } from '../src/db/database.js';

const run = promisify(execFile);
const CLI = path.resolve('src/cli/main.ts');
const TSX = path.resolve('node_modules/.bin/tsx');

let dataDir: string;

async function cli(args: string[], lang = 'zh_CN.UTF-8', environment: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], {
      env: {
        ...process.env,
        DATA_DIR: dataDir,
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

// Each command is a new Node.js process that opens PGlite. On a busy 2-core
// machine that takes several seconds, so these tests get more than the default time.
describe('cloud-platform CLI on an embedded data folder', { timeout: 240_000 }, () => {
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cloud-platform-cli-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to list from a folder without a database', async () => {
    const emptyFolder = path.join(dataDir, 'no-database-here');
    const chinese = await cli(['billing', 'list'], 'zh_CN.UTF-8', { DATA_DIR: emptyFolder });
    const english = await cli(['tenant', 'list'], 'en_US.UTF-8', { DATA_DIR: emptyFolder });

    expect(chinese.code).toBe(3);
    expect(chinese.stderr).toContain(
      `数据目录 ${emptyFolder} 中还没有数据库：请在运行 npm start 的目录中执行此命令`,
    );
    expect(english.code).toBe(3);
    expect(english.stderr).toContain(`data folder ${emptyFolder} contains no database yet`);
    expect(existsSync(emptyFolder)).toBe(false);
  });

  it('adds a tenant, a system and a VM', async () => {
    expect(
      (await cli(['tenant', 'add', '--code', 'gaj', '--name', '市公安局', '--discount-rate', '0.8'])).stdout,
    ).toContain('已添加租户 gaj');
    expect(
      (
        await cli([
          'system',
          'add',
          '--code',
          'gaj-zhzx',
          '--tenant',
          'gaj',
          '--name',
          '指挥中心',
          '--run-mode',
          '5x8',
        ])
      ).code,
    ).toBe(0);
    const vm = await cli(
      [
        'vm',
        'add',
        '--external-id',
        'vm-1',
        '--name',
        'web-1',
        '--system',
        'gaj-zhzx',
        '--cpu',
        '4',
        '--memory',
        '8',
        '--storage',
        '100',
      ],
      'en_US.UTF-8',
    );
    expect(vm.code).toBe(0);
    expect(vm.stdout).toContain('1 resource change(s) logged');
  });

  it('lists adjustments and systems as JSON', async () => {
    const adjustments = JSON.parse((await cli(['adjustment', 'list', '--json'])).stdout);
    expect(adjustments).toHaveLength(1);
    expect(adjustments[0]).toMatchObject({ change_type: 'vm_added', cpu_after: 4, total_cpu_after: 4 });

    const systems = JSON.parse((await cli(['system', 'list', '--json'])).stdout);
    expect(systems[0]).toMatchObject({
      code: 'gaj-zhzx',
      total_cpu: 4,
      total_memory: '8',
      total_storage: '100',
    });
  });

  it('rejects bad input with a message naming the value', async () => {
    const rate = await cli(['tenant', 'add', '--code', 'x', '--name', 'X', '--discount-rate', '1.5']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain('折扣率 "1.5" 无效');

    const mode = await cli(['system', 'set-run-mode', 'gaj-zhzx', '24x7'], 'en_US.UTF-8');
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain('invalid run mode "24x7"');

    const unknown = await cli(['vm', 'assign', 'vm-1', '--system', 'nope'], 'en_US.UTF-8');
    expect(unknown.stderr).toContain('information system "nope" not found');

    const date = await cli(
      ['task', 'exec', 'create_daily_billing_records', '--date', '2026-13-01'],
      'en_US.UTF-8',
    );
    expect(date.code).toBe(2);
    expect(date.stderr).toContain('invalid date "2026-13-01"');

    const systems = JSON.parse((await cli(['tenant', 'list', '--json'])).stdout);
    expect(systems.map((tenant: { code: string }) => tenant.code)).toEqual(['gaj']);
  });

  it('exits 2 on usage errors in both languages', async () => {
    const [chinese, english, missing] = await Promise.all([
      cli(['tenant', 'lst']),
      cli(['tenant', 'list', '--jsn'], 'en_US.UTF-8'),
      cli(['source', 'test'], 'en_US.UTF-8'),
    ]);

    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe(
      '错误 / error: 未知命令 "lst"\n你是否想输入 list？\n运行 cloud-platform tenant --help 查看用法\n',
    );
    expect(english.code).toBe(2);
    expect(english.stderr).toBe(
      '错误 / error: unknown option "--jsn"\n(Did you mean --json?)\nrun cloud-platform tenant list --help to see the usage\n',
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing argument <name>');
  });

  it('exits 2 on bad settings in both languages', async () => {
    const [chinese, english] = await Promise.all([
      cli(['serve'], 'zh_CN.UTF-8', { PORT: 'abc' }),
      cli(['worker'], 'en_US.UTF-8', { MONITOR_PORT: '0', BILLING_TIMEZONE: 'Beijing' }),
    ]);

    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe(
      '配置错误 / settings error: 配置无效：\n  PORT=abc 无效：应为 1 到 65535 之间的整数\n',
    );
    expect(english.code).toBe(2);
    expect(english.stderr).toBe(
      '配置错误 / settings error: invalid settings:\n' +
        '  BILLING_TIMEZONE=Beijing is invalid: expected an IANA time zone name such as Asia/Shanghai\n' +
        '  MONITOR_PORT=0 is invalid: expected an integer from 1 to 65535\n',
    );
  });

  it('prints bilingual help and exits 0', async () => {
    const help = await cli(['task', 'run', '--help']);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('用法 / Usage: cloud-platform task run [options] <name>');
    expect(help.stdout).toContain('-h, --help        显示帮助 / display help');
  });

  it('rejects a second process on the same data folder', async () => {
    const holder = await openDatabase({ dataDir });
    try {
      await expect(openDatabase({ dataDir })).rejects.toBeInstanceOf(DataFolderLockedError);
      const second = await cli(['tenant', 'list']);
      expect(second.code).toBe(3);
      expect(second.stderr).toContain('正被另一个 cloud-platform 进程使用');
    } finally {
      await holder.close();
    }
  });

  it('runs a task by hand and prints its summary', async () => {
    const task = await cli(['task', 'exec', 'detect_resource_changes', '--json']);
    expect(task.code).toBe(0);
    expect(JSON.parse(task.stdout)).toMatchObject({
      task_name: 'detect_resource_changes',
      status: 'succeeded',
      trigger: 'manual',
    });

    const tasks = JSON.parse((await cli(['task', 'list', '--json'])).stdout);
    expect(tasks.map((row: { name: string; queue: string }) => `${row.name}:${row.queue}`)).toEqual([
      'create_daily_billing_records:billing',
      'detect_resource_changes:monitoring',
      'sync_vm_status:monitoring',
    ]);
    expect(tasks[1].last_run.status).toBe('succeeded');
  });

  it('does not bill a day that has not ended', async () => {
    const today = dayOf(new Date(), 'Asia/Shanghai');
    const result = await cli(
      ['task', 'exec', 'create_daily_billing_records', '--date', today],
      'en_US.UTF-8',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${today} has not ended yet`);

    const yesterday = addDays(today, -1);
    const billed = await cli(['task', 'exec', 'create_daily_billing_records', '--date', yesterday, '--json']);
    expect(JSON.parse(billed.stdout).result).toMatchObject({ days: [yesterday], records_created: 0 });
  });
});
