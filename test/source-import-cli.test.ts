import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = path.resolve('src/cli/main.ts');
const TSX = path.resolve('node_modules/.bin/tsx');

let folder: string;

async function cli(args: string[], lang = 'zh_CN.UTF-8') {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], {
      env: {
        ...process.env,
        DATA_DIR: path.join(folder, 'data'),
        CONFIG_FILE: path.join(folder, 'config.yaml'),
        LANG: lang,
        LC_ALL: '',
        LOG_LEVEL: 'error',
        DATABASE_URL: '',
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

// Each command is a new Node.js process that opens PGlite, which takes
// several seconds on a busy machine.
describe('source import command', { timeout: 240_000 }, () => {
  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-import-'));
    writeFileSync(path.join(folder, 'config.yaml'), 'sources:\n  - name: rvtools-dc1\n    type: rvtools\n');
    writeFileSync(
      path.join(folder, 'vinfo.csv'),
      [
        'VM,Powerstate,Template,CPUs,Memory,Provisioned MB,VM UUID',
        'web-01,poweredOn,False,4,8192,102400,u-1',
        'tmpl,poweredOff,True,2,2048,40960,u-2',
        'bad,poweredOn,False,x,1024,1024,u-3',
      ].join('\n'),
    );
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('plans, applies and rejects', async () => {
    const file = path.join(folder, 'vinfo.csv');

    const plan = await cli(['source', 'import', file, '--source', 'rvtools-dc1', '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('（未写入任何数据）：新增 1 台，变更 0 台，不变 0 台');
    expect(plan.stdout).toContain('vInfo row 4');
    expect(plan.stdout).toContain('CPU 核数 "x" 无效');

    const applied = await cli(['source', 'import', file, '--source', 'rvtools-dc1', '--json'], 'en_US.UTF-8');
    expect(applied.code).toBe(0);
    const outcome = JSON.parse(applied.stdout) as { dry_run: boolean; result: Record<string, unknown> };
    expect(outcome.dry_run).toBe(false);
    expect(outcome.result).toMatchObject({ status: 'succeeded', created: 1, rejected_count: 1 });

    const unknown = await cli(['source', 'import', file, '--source', 'vcenter'], 'en_US.UTF-8');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('inventory source "vcenter" not found');
  });
});
