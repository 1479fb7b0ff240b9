import { Cron } from 'croner';
import { DateTime } from 'luxon';
import { sql } from 'kysely';

import type { Settings } from '../config/settings.js';
import {
  DataFolderLockedError,
  getPendingMigrations,
  openDatabase,
  type DatabaseHandle,
} from '../db/database.js';
import { TaskRunRepository } from '../db/repositories/task-run.repository.js';
import type { Locale } from '../i18n/messages.js';
import { TASK_NAMES, TASKS } from '../tasks/registry.js';
import { hasNextJob } from './beat.js';
import { QUEUE_NAMES, TaskQueues } from './queues.js';

/** One line of the doctor's report; `fix` is the remedy, present when `ok` is false. */
export interface DoctorCheck {
  /** Stable English name, e.g. `scheduler sync_vm_status`. */
  name: string;
  /** The name in the report's language. */
  label: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

type Text = Record<Locale, string>;

/** Connect timeout of every check, so that a dead service fails its check instead of hanging the doctor. */
const CHECK_TIMEOUT_MS = 5000;

/**
 * Checks what a running installation needs, without changing anything. It
 * checks the database, its migration level and the last run of each task. In
 * distributed mode it also checks Redis and its eviction policy, each job
 * scheduler with its next run, and the workers online per queue.
 */
export async function runDoctor(
  settings: Settings,
  locale: Locale,
  now = new Date(),
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean, detail: Text, fix?: Text) =>
    checks.push({
      name,
      label: labelOf(name, locale),
      ok,
      detail: detail[locale],
      ...(fix && !ok ? { fix: fix[locale] } : {}),
    });

  let database: DatabaseHandle | undefined;
  try {
    database = await openDatabase({
      databaseUrl: settings.databaseUrl,
      dataDir: settings.dataDir,
      connectionTimeoutMillis: CHECK_TIMEOUT_MS,
    });
    await sql`SELECT 1`.execute(database.db);
    add('database', true, {
      'zh-CN': `${database.kind === 'postgres' ? 'PostgreSQL' : `PGlite ${settings.dataDir}`} 可连接`,
      en: `${database.kind === 'postgres' ? 'PostgreSQL' : `PGlite ${settings.dataDir}`} answers`,
    });

    const pending = await getPendingMigrations(database.db);
    add(
      'migrations',
      pending.length === 0,
      pending.length === 0
        ? { 'zh-CN': '已是最新', en: 'up to date' }
        : { 'zh-CN': `待应用：${pending.join(', ')}`, en: `pending: ${pending.join(', ')}` },
      { 'zh-CN': '运行 cloud-platform migrate', en: 'run cloud-platform migrate' },
    );

    await checkLastRuns(database, settings, now, add);
  } catch (error) {
    if (error instanceof DataFolderLockedError) {
      // The running embedded service has locked the folder, and it applied the migrations when it started.
      add('database', true, {
        'zh-CN': `PGlite ${settings.dataDir} 正由运行中的 cloud-platform 服务使用；停止服务后才能检查迁移与最近执行`,
        en: `PGlite ${settings.dataDir} is in use by the running cloud-platform service; stop it to check migrations and last runs`,
      });
    } else {
      add(
        'database',
        false,
        {
          'zh-CN': `无法连接：${(error as Error).message}`,
          en: `cannot connect: ${(error as Error).message}`,
        },
        {
          'zh-CN': '检查 DATABASE_URL（或 DATA_DIR）与数据库服务；嵌入式数据库只能由一个进程打开',
          en: 'check DATABASE_URL (or DATA_DIR) and the database server; the embedded database opens in one process only',
        },
      );
    }
  } finally {
    await database?.close();
  }

  if (!settings.redisUrl) {
    add('redis', true, {
      'zh-CN': '未设置 REDIS_URL：任务在 API 进程内运行（嵌入式）',
      en: 'REDIS_URL is not set: tasks run inside the API process (embedded)',
    });
    return checks;
  }

  const queues = new TaskQueues(settings);
  try {
    await checkRedis(queues, add);
    await checkSchedulers(queues, settings, add);
    await checkWorkers(queues, add);
  } catch (error) {
    add(
      'redis',
      false,
      {
        'zh-CN': `无法连接 ${redactUrl(settings.redisUrl)}：${(error as Error).message}`,
        en: `cannot reach ${redactUrl(settings.redisUrl)}: ${(error as Error).message}`,
      },
      { 'zh-CN': '检查 REDIS_URL 与 Redis 服务', en: 'check REDIS_URL and the Redis server' },
    );
  } finally {
    await queues.close();
  }
  return checks;
}

const STATUS_ZH: Record<string, string> = {
  queued: '排队中',
  running: '执行中',
  succeeded: '成功',
  failed: '失败',
};

type AddCheck = (name: string, ok: boolean, detail: Text, fix?: Text) => void;

async function checkRedis(queues: TaskQueues, add: AddCheck): Promise<void> {
  const redis = queues.connection;
  const pong = await withTimeout(redis.ping(), 'Redis PING');
  add('redis', pong === 'PONG', { 'zh-CN': `PING 返回 ${pong}`, en: `PING returned ${pong}` });

  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch {
    policy = undefined;
  }
  add(
    'redis eviction',
    policy === 'noeviction',
    policy === undefined
      ? {
          'zh-CN': '无法读取 maxmemory-policy（CONFIG 被禁用）',
          en: 'cannot read maxmemory-policy (CONFIG is disabled)',
        }
      : { 'zh-CN': `maxmemory-policy 为 ${policy}`, en: `maxmemory-policy is ${policy}` },
    {
      'zh-CN': '设置 maxmemory-policy noeviction：其他策略会在内存满时删除队列数据，导致任务丢失',
      en: 'set maxmemory-policy noeviction: any other policy deletes queue keys when memory is full, losing jobs',
    },
  );
}

async function checkSchedulers(queues: TaskQueues, settings: Settings, add: AddCheck): Promise<void> {
  for (const name of TASK_NAMES) {
    const task = TASKS[name];
    const expected = settings.schedules[name] ?? task.defaultSchedule;
    const scheduler = await queues.get(task.queue).getJobScheduler(name);
    if (!scheduler) {
      add(
        `scheduler ${name}`,
        false,
        { 'zh-CN': '不存在', en: 'missing' },
        { 'zh-CN': '启动 cloud-platform beat', en: 'start cloud-platform beat' },
      );
      continue;
    }

    const next = scheduler.next
      ? DateTime.fromMillis(scheduler.next, { zone: settings.billingTimezone }).toFormat(
          'yyyy-MM-dd HH:mm ZZ',
        )
      : '-';
    const matches = scheduler.pattern === expected && scheduler.tz === settings.billingTimezone;
    const nextJob = await hasNextJob(queues, task.queue, name, scheduler.next);
    add(
      `scheduler ${name}`,
      matches && nextJob,
      {
        'zh-CN': `${scheduler.pattern ?? '?'}（${scheduler.tz ?? '?'}），下次 ${next}${nextJob ? '' : '，但下次作业不存在'}`,
        en: `${scheduler.pattern ?? '?'} (${scheduler.tz ?? '?'}), next ${next}${nextJob ? '' : ', but its next job is missing'}`,
      },
      matches
        ? { 'zh-CN': '重启 cloud-platform beat 以修复', en: 'restart cloud-platform beat to repair it' }
        : {
            'zh-CN': `配置为 ${expected}（${settings.billingTimezone}）：用当前配置重启 cloud-platform beat`,
            en: `configured as ${expected} (${settings.billingTimezone}): restart cloud-platform beat with this configuration`,
          },
    );
  }
}

async function checkWorkers(queues: TaskQueues, add: AddCheck): Promise<void> {
  for (const name of QUEUE_NAMES) {
    const workers = await queues.get(name).getWorkersCount();
    add(
      `workers ${name}`,
      workers > 0,
      { 'zh-CN': `${workers} 个在线`, en: `${workers} online` },
      {
        'zh-CN': `启动 cloud-platform worker --queues ${name}`,
        en: `start cloud-platform worker --queues ${name}`,
      },
    );
  }
}

/**
 * Checks the last run of each task. A task is overdue when its last run is
 * older than two intervals of its schedule plus an hour for the run itself,
 * e.g. 49 hours for a daily task.
 */
async function checkLastRuns(database: DatabaseHandle, settings: Settings, now: Date, add: AddCheck) {
  const taskRuns = new TaskRunRepository(database.db);
  for (const name of TASK_NAMES) {
    const last = await taskRuns.getLastByTask(name);
    if (!last) {
      add(`last run ${name}`, true, { 'zh-CN': '尚未执行', en: 'not run yet' });
      continue;
    }

    const pattern = settings.schedules[name] ?? TASKS[name].defaultSchedule;
    const cron = new Cron(pattern, { timezone: settings.billingTimezone, paused: true });
    const [first, second] = cron.nextRuns(2, now);
    const intervalMs = first && second ? second.getTime() - first.getTime() : 24 * 3600 * 1000;
    const at = last.finished_at ?? last.started_at ?? last.created_at;
    const ageMs = now.getTime() - new Date(at).getTime();
    const age = formatAge(ageMs);
    const overdue = ageMs > 2 * intervalMs + 3600 * 1000;
    const failed = last.status === 'failed';

    add(
      `last run ${name}`,
      !failed && !overdue,
      {
        'zh-CN': `#${last.id} ${STATUS_ZH[last.status]}，${age['zh-CN']}前${failed && last.error ? `：${last.error}` : ''}`,
        en: `#${last.id} ${last.status}, ${age.en} ago${failed && last.error ? `: ${last.error}` : ''}`,
      },
      failed
        ? {
            'zh-CN': `查看 GET /api/task-runs/${last.id}/ 与日志，修复后运行 cloud-platform task run ${name}`,
            en: `read GET /api/task-runs/${last.id}/ and the log, then run cloud-platform task run ${name}`,
          }
        : {
            'zh-CN': '检查 beat 与 worker 是否在运行',
            en: 'check that beat and a worker for its queue are running',
          },
    );
  }
}

const LABELS: [prefix: string, text: Text][] = [
  ['redis eviction', { 'zh-CN': 'Redis 淘汰策略', en: 'redis eviction' }],
  ['redis', { 'zh-CN': 'Redis', en: 'redis' }],
  ['database', { 'zh-CN': '数据库', en: 'database' }],
  ['migrations', { 'zh-CN': '迁移', en: 'migrations' }],
  ['scheduler', { 'zh-CN': '任务计划', en: 'scheduler' }],
  ['workers', { 'zh-CN': '在线 worker', en: 'workers' }],
  ['last run', { 'zh-CN': '最近执行', en: 'last run' }],
];

/** Translates the fixed part of a check name, e.g. `last run sync_vm_status` to `最近执行 sync_vm_status`. */
function labelOf(name: string, locale: Locale): string {
  const match = LABELS.find(([prefix]) => name === prefix || name.startsWith(`${prefix} `));
  return match ? `${match[1][locale]}${name.slice(match[0].length)}` : name;
}

function formatAge(ms: number): Text {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 120) return { 'zh-CN': `${minutes} 分钟`, en: `${minutes} min` };
  const hours = Math.round(minutes / 60);
  if (hours < 48) return { 'zh-CN': `${hours} 小时`, en: `${hours} h` };
  const days = Math.round(hours / 24);
  return { 'zh-CN': `${days} 天`, en: `${days} d` };
}

/** Hides the password of a redis:// URL. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} timed out after ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
