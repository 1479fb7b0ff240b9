import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The API server under load, and the sign-in of the benchmark's admin. The
 * server runs `cloud-platform serve` in a child process of its own, so the
 * load generator in the benchmark process does not share its event loop.
 */

const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

export interface ServerProcess {
  baseUrl: string;
  /** The `serve` process; with several workers, the cluster primary whose children serve requests. */
  pid: number;
  /** Sends SIGTERM and waits for the exit, with SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('could not read a free port');
  return address.port;
}

function forwardLines(stream: NodeJS.ReadableStream, prefix: string): void {
  createInterface({ input: stream }).on('line', (line) => console.log(`${prefix}${line}`));
}

async function waitUntilListening(child: ChildProcess, baseUrl: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the API server exited with code ${child.exitCode} at start`);
    try {
      const response = await fetch(`${baseUrl}/api/schema/`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new Error(`the API server did not respond on ${baseUrl} within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

/**
 * Starts `src/cli/main.ts serve` under tsx on a free loopback port against
 * `databaseUrl`, with `adminPassword` for the first admin, LOG_LEVEL=warn,
 * API_WORKERS=`workers` and, when given, DATABASE_POOL_SIZE=`poolSize`, and
 * returns once it responds to HTTP. Its output is printed with a prefix.
 * With `profileDir`, every server process writes a V8 CPU profile there when
 * it exits (`node --cpu-prof`). Node.js flags reach the cluster's workers
 * too, because node:cluster forks them with the primary's flags.
 */
export async function startServerProcess(options: {
  databaseUrl: string;
  adminPassword: string;
  projectRoot: string;
  workers: number;
  /** DATABASE_POOL_SIZE of each server process. Unset keeps the setting's default. */
  poolSize?: number | undefined;
  /** `--max-semi-space-size` in MiB; 0 keeps Node.js's default. */
  semiSpaceMb: number;
  profileDir?: string | undefined;
}): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://${HOST}:${port}`;
  // `node --import tsx` rather than the tsx binary, which would run the server
  // in a grandchild process. This way `pid` is the server's own.
  const child = spawn(
    process.execPath,
    [
      ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []),
      ...(options.semiSpaceMb > 0 ? [`--max-semi-space-size=${options.semiSpaceMb}`] : []),
      '--import',
      'tsx',
      path.join(options.projectRoot, 'src/cli/main.ts'),
      'serve',
    ],
    {
      cwd: options.projectRoot,
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        HOST,
        PORT: String(port),
        ADMIN_PASSWORD: options.adminPassword,
        API_WORKERS: String(options.workers),
        ...(options.poolSize === undefined ? {} : { DATABASE_POOL_SIZE: String(options.poolSize) }),
        LOG_LEVEL: 'warn',
        LANG: 'en_US.UTF-8',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  forwardLines(child.stdout!, '[server] ');
  forwardLines(child.stderr!, '[server] ');

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilListening(child, baseUrl);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, pid: child.pid!, stop };
}

export type AuthMode = 'token' | 'session';

/**
 * Signs in as `username` through POST /api/auth/login/ and returns the header
 * that authenticates the load: the session cookie itself, or an API token
 * created with that session through POST /api/tokens/.
 */
export async function signIn(
  baseUrl: string,
  credentials: { username: string; password: string },
  mode: AuthMode,
): Promise<Record<string, string>> {
  const login = await fetch(`${baseUrl}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (!login.ok)
    throw new Error(`login as ${credentials.username} failed: ${login.status} ${await login.text()}`);
  const cookie = login.headers
    .getSetCookie()
    .map((header) => header.split(';')[0]!)
    .find((pair) => pair.startsWith('cp_session='));
  if (!cookie) throw new Error('login returned no cp_session cookie');
  if (mode === 'session') return { cookie };

  const created = await fetch(`${baseUrl}/api/tokens/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ name: 'api benchmark' }),
  });
  if (created.status !== 201) {
    throw new Error(`creating an API token failed: ${created.status} ${await created.text()}`);
  }
  const { token } = (await created.json()) as { token: string };
  return { authorization: `Bearer ${token}` };
}

/** Clock ticks per second of /proc/PID/stat (USER_HZ), 100 on Linux for every common architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Returns the user plus system CPU seconds that process `pid` has used, from /proc (Linux only). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in brackets may contain spaces, so fields are counted after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Returns `pid` and the ids of its child processes, e.g. a cluster primary and its workers (Linux only). */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((id) => id !== '')
      .map(Number);
  } catch {
    // The process exited.
  }
  return [pid, ...children.flatMap(processTree)];
}
