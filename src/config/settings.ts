import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Cron } from 'croner';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { translate, type Locale, type MessageCode, type MessageParameters } from '../i18n/messages.js';
import { settingsMessages } from '../i18n/settings-messages.js';
import type { SourceConfig } from '../inventory/connectors/connector.js';
import { validateSourceConfig } from '../inventory/connectors/registry.js';

/**
 * Settings of one process, read once at start from the environment and, when
 * `CONFIG_FILE` names one, a YAML file. Environment variables win over the file.
 */
export interface Settings {
  /** PGlite data folder, used when `databaseUrl` is unset. */
  dataDir: string;
  /** `postgres://…` connection string; unset means the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** IANA zone whose midnight starts a billing day. */
  billingTimezone: string;
  /** Maximum number of past days that one scheduled billing run fills in. */
  billingCatchUpDays: number;
  /** Information systems billed per SQL statement. */
  billingChunkSize: number;
  /** JSON or YAML inventory file read by `sync_vm_status`; unset disables the file source. */
  inventoryFile: string | undefined;
  /** Provider name under which VMs of the inventory file are stored. */
  inventoryFileProvider: string;
  /** Inventory sources of the `sources:` list in CONFIG_FILE, validated by their connectors. */
  inventorySources: SourceConfig[];
  /** Consecutive successful syncs a VM must be absent from before it is marked missing. */
  missingAfterSyncs: number;
  /** Cron patterns (in the billing time zone) keyed by task name. */
  schedules: Record<string, string>;
  logLevel: string;
  /** HTTP port of the API. */
  port: number;
  /** Address the HTTP server listens on. */
  host: string;
  /** Processes of `serve` that handle HTTP requests on the port; more than 1 needs PostgreSQL. */
  apiWorkers: number;
  /** PostgreSQL connections of each `serve` process and of `start`. A query waits while all of them are busy. */
  databasePoolSize: number;
  /** Password of the first admin, created at first start; random and printed once when unset. Never logged. */
  adminPassword: string | undefined;
  /** Whether the session cookie is sent only over HTTPS. */
  secureCookies: boolean;
  /** `redis://…` URL; with `databaseUrl` it selects distributed mode (BullMQ workers and schedulers). */
  redisUrl: string | undefined;
  /** Prefix of every BullMQ key in Redis, so that several installations can share one Redis. */
  redisPrefix: string;
  /** Attempts of a task job (the first run plus retries) before BullMQ marks it failed. */
  taskAttempts: number;
  /** Delay before the first retry of a failed task job, in milliseconds; doubles at each retry. */
  taskBackoffMs: number;
  /** Days that failed jobs stay in Redis with their error (TaskRun rows keep the history for good). */
  failedJobRetentionDays: number;
  /** Time a worker's lock on a job lasts without renewal, in milliseconds; a dead worker's job is recovered after it. */
  workerLockDurationMs: number;
  /** HTTP port of the task dashboard (`monitor`). */
  monitorPort: number;
  /** Bearer token that Prometheus may send to read /metrics without a user account; unset allows admins only. Never logged. */
  metricsToken: string | undefined;
}

/** One line of a settings error: a catalog message, after an optional fixed prefix such as `sources[0] (pve): name: `. */
export interface SettingsProblem {
  prefix?: string;
  code: MessageCode;
  parameters: MessageParameters;
}

/**
 * Bad settings. `format(locale)` words it in zh-CN or English; `message`
 * is the English text, for logs. The values of ADMIN_PASSWORD and
 * METRICS_TOKEN and the passwords in URLs never appear in either.
 */
export class SettingsError extends Error {
  override name = 'SettingsError';

  constructor(
    readonly summary: SettingsProblem,
    readonly problems: readonly SettingsProblem[] = [],
  ) {
    super('');
    this.message = this.format('en');
  }

  format(locale: Locale): string {
    const line = (problem: SettingsProblem) =>
      `${problem.prefix ?? ''}${translate(problem.code, problem.parameters, locale)}`;
    return [line(this.summary), ...this.problems.map(line)].join('\n  ');
  }
}

export const DEFAULT_SCHEDULES = {
  create_daily_billing_records: '10 0 * * *',
  detect_resource_changes: '0 * * * *',
  sync_vm_status: '*/5 * * * *',
} as const;

/** Integer settings: [minimum, maximum, default]. */
const INTEGER_SETTINGS = {
  BILLING_CATCH_UP_DAYS: [1, 3660, 31],
  BILLING_CHUNK_SIZE: [1, 1_000_000, 50_000],
  MISSING_AFTER_SYNCS: [1, 1000, 3],
  PORT: [1, 65535, 8000],
  API_WORKERS: [1, 64, 1],
  DATABASE_POOL_SIZE: [1, 1000, 10],
  TASK_ATTEMPTS: [1, 100, 3],
  TASK_BACKOFF_MS: [100, 86_400_000, 30_000],
  FAILED_JOB_RETENTION_DAYS: [1, 3660, 14],
  WORKER_LOCK_DURATION_MS: [1000, 3_600_000, 30_000],
  MONITOR_PORT: [1, 65535, 5555],
} as const satisfies Record<string, readonly [number, number, number]>;

/** Settings whose values are secrets: their messages never show the value. */
const SECRET_SETTINGS = new Set(['ADMIN_PASSWORD', 'METRICS_TOKEN']);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// The schema's error messages are catalog codes; loadSettings adds the setting's name and value.
const integerSetting = (name: keyof typeof INTEGER_SETTINGS) => {
  const [min, max, fallback] = INTEGER_SETTINGS[name];
  return z.coerce
    .number({ error: 'settings_integer' })
    .int('settings_integer')
    .min(min, 'settings_integer')
    .max(max, 'settings_integer')
    .default(fallback);
};

const cronSetting = (fallback: string) =>
  z
    .string()
    .refine(
      (pattern) => {
        try {
          new Cron(pattern, { paused: true });
          return true;
        } catch {
          return false;
        }
      },
      { error: 'settings_cron' },
    )
    .default(fallback);

const rawSchema = z.object({
  DATA_DIR: z.string().min(1, 'settings_empty').default('./data'),
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), { error: 'settings_database_url' })
    .optional(),
  BILLING_TIMEZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine((zone) => IANAZone.isValidZone(zone), { error: 'settings_timezone' }),
  BILLING_CATCH_UP_DAYS: integerSetting('BILLING_CATCH_UP_DAYS'),
  BILLING_CHUNK_SIZE: integerSetting('BILLING_CHUNK_SIZE'),
  INVENTORY_FILE: z
    .string()
    .refine((file) => /\.(json|ya?ml)$/i.test(file), { error: 'settings_inventory_file' })
    .optional(),
  INVENTORY_FILE_PROVIDER: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'settings_provider')
    .refine((provider) => provider !== 'local', { error: 'settings_provider_reserved' })
    .default('file'),
  MISSING_AFTER_SYNCS: integerSetting('MISSING_AFTER_SYNCS'),
  SCHEDULE_CREATE_DAILY_BILLING_RECORDS: cronSetting(DEFAULT_SCHEDULES.create_daily_billing_records),
  SCHEDULE_DETECT_RESOURCE_CHANGES: cronSetting(DEFAULT_SCHEDULES.detect_resource_changes),
  SCHEDULE_SYNC_VM_STATUS: cronSetting(DEFAULT_SCHEDULES.sync_vm_status),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: 'settings_choice' }).default('info'),
  PORT: integerSetting('PORT'),
  HOST: z.string().min(1, 'settings_empty').default('127.0.0.1'),
  API_WORKERS: integerSetting('API_WORKERS'),
  DATABASE_POOL_SIZE: integerSetting('DATABASE_POOL_SIZE'),
  ADMIN_PASSWORD: z.string().min(8, 'settings_admin_password').optional(),
  SECURE_COOKIES: z.enum(['true', 'false'], { error: 'settings_choice' }).default('false'),
  REDIS_URL: z
    .string()
    .refine((value) => /^rediss?:\/\//.test(value), { error: 'settings_redis_url' })
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'settings_redis_prefix')
    .default('cloud-platform'),
  TASK_ATTEMPTS: integerSetting('TASK_ATTEMPTS'),
  TASK_BACKOFF_MS: integerSetting('TASK_BACKOFF_MS'),
  FAILED_JOB_RETENTION_DAYS: integerSetting('FAILED_JOB_RETENTION_DAYS'),
  WORKER_LOCK_DURATION_MS: integerSetting('WORKER_LOCK_DURATION_MS'),
  MONITOR_PORT: integerSetting('MONITOR_PORT'),
  METRICS_TOKEN: z
    .string()
    .min(16, 'settings_metrics_token_short')
    .regex(/^\S+$/, 'settings_metrics_token_spaces')
    .optional(),
});

/** Allowed values of the settings that take one of a list. */
const CHOICES: Record<string, readonly string[]> = {
  LOG_LEVEL: LOG_LEVELS,
  SECURE_COOKIES: ['true', 'false'],
};

/**
 * Shows a setting's value as it would be typed in a shell: bare when it has
 * no spaces or quotes, else as a JSON string. The password of a
 * `user:password@host` part, with or without a scheme, becomes ***.
 */
function showValue(value: string): string {
  const display = value.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^:@/\s]*:)[^@/\s]+@/i, '$1***@');
  return /^[^\s"'\\]+$/.test(display) ? display : JSON.stringify(display);
}

/** Turns one zod issue of `rawSchema` into a problem that names the setting and its value. */
function describeSettingIssue(issue: z.core.$ZodIssue, merged: Source): SettingsProblem {
  const name = String(issue.path[0]);
  const raw = merged[name] ?? '';
  const value = SECRET_SETTINGS.has(name) ? undefined : showValue(raw);
  const parameters: MessageParameters = { name, value };
  if (name in INTEGER_SETTINGS) {
    const [min, max] = INTEGER_SETTINGS[name as keyof typeof INTEGER_SETTINGS];
    Object.assign(parameters, { min, max });
  }
  if (CHOICES[name]) parameters.choices = CHOICES[name].join(', ');

  if (issue.message in settingsMessages && issue.message.startsWith('settings_')) {
    return { code: issue.message as MessageCode, parameters };
  }
  // NOTE: only an issue that no schema entry words (a zod default) gets here, in English.
  return {
    code: 'settings_value_invalid',
    parameters: { ...parameters, value: value ?? '***', detail: issue.message },
  };
}

type Source = Record<string, string | undefined>;

/** Key of CONFIG_FILE that lists inventory sources; it has no environment variable. */
const SOURCES_KEY = 'sources';

interface ConfigFile {
  values: Source;
  sources: SourceConfig[];
}

/** Reads the optional YAML file named by CONFIG_FILE into environment-style keys and the source list. */
function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingsError({
      code: 'settings_file_unreadable',
      parameters: { file, error: (error as Error).message },
    });
  }

  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    // The parser's message goes on with a picture of the bad line; its first line names the line and column.
    const reason = (error as Error).message.split('\n')[0]!.replace(/:$/, '');
    throw new SettingsError({ code: 'settings_file_not_yaml', parameters: { file, error: reason } });
  }
  if (parsed === null || parsed === undefined) return { values: {}, sources: [] };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SettingsError({ code: 'settings_file_not_mapping', parameters: { file } });
  }

  const known = new Set(Object.keys(rawSchema.shape));
  const values: Source = {};
  let sources: SourceConfig[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (key === SOURCES_KEY) {
      sources = readSources(file, value);
      continue;
    }
    const name = key.toUpperCase();
    if (!known.has(name)) {
      throw new SettingsError({
        code: 'settings_file_unknown_key',
        parameters: { file, key, known: [...known, SOURCES_KEY].join(', ') },
      });
    }
    values[name] = value === null ? undefined : String(value);
  }
  return { values, sources };
}

/**
 * Validates the `sources:` list of the config file with each entry's
 * connector. Throws one SettingsError that lists every problem, each naming
 * the source, the field and the fix. A relative ca_file is resolved against
 * the folder of the config file.
 */
function readSources(file: string, value: unknown): SourceConfig[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new SettingsError({ code: 'settings_sources_not_list', parameters: { file } });
  }

  const sources: SourceConfig[] = [];
  const problems: SettingsProblem[] = [];
  const positions = new Map<string, number>();
  value.forEach((entry: unknown, index) => {
    const result = validateSourceConfig(entry, `sources[${index}]`);
    if ('issues' in result) {
      for (const issue of result.issues) {
        problems.push({
          prefix: `sources[${index}] (${result.source}): ${issue.field}: `,
          code: issue.code,
          parameters: issue.parameters,
        });
      }
      return;
    }

    const { config } = result;
    const first = positions.get(config.name);
    if (first !== undefined) {
      problems.push({
        prefix: `sources[${index}] (${config.name}): name: `,
        code: 'source_problem_name_duplicate',
        parameters: { first },
      });
      return;
    }
    positions.set(config.name, index);
    if (typeof config.ca_file === 'string') config.ca_file = path.resolve(path.dirname(file), config.ca_file);
    sources.push(config);
  });

  if (problems.length > 0) {
    throw new SettingsError({ code: 'settings_sources_invalid', parameters: { file } }, problems);
  }
  return sources;
}

/** Validates settings from `environment` (and its CONFIG_FILE); throws SettingsError naming every bad value. */
export function loadSettings(environment: Source = process.env): Settings {
  const file = environment.CONFIG_FILE
    ? readConfigFile(environment.CONFIG_FILE)
    : { values: {}, sources: [] };
  const merged: Source = { ...file.values };
  for (const key of Object.keys(rawSchema.shape)) {
    const value = environment[key];
    if (value !== undefined && value !== '') merged[key] = value;
  }

  const result = rawSchema.safeParse(merged);
  if (!result.success) {
    throw new SettingsError(
      { code: 'settings_invalid', parameters: {} },
      result.error.issues.map((issue) => describeSettingIssue(issue, merged)),
    );
  }

  const raw = result.data;
  if (raw.REDIS_URL && !raw.DATABASE_URL) {
    throw new SettingsError({ code: 'settings_invalid', parameters: {} }, [
      { code: 'settings_redis_without_database', parameters: {} },
    ]);
  }
  return {
    dataDir: path.resolve(raw.DATA_DIR),
    databaseUrl: raw.DATABASE_URL,
    billingTimezone: raw.BILLING_TIMEZONE,
    billingCatchUpDays: raw.BILLING_CATCH_UP_DAYS,
    billingChunkSize: raw.BILLING_CHUNK_SIZE,
    inventoryFile: raw.INVENTORY_FILE ? path.resolve(raw.INVENTORY_FILE) : undefined,
    inventoryFileProvider: raw.INVENTORY_FILE_PROVIDER,
    inventorySources: file.sources,
    missingAfterSyncs: raw.MISSING_AFTER_SYNCS,
    schedules: {
      create_daily_billing_records: raw.SCHEDULE_CREATE_DAILY_BILLING_RECORDS,
      detect_resource_changes: raw.SCHEDULE_DETECT_RESOURCE_CHANGES,
      sync_vm_status: raw.SCHEDULE_SYNC_VM_STATUS,
    },
    logLevel: raw.LOG_LEVEL,
    port: raw.PORT,
    host: raw.HOST,
    apiWorkers: raw.API_WORKERS,
    databasePoolSize: raw.DATABASE_POOL_SIZE,
    adminPassword: raw.ADMIN_PASSWORD,
    secureCookies: raw.SECURE_COOKIES === 'true',
    redisUrl: raw.REDIS_URL,
    redisPrefix: raw.REDIS_PREFIX,
    taskAttempts: raw.TASK_ATTEMPTS,
    taskBackoffMs: raw.TASK_BACKOFF_MS,
    failedJobRetentionDays: raw.FAILED_JOB_RETENTION_DAYS,
    workerLockDurationMs: raw.WORKER_LOCK_DURATION_MS,
    monitorPort: raw.MONITOR_PORT,
    metricsToken: raw.METRICS_TOKEN,
  };
}
