import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { TaskRunRepository } from '../src/db/repositories/task-run.repository.js';
import { TASKS } from '../src/tasks/registry.js';
import { createApiWorld, type ApiWorld } from './support/api.js';

const CLI = path.resolve('src/cli/main.ts');
const TSX = path.resolve('node_modules/.bin/tsx');

let world: ApiWorld;
let serverUrl: string;
let folder: string;
let credentialsFile: string;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child process with `input` on its stdin and only the given cloud-platform variables set. */
function cli(
  args: string[],
  options: { input?: string; lang?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], {
      env: {
        ...process.env,
        LANG: options.lang ?? 'en_US.UTF-8',
        LC_ALL: '',
        LC_MESSAGES: '',
        LOG_LEVEL: 'warn',
        CLOUD_PLATFORM_CREDENTIALS: credentialsFile,
        CLOUD_PLATFORM_URL: '',
        CLOUD_PLATFORM_TOKEN: '',
        CLOUD_PLATFORM_PASSWORD: '',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Replaces a task's work with a wait for `release()`, so that its run stays `running` until then. */
function blockTask(name: 'sync_vm_status') {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  vi.spyOn(TASKS[name], 'run').mockImplementation(async () => {
    await gate;
    return { blocked: true };
  });
  return { release };
}

/** Waits until every run started by a test has finished, so the next test can start the same task. */
async function waitUntilNoRunIsRunning(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const running = await world.database.db
      .selectFrom('task_runs')
      .select('id')
      .where('status', '=', 'running')
      .execute();
    if (running.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('a task run is still running after 10 s');
}

// Each command is a new Node.js process; on a busy 2-core machine that takes seconds.
describe('cloud-platform login and task run against a server', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-remote-'));
    credentialsFile = path.join(folder, 'config', 'credentials.json');
    world = await createApiWorld();
    await world.app.listen({ host: '127.0.0.1', port: 0 });
    const address = world.app.server.address() as AddressInfo;
    serverUrl = `http://127.0.0.1:${address.port}`;
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await waitUntilNoRunIsRunning();
  });

  afterAll(async () => {
    await world?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('reports a missing login', async () => {
    const result = await cli(['task', 'run', 'detect_resource_changes']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not logged in to http://127.0.0.1:8000');
  });

  it('rejects a wrong password', async () => {
    const result = await cli(['login', '--url', serverUrl, '--username', 'admin'], {
      input: 'wrong-password\n',
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('wrong username or password');
  });

  it('logs in with a piped password and saves the credentials', async () => {
    const result = await cli(['login', '--url', `${serverUrl}/`, '--username', 'admin'], {
      input: 'admin-password\n',
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `logged in to ${serverUrl} as admin; credentials saved to ${credentialsFile}`,
    );
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(credentialsFile)).mode & 0o777).toBe(0o700);
    const text = readFileSync(credentialsFile, 'utf8');
    expect(text).not.toContain('admin-password');
    const saved = JSON.parse(text);
    expect(saved.url).toBe(serverUrl);
    expect(saved.username).toBe('admin');
    expect(saved.token).toMatch(/^cpt_/);
    expect(saved.session).toBeUndefined();

    // The session that created the token is logged out again.
    const sessions = await world.database.db.selectFrom('sessions').select('user_id').execute();
    expect(sessions).toEqual([]);
  });

  it('revokes the replaced token on a second login', async () => {
    const first = JSON.parse(readFileSync(credentialsFile, 'utf8'));
    expect(first.token_id).toEqual(expect.any(Number));

    const result = await cli(['login', '--url', serverUrl, '--username', 'admin'], {
      input: 'admin-password\n',
    });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`revoked the previously saved API token ${first.token.slice(0, 10)}…`);
    const second = JSON.parse(readFileSync(credentialsFile, 'utf8'));
    expect(second.token).not.toBe(first.token);
    const rows = await world.database.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'revoked_at'])
      .where('id', 'in', [first.token_id, second.token_id])
      .orderBy('id')
      .execute();
    expect(rows.map((row) => row.id)).toEqual([first.token_id, second.token_id]);
    expect(rows[0]!.revoked_at).not.toBeNull();
    expect(rows[1]!.revoked_at).toBeNull();
    expect(rows[1]!.name).toMatch(/^cloud-platform CLI admin@\S+$/);
    const oldToken = await world.request('anonymous', 'GET', '/api/auth/me/', undefined, {
      authorization: `Bearer ${first.token}`,
    });
    expect(oldToken.statusCode).toBe(401);
  });

  it('finds the replaced token without a saved id', async () => {
    const file = path.join(folder, 'old-format.json');
    const created = await world.request('admin', 'POST', '/api/tokens/', { name: 'saved before token_id' });
    const old = created.json() as { id: number; token: string };
    writeFileSync(file, JSON.stringify({ url: serverUrl, username: 'admin', token: old.token }), {
      mode: 0o600,
    });

    const result = await cli(['login', '--url', serverUrl], {
      lang: 'zh_CN.UTF-8',
      env: { CLOUD_PLATFORM_CREDENTIALS: file, CLOUD_PLATFORM_PASSWORD: 'admin-password' },
    });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`已吊销此前保存的 API 令牌 ${old.token.slice(0, 10)}…`);
    const row = await world.database.db
      .selectFrom('api_tokens')
      .select('revoked_at')
      .where('id', '=', old.id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).not.toBeNull();
  });

  it('keeps the new login when revoking fails', async () => {
    // A stand-in server whose DELETE /api/tokens/1/ fails.
    const server = createHttpServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/api/auth/login/') {
        response.setHeader('set-cookie', 'cp_session=session-value; Max-Age=604800; Path=/; HttpOnly');
        response.end(JSON.stringify({ id: 1, username: 'admin', role: 'admin', tenant_id: null }));
      } else if (request.method === 'POST' && request.url === '/api/tokens/') {
        response.statusCode = 201;
        response.end(JSON.stringify({ id: 2, token: 'cpt_newtokenvalue' }));
      } else if (request.method === 'DELETE' && request.url === '/api/tokens/1/') {
        response.statusCode = 500;
        response.end(
          JSON.stringify({ code: 'internal_error', message: 'internal server error (request 7)' }),
        );
      } else {
        response.statusCode = 204;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const file = path.join(folder, 'revoke-fails.json');
    writeFileSync(file, JSON.stringify({ url, username: 'admin', token: 'cpt_oldtokenvalue', token_id: 1 }));

    try {
      const result = await cli(['login', '--url', url], {
        env: { CLOUD_PLATFORM_CREDENTIALS: file, CLOUD_PLATFORM_PASSWORD: 'any-password' },
      });

      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(
        'warning: the new login is saved, but revoking the previously saved API token cpt_oldtok… failed: internal server error (request 7)',
      );
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
        token: 'cpt_newtokenvalue',
        token_id: 2,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('logs out, revoking the saved token', async () => {
    const file = path.join(folder, 'logout.json');
    const env = { CLOUD_PLATFORM_CREDENTIALS: file, CLOUD_PLATFORM_PASSWORD: 'admin-password' };
    expect((await cli(['login', '--url', serverUrl], { env })).code).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8'));

    const result = await cli(['logout'], { env, lang: 'zh_CN.UTF-8' });
    const again = await cli(['logout'], { env });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `已退出 ${serverUrl}：保存的凭据已在服务器上失效，凭据文件 ${file} 已删除`,
    );
    expect(existsSync(file)).toBe(false);
    const row = await world.database.db
      .selectFrom('api_tokens')
      .select('revoked_at')
      .where('id', '=', saved.token_id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).not.toBeNull();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`not logged in: ${file} does not exist`);
  });

  it('keeps the credentials when logout cannot reach the server', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const file = path.join(folder, 'unreachable.json');
    const url = `http://127.0.0.1:${closedPort}`;
    writeFileSync(file, JSON.stringify({ url, username: 'admin', token: 'cpt_unreachable', token_id: 9 }));

    const result = await cli(['logout'], { env: { CLOUD_PLATFORM_CREDENTIALS: file } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `could not revoke the saved credentials at ${url}: cannot reach ${url}: ECONNREFUSED`,
    );
    expect(result.stderr).toContain(`${file} is kept`);
    expect(existsSync(file)).toBe(true);
  });

  it('falls back to the session cookie without a token endpoint', async () => {
    // A stand-in for a server version without POST /api/tokens/.
    const server = createHttpServer((request, response) => {
      if (request.url === '/api/auth/login/') {
        response.setHeader('set-cookie', 'cp_session=session-value; Max-Age=604800; Path=/; HttpOnly');
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ id: 1, username: 'admin', role: 'admin', tenant_id: null }));
        return;
      }
      response.statusCode = 404;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ code: 'not_found', message: 'not found' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const file = path.join(folder, 'fallback.json');

    try {
      const result = await cli(['login', '--url', url], {
        env: { CLOUD_PLATFORM_CREDENTIALS: file, CLOUD_PLATFORM_PASSWORD: 'any-password' },
      });

      expect(result.code).toBe(0);
      expect(result.stderr).toContain(
        'could not create an API token (POST /api/tokens/ returned HTTP 404); saved the session cookie instead, which expires in 7 days',
      );
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      expect(saved).toMatchObject({ url, username: 'admin', session: 'session-value' });
      expect(saved.token).toBeUndefined();
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runs a task with a saved session cookie', async () => {
    const login = await world.request('anonymous', 'POST', '/api/auth/login/', {
      username: 'admin',
      password: 'admin-password',
    });
    const session = login.cookies.find((cookie) => cookie.name === 'cp_session')!.value;
    const file = path.join(folder, 'session.json');
    writeFileSync(file, JSON.stringify({ url: serverUrl, username: 'admin', session }), { mode: 0o600 });

    const result = await cli(['task', 'run', 'detect_resource_changes', '--wait', '30', '--json'], {
      env: { CLOUD_PLATFORM_CREDENTIALS: file },
    });

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).status).toBe('succeeded');
  });

  it('runs a task and prints its summary as JSON', async () => {
    const result = await cli(['task', 'run', 'detect_resource_changes', '--wait', '30', '--json']);

    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout);
    expect(run).toMatchObject({
      task_name: 'detect_resource_changes',
      status: 'succeeded',
      trigger: 'manual',
      error: null,
      result: { changes: 0, by_type: {}, vms_changed: 0, systems_changed: 0 },
    });
  });

  it('prints the summary for people in Chinese', async () => {
    const result = await cli(['task', 'run', 'detect_resource_changes', '--wait'], { lang: 'zh_CN.UTF-8' });

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/任务 detect_resource_changes 执行成功（执行记录 \d+，耗时 [\d.]+ 秒）/);
    expect(result.stdout).toContain('"changes": 0');
  });

  it('starts a run without waiting', async () => {
    const result = await cli(['task', 'run', 'detect_resource_changes']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `task detect_resource_changes started \\(run (\\d+)\\); its result will be at ${serverUrl}/api/task-runs/\\d+/`,
      ),
    );
  });

  it('exits 2 with the API message for a bad date', async () => {
    const [english, chinese] = await Promise.all([
      cli(['task', 'run', 'create_daily_billing_records', '--date', '2026-13-01', '--wait']),
      cli(['task', 'run', 'create_daily_billing_records', '--date', '2026-13-01'], { lang: 'zh_CN.UTF-8' }),
    ]);

    expect(english.code).toBe(2);
    expect(english.stderr).toContain(
      'invalid date "2026-13-01": use a calendar date in the form YYYY-MM-DD, e.g. 2026-01-31',
    );
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toContain('日期 "2026-13-01" 无效');
  });

  it('exits 2 for an unknown task and for a bad --wait', async () => {
    const [unknown, wait] = await Promise.all([
      cli(['task', 'run', 'bill_everything']),
      cli(['task', 'run', 'detect_resource_changes', '--wait', 'soon']),
    ]);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown task "bill_everything"');
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain('invalid --wait "soon"');
  });

  it('exits 4 on timeout and 3 while the task is running', async () => {
    const blocked = blockTask('sync_vm_status');

    const timedOut = await cli(['task', 'run', 'sync_vm_status', '--wait', '1', '--json']);
    const busy = await cli(['task', 'run', 'sync_vm_status']);
    blocked.release();

    expect(timedOut.code).toBe(4);
    expect(timedOut.stderr).toMatch(/timed out: task sync_vm_status \(run \d+\) is still running after 1 s/);
    expect(JSON.parse(timedOut.stdout).status).toBe('running');
    expect(busy.code).toBe(3);
    expect(busy.stderr).toContain('task sync_vm_status is already running');
  });

  it('says a run no worker took is still queued', async () => {
    // As in the distributed shape with no worker online: the run stays queued.
    const runs = new TaskRunRepository(world.database.db);
    vi.spyOn(world.app.deps.tasks, 'start').mockImplementation(async (name) => {
      const run = await runs.createQueued({
        task_name: name,
        queue: 'monitoring',
        trigger: 'manual',
        arguments: {},
      });
      return String(run.id);
    });

    const english = await cli(['task', 'run', 'sync_vm_status', '--wait', '1']);
    const chinese = await cli(['task', 'run', 'sync_vm_status', '--wait', '1'], { lang: 'zh_CN.UTF-8' });
    await world.database.db.deleteFrom('task_runs').where('status', '=', 'queued').execute();

    expect(english.code).toBe(4);
    expect(english.stderr).toMatch(
      /timed out: task sync_vm_status \(run \d+\) is still queued after 1 s, and no worker has taken it; check with cloud-platform doctor/,
    );
    expect(chinese.code).toBe(4);
    expect(chinese.stderr).toMatch(/任务 sync_vm_status（执行记录 \d+）在 1 秒后仍在排队，尚无 worker 接手/);
  });

  it('exits 1 when the task fails', async () => {
    vi.spyOn(TASKS.sync_vm_status, 'run').mockRejectedValue(new Error('inventory host refused'));

    const result = await cli(['task', 'run', 'sync_vm_status', '--wait', '30']);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/task sync_vm_status failed \(run \d+\): Error: inventory host refused/);
  });

  it('uses CLOUD_PLATFORM_URL and CLOUD_PLATFORM_TOKEN', async () => {
    const env = {
      CLOUD_PLATFORM_CREDENTIALS: path.join(folder, 'absent.json'),
      CLOUD_PLATFORM_URL: serverUrl,
    };

    const admin = await cli(['task', 'run', 'detect_resource_changes', '--wait', '30', '--json'], {
      env: { ...env, CLOUD_PLATFORM_TOKEN: world.tokens.admin },
    });
    const viewer = await cli(['task', 'run', 'detect_resource_changes'], {
      env: { ...env, CLOUD_PLATFORM_TOKEN: world.tokens.tenant_viewer },
    });

    expect(admin.code).toBe(0);
    expect(JSON.parse(admin.stdout).status).toBe('succeeded');
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('permission denied: role tenant_viewer cannot do this');
  });

  it('reports a server that cannot be reached', async () => {
    // A port that was free a moment ago, so nothing listens on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    const result = await cli(['task', 'run', 'detect_resource_changes'], {
      env: { CLOUD_PLATFORM_URL: `http://127.0.0.1:${closedPort}`, CLOUD_PLATFORM_TOKEN: world.tokens.admin },
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach http://127.0.0.1:${closedPort}: ECONNREFUSED`);
  });
});
