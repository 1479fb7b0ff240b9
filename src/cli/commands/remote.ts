import { hostname } from 'node:os';

import type { Command } from 'commander';

import { SESSION_COOKIE } from '../../api/auth/plugin.js';
import { DomainError } from '../../errors.js';
import { localeFromLang, translate, type Locale } from '../../i18n/messages.js';
import { TASK_NAMES } from '../../tasks/registry.js';
import {
  ApiClient,
  EXIT,
  normalizeServerUrl,
  REQUEST_TIMEOUT_MS,
  RemoteCommandError,
  responseError,
  type ApiResponse,
  type Authentication,
} from '../api-client.js';
import { print } from '../context.js';
import {
  CredentialsFileError,
  credentialsPath,
  readCredentials,
  removeCredentials,
  saveCredentials,
  type SavedCredentials,
} from '../credentials.js';

/**
 * Commands that work through the HTTP API of a running server instead of
 * opening the database, so they also work while `start` or `serve` keeps the
 * embedded data folder locked: `login`, `logout` and `task run`.
 */

const DEFAULT_SERVER_URL = 'http://127.0.0.1:8000';
/** How long `task run --wait` waits when no number of seconds is given. */
const DEFAULT_WAIT_SECONDS = 3600;
const MAX_WAIT_SECONDS = 7 * 24 * 3600;
/**
 * Seconds that one request lets the server wait. It is below the server's
 * maximum of 300 and below the 60 s idle timeout common in reverse proxies.
 */
const WAIT_PER_REQUEST_SECONDS = 30;
const MAX_PIPED_PASSWORD_BYTES = 64 * 1024;
/** Page size used to look up a saved token in the token list; the API allows up to 1000. */
const TOKEN_LIST_PAGE_SIZE = 200;

interface TaskRunView {
  id: number;
  task_name: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  result: Record<string, unknown> | null;
  error: string | null;
  duration_seconds: number | null;
}

interface RunAccepted {
  task_run: number;
  status: string;
  url: string;
}

function currentLocale(): Locale {
  return localeFromLang(process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG);
}

/** Runs a command body and turns a RemoteCommandError into its message on stderr and its exit status. */
async function runRemote(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof CredentialsFileError) {
      console.error(
        `错误 / error: ${translate('cli_credentials_invalid', { file: error.file, reason: error.reason }, currentLocale())}`,
      );
      process.exitCode = EXIT.failed;
      return;
    }
    if (!(error instanceof RemoteCommandError)) throw error;
    if (error.message) console.error(`错误 / error: ${error.message}`);
    process.exitCode = error.exitCode;
  }
}

function parseServerUrl(value: string): string {
  const url = normalizeServerUrl(value);
  if (!url) throw new DomainError('cli_invalid_url', { value }, 'url');
  return url;
}

function parseWaitSeconds(value: true | string): number {
  if (value === true) return DEFAULT_WAIT_SECONDS;
  if (!/^\d{1,7}$/.test(value) || Number(value) > MAX_WAIT_SECONDS) {
    throw new DomainError('cli_invalid_wait', { value, max: MAX_WAIT_SECONDS }, 'wait');
  }
  return Number(value);
}

// ---------------------------------------------------------------------------
// Password input

/** Reads a password from CLOUD_PLATFORM_PASSWORD, a terminal prompt without echo, or piped stdin, in that order. */
async function readPassword(username: string, locale: Locale): Promise<string> {
  const fromEnvironment = process.env.CLOUD_PLATFORM_PASSWORD;
  if (fromEnvironment) return fromEnvironment;

  const password = process.stdin.isTTY
    ? await promptWithoutEcho(translate('cli_password_prompt', { username }, locale))
    : await readFirstLineOfStdin();
  if (!password) throw new RemoteCommandError(EXIT.failed, translate('cli_password_missing', {}, locale));
  return password;
}

/** Prompts on stderr and reads one line from the terminal in raw mode, so the typed text is not shown. */
function promptWithoutEcho(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let password = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(password);
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n' || character === '\u0004') return finish();
        // Ctrl+C: stop like an interrupted program (128 + SIGINT), without an error message.
        if (character === '\u0003') return finish(new RemoteCommandError(130, ''));
        if (character === '\u007f' || character === '\b') {
          password = [...password].slice(0, -1).join('');
        } else if (character >= ' ') {
          password += character;
        }
      }
    };

    process.stderr.write(prompt);
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** Reads piped stdin (at most 64 KiB) and returns its first line without the line ending. */
async function readFirstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buffer);
    size += buffer.length;
    if (size > MAX_PIPED_PASSWORD_BYTES || buffer.includes(0x0a)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.split('\n')[0]!.replace(/\r$/, '');
}

// ---------------------------------------------------------------------------
// login

/** Returns the session cookie's value and lifetime from a login response. */
function sessionFromResponse(response: ApiResponse): { value: string; maxAgeSeconds?: number } | undefined {
  for (const header of response.headers.getSetCookie()) {
    const [pair, ...attributes] = header.split(';');
    const separator = pair!.indexOf('=');
    if (pair!.slice(0, separator).trim() !== SESSION_COOKIE) continue;
    const maxAge = attributes
      .map((attribute) => /^\s*max-age=(\d+)\s*$/i.exec(attribute)?.[1])
      .find((value) => value !== undefined);
    return {
      value: pair!.slice(separator + 1).trim(),
      maxAgeSeconds: maxAge === undefined ? undefined : Number(maxAge),
    };
  }
  return undefined;
}

async function login(options: { url?: string; username: string }): Promise<void> {
  const locale = currentLocale();
  const url = parseServerUrl(options.url ?? (process.env.CLOUD_PLATFORM_URL || DEFAULT_SERVER_URL));
  const username = options.username;
  const password = await readPassword(username, locale);

  const anonymous = new ApiClient(url, null, locale);
  const loggedIn = await anonymous.request('POST', '/api/auth/login/', { body: { username, password } });
  if (loggedIn.status !== 200) throw responseError(loggedIn, locale);
  const session = sessionFromResponse(loggedIn);
  if (!session) {
    throw new RemoteCommandError(
      EXIT.failed,
      translate('cli_api_unexpected', { url: loggedIn.url, status: loggedIn.status }, locale),
    );
  }

  // The session only serves to create a personal API token, which does not expire with the session.
  const withSession = new ApiClient(url, { session: session.value }, locale);
  const tokenName = `cloud-platform CLI ${username}@${hostname()}`.slice(0, 100);
  const created = await withSession.request('POST', '/api/tokens/', { body: { name: tokenName } });
  const token = (created.body as { token?: unknown } | undefined)?.token;

  const tokenId = (created.body as { id?: unknown } | undefined)?.id;

  let credentials: SavedCredentials;
  if (created.status === 201 && typeof token === 'string') {
    credentials = {
      url,
      username,
      token,
      token_id: Number.isSafeInteger(tokenId) ? (tokenId as number) : undefined,
    };
    await withSession.request('POST', '/api/auth/logout/').catch(() => undefined);
  } else if (created.status === 403 || created.status === 404 || created.status === 405) {
    // NOTE: a saved session expires, and task run then fails with 401 until the user logs in again.
    const maxAgeSeconds = session.maxAgeSeconds ?? 0;
    console.error(
      translate(
        'cli_login_session_fallback',
        { status: created.status, days: Math.round(maxAgeSeconds / 86_400) },
        locale,
      ),
    );
    credentials = {
      url,
      username,
      session: session.value,
      session_expires_at: new Date(Date.now() + maxAgeSeconds * 1000).toISOString(),
    };
  } else {
    throw responseError(created, locale);
  }

  const file = credentialsPath();
  const previous = await readCredentials(file).catch((error: unknown) => {
    // A damaged file names no token that could be revoked, and the new login replaces it.
    if (error instanceof CredentialsFileError) return undefined;
    throw error;
  });
  await saveCredentials(file, credentials);
  console.log(translate('cli_login_succeeded', { url, username, file }, locale));

  if (previous?.token && previous.url === url && previous.token !== credentials.token) {
    await revokePreviousToken(url, previous, locale);
  }
}

/** Revokes the token that a new login replaced; a failure only warns, because the new login is saved. */
async function revokePreviousToken(url: string, previous: SavedCredentials, locale: Locale): Promise<void> {
  const prefix = tokenPrefix(previous.token!);
  const outcome = await revokeToken(url, previous.token!, previous.token_id, locale);
  if (outcome.status === 'revoked') {
    console.log(translate('cli_login_previous_revoked', { prefix }, locale));
  } else if (outcome.status === 'failed') {
    console.error(
      `警告 / warning: ${translate('cli_login_previous_revoke_failed', { prefix, reason: outcome.reason }, locale)}`,
    );
  }
}

// ---------------------------------------------------------------------------
// Revoking saved credentials

type RevokeOutcome =
  | { status: 'revoked' }
  /** The server rejects the credentials already, so nothing is left to revoke. */
  | { status: 'invalid' }
  | { status: 'failed'; reason: string };

/** Returns the start of a token as the token list shows it in `prefix`, which lets people tell tokens apart. */
function tokenPrefix(token: string): string {
  return token.slice(0, 10);
}

/**
 * Revokes an API token through the API. The request authenticates with that
 * token itself, so it works whichever user owns the token. Without a saved
 * id, the token is looked up by its prefix in the owner's token list.
 */
async function revokeToken(
  url: string,
  token: string,
  tokenId: number | undefined,
  locale: Locale,
): Promise<RevokeOutcome> {
  const client = new ApiClient(url, { token }, locale);
  try {
    const id = tokenId ?? (await findTokenId(client, token, locale));
    if (id === 'invalid') return { status: 'invalid' };
    if (id === undefined) {
      return {
        status: 'failed',
        reason: translate('cli_token_not_identified', { prefix: tokenPrefix(token) }, locale),
      };
    }
    const response = await client.request('DELETE', `/api/tokens/${id}/`);
    if (response.status === 204) return { status: 'revoked' };
    if (response.status === 401) return { status: 'invalid' };
    return { status: 'failed', reason: responseError(response, locale).message };
  } catch (error) {
    if (error instanceof RemoteCommandError) return { status: 'failed', reason: error.message };
    throw error;
  }
}

/**
 * Returns the id of the unrevoked token in the owner's list whose prefix
 * starts `token`, undefined unless exactly one matches, or 'invalid' when the
 * server rejects the token.
 */
async function findTokenId(
  client: ApiClient,
  token: string,
  locale: Locale,
): Promise<number | 'invalid' | undefined> {
  const matches: number[] = [];
  for (let page = 1; ; page += 1) {
    const response = await client.request(
      'GET',
      `/api/tokens/?page=${page}&page_size=${TOKEN_LIST_PAGE_SIZE}`,
    );
    if (response.status === 401) return 'invalid';
    if (response.status !== 200) throw responseError(response, locale);
    const body = response.body as {
      next: string | null;
      results: { id: number; prefix: string; revoked_at: string | null }[];
    };
    for (const listed of body.results) {
      if (listed.revoked_at === null && token.startsWith(listed.prefix)) matches.push(listed.id);
    }
    if (!body.next) break;
  }
  return matches.length === 1 ? matches[0] : undefined;
}

/** Ends a saved session through POST /api/auth/logout/. */
async function endSession(url: string, session: string, locale: Locale): Promise<RevokeOutcome> {
  const client = new ApiClient(url, { session }, locale);
  try {
    const response = await client.request('POST', '/api/auth/logout/');
    if (response.status >= 200 && response.status < 300) return { status: 'revoked' };
    if (response.status === 401) return { status: 'invalid' };
    return { status: 'failed', reason: responseError(response, locale).message };
  } catch (error) {
    if (error instanceof RemoteCommandError) return { status: 'failed', reason: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------
// logout

/**
 * Revokes the saved token (or ends the saved session) and deletes the
 * credentials file. When the server cannot revoke it, the file stays, so
 * that the token is not forgotten while it still works.
 */
async function logout(): Promise<void> {
  const locale = currentLocale();
  const file = credentialsPath();
  const saved = await readCredentials(file);
  if (!saved) {
    console.log(translate('cli_logout_not_logged_in', { file }, locale));
    return;
  }

  const outcome = saved.token
    ? await revokeToken(saved.url, saved.token, saved.token_id, locale)
    : await endSession(saved.url, saved.session!, locale);
  if (outcome.status === 'failed') {
    throw new RemoteCommandError(
      EXIT.failed,
      translate('cli_logout_failed', { url: saved.url, reason: outcome.reason, file }, locale),
    );
  }

  await removeCredentials(file);
  const message = outcome.status === 'invalid' ? 'cli_logout_already_invalid' : 'cli_logout_succeeded';
  console.log(translate(message, { url: saved.url, file }, locale));
}

// ---------------------------------------------------------------------------
// task run

/**
 * Picks the server and credentials: CLOUD_PLATFORM_TOKEN (with
 * CLOUD_PLATFORM_URL) when set, else the saved credentials. Saved credentials
 * are sent only to the server they were issued by.
 */
async function connect(locale: Locale): Promise<ApiClient> {
  const environmentUrl = process.env.CLOUD_PLATFORM_URL
    ? parseServerUrl(process.env.CLOUD_PLATFORM_URL)
    : undefined;
  const environmentToken = process.env.CLOUD_PLATFORM_TOKEN;
  if (environmentToken) {
    return new ApiClient(environmentUrl ?? DEFAULT_SERVER_URL, { token: environmentToken }, locale);
  }

  const saved = await readCredentials(credentialsPath());
  const url = environmentUrl ?? saved?.url ?? DEFAULT_SERVER_URL;
  if (!saved || saved.url !== url) {
    throw new RemoteCommandError(EXIT.failed, translate('cli_not_logged_in', { url }, locale));
  }
  const authentication: Authentication = saved.token ? { token: saved.token } : { session: saved.session! };
  return new ApiClient(url, authentication, locale);
}

function isFinished(run: TaskRunView): boolean {
  return run.status === 'succeeded' || run.status === 'failed';
}

/** Polls the run with server-side waits of up to 30 s each until it finishes or `seconds` have passed. */
async function waitForRun(client: ApiClient, runId: number, seconds: number, locale: Locale) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const remaining = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const wait = Math.min(remaining, WAIT_PER_REQUEST_SECONDS);
    const response = await client.request('GET', `/api/task-runs/${runId}/?wait=${wait}`, {
      timeoutMs: wait * 1000 + REQUEST_TIMEOUT_MS,
    });
    if (response.status !== 200) throw responseError(response, locale);
    const run = response.body as TaskRunView;
    if (isFinished(run) || Date.now() >= deadline) return run;
  }
}

interface TaskRunOptions {
  date?: string;
  from?: string;
  to?: string;
  force?: boolean;
  wait?: true | string;
  json?: boolean;
}

async function runTask(name: string, options: TaskRunOptions): Promise<void> {
  const locale = currentLocale();
  const waitSeconds = options.wait === undefined ? undefined : parseWaitSeconds(options.wait);
  const client = await connect(locale);

  // Arguments go to the server as given: the task's own parser there validates them.
  const body = { date: options.date, from: options.from, to: options.to, force: options.force || undefined };
  const started = await client.request('POST', `/api/tasks/${encodeURIComponent(name)}/run/`, { body });
  if (started.status !== 202) throw responseError(started, locale);
  const accepted = started.body as RunAccepted;

  if (waitSeconds === undefined) {
    print(options, accepted, () =>
      translate('cli_task_started', { name, run_id: accepted.task_run, url: accepted.url }, locale),
    );
    return;
  }

  const run = await waitForRun(client, accepted.task_run, waitSeconds, locale);
  if (!isFinished(run)) {
    if (options.json) console.log(JSON.stringify(run, null, 2));
    throw new RemoteCommandError(
      EXIT.timedOut,
      translate(
        run.status === 'queued' ? 'cli_task_wait_timed_out_queued' : 'cli_task_wait_timed_out',
        { name, run_id: run.id, seconds: waitSeconds, url: accepted.url },
        locale,
      ),
    );
  }

  const seconds = run.duration_seconds === null ? '?' : run.duration_seconds.toFixed(1);
  print(options, run, () =>
    run.status === 'succeeded'
      ? `${translate('cli_task_succeeded', { name, run_id: run.id, seconds }, locale)}\n${JSON.stringify(run.result, null, 2)}`
      : translate('cli_task_failed', { name, run_id: run.id, error: run.error }, locale),
  );
  if (run.status !== 'succeeded') process.exitCode = EXIT.failed;
}

const EXIT_STATUS_HELP = `
退出状态 / exit status:
  0  成功；未加 --wait 时表示已开始 / succeeded; without --wait: started
  1  任务失败，或请求失败（无法连接、未登录、无权限）/ the task failed, or the request did (unreachable, not logged in, permission denied)
  2  输入无效（API 返回 400 或任务不存在）/ invalid input (the API returned 400, or no such task)
  3  该任务正在执行 / a run of the task is already in progress
  4  等待超时，任务仍在服务器上执行 / timed out waiting; the run continues on the server`;

export function registerRemoteCommands(program: Command): void {
  program
    .command('login')
    .description(
      '登录服务器并保存 API 令牌，供 task run 等命令使用 / log in to a server and save an API token for task run and similar commands',
    )
    .option('--url <url>', `服务器地址 / server URL (CLOUD_PLATFORM_URL, default ${DEFAULT_SERVER_URL})`)
    .option('--username <name>', '用户名 / username', 'admin')
    .addHelpText(
      'after',
      '\n密码：终端中提示输入（不回显），或取自 CLOUD_PLATFORM_PASSWORD 或标准输入。' +
        '\n凭据保存在 CLOUD_PLATFORM_CREDENTIALS，默认 ~/.config/cloud-platform/credentials.json（权限 0600）。' +
        '\n令牌名为 "cloud-platform CLI 用户名@主机名"；此前为同一服务器保存的令牌在新令牌保存后吊销。' +
        '\nPassword: typed at a prompt without echo, or taken from CLOUD_PLATFORM_PASSWORD or standard input.' +
        '\nCredentials are saved to CLOUD_PLATFORM_CREDENTIALS, default ~/.config/cloud-platform/credentials.json (mode 0600).' +
        '\nThe token is named "cloud-platform CLI USER@HOST"; the token saved before for the same server is revoked once the new one is saved.',
    )
    .action((options: { url?: string; username: string }) => runRemote(() => login(options)));

  program
    .command('logout')
    .description(
      '吊销保存的 API 令牌并删除凭据文件 / revoke the saved API token and delete the credentials file',
    )
    .addHelpText(
      'after',
      '\n服务器无法吊销令牌时（例如无法连接），凭据文件保留不变，退出状态为 1。' +
        '\nWhen the server cannot revoke the token (for example because it is unreachable), the file is kept and the exit status is 1.',
    )
    .action(() => runRemote(logout));

  const task =
    program.commands.find((command) => command.name() === 'task') ??
    program.command('task').description('周期任务 / periodic tasks');

  task
    .command('run')
    .description(
      '通过 API 在服务器上执行任务，可等待结果 / run a task on the server through its API and optionally await the result',
    )
    .argument('<name>', `任务名 / task name: ${TASK_NAMES.join(', ')}`)
    .option('--date <date>', '计费日期 YYYY-MM-DD（仅计费任务）/ day to bill (billing task only)')
    .option('--from <date>', '起始日期（含）/ first day of a range, included')
    .option('--to <date>', '结束日期（含）/ last day of a range, included')
    .option('--force', '重新计费已计费的日期并保留审计记录 / re-rate billed days, keeping an audit trail')
    .option(
      '--wait [seconds]',
      `等待任务结束，最多等待的秒数（默认 ${DEFAULT_WAIT_SECONDS}）/ wait for the run to finish, at most this many seconds (default ${DEFAULT_WAIT_SECONDS})`,
    )
    .option('--json', '以 JSON 输出 / print JSON')
    .addHelpText(
      'after',
      '\n服务器与凭据：cloud-platform login 保存的凭据，或 CLOUD_PLATFORM_URL 与 CLOUD_PLATFORM_TOKEN。' +
        '\nServer and credentials: those saved by cloud-platform login, or CLOUD_PLATFORM_URL and CLOUD_PLATFORM_TOKEN.\n' +
        EXIT_STATUS_HELP,
    )
    .action((name: string, options: TaskRunOptions) => runRemote(() => runTask(name, options)));
}
