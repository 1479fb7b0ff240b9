import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, isPostgresReachable, type TestDatabase } from './support/databases.js';

const CLI = path.resolve('src/cli/main.ts');
const TSX = path.resolve('node_modules/.bin/tsx');
const ADMIN_PASSWORD = 'workers-admin-password';

interface Serve {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

/** Starts `cloud-platform serve` with `args` and collects its stdout and stderr lines. */
function startServe(args: string[], environment: Record<string, string>): Serve {
  const child = spawn(TSX, [CLI, 'serve', ...args], {
    env: { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: '', LOG_LEVEL: 'warn', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => output.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output, exited };
}

async function waitForLine(serve: Serve, text: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!serve.output.some((line) => line.includes(text))) {
    if (serve.child.exitCode !== null) throw new Error(`serve exited: ${serve.output.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" from serve: ${serve.output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Each worker is a Node.js process that loads the sources through tsx, which
// takes several seconds on a busy 2-core machine.
describe('serve --workers', { timeout: 240_000 }, () => {
  it('rejects several workers on the embedded database', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cloud-platform-workers-'));
    try {
      const serve = startServe(['--workers', '2'], { DATA_DIR: dataDir, DATABASE_URL: '' });
      expect(await serve.exited).toBe(2);
      expect(serve.output.join('\n')).toContain(
        'API_WORKERS=2 needs PostgreSQL: the embedded PGlite database can be opened by one process only',
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  describe('on PostgreSQL', async () => {
    const reachable = await isPostgresReachable();
    let database: TestDatabase;
    let serve: Serve;
    let baseUrl: string;

    beforeAll(async () => {
      if (!reachable) return;
      database = await createTestDatabase('postgres');
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      serve = startServe(['--workers', '2'], {
        DATABASE_URL: database.url!,
        PORT: String(port),
        ADMIN_PASSWORD,
      });
      await waitForLine(serve, `API at ${baseUrl}`);
    });

    afterAll(async () => {
      if (!reachable) return;
      if (serve.child.exitCode === null) {
        serve.child.kill('SIGKILL');
        await serve.exited;
      }
      await database.drop();
    });

    it.skipIf(!reachable)('starts two workers and one first admin', async () => {
      const children = serve.child.pid === undefined ? [] : await childProcessesOf(serve.child.pid);
      expect(children).toHaveLength(1);
      const workers = await childProcessesOf(children[0]!);
      expect(workers).toHaveLength(2);

      const admins = await database.db
        .selectFrom('users')
        .select('username')
        .where('role', '=', 'admin')
        .execute();
      expect(admins).toEqual([{ username: 'admin' }]);

      const login = await fetch(`${baseUrl}/api/auth/login/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      expect(login.status).toBe(200);
    });

    it.skipIf(!reachable)('shares the login rate limit between workers', async () => {
      // One login above already counts. The limit is 10 a minute per address,
      // so the workers together must refuse the 10th attempt below.
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 11; attempt++) {
        const response = await fetch(`${baseUrl}/api/auth/login/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: 'wrong-password' }),
        });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
    });

    it.skipIf(!reachable)('stops all workers on SIGTERM', async () => {
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      expect(serve.output).toContain('stopping: waiting for running tasks to finish…');
      await expect(fetch(`${baseUrl}/api/schema/`)).rejects.toThrow();
    });
  });
});

/**
 * Returns the ids of the child processes of `pid` (Linux /proc). `serve` runs
 * under the tsx binary, which starts Node.js as its child, and that process
 * is the cluster primary.
 */
async function childProcessesOf(pid: number): Promise<number[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text
    .trim()
    .split(/\s+/)
    .filter((id) => id !== '')
    .map(Number);
}
