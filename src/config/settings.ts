import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Cron } from 'croner';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

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

export class SettingsError extends Error {
  override name = 'SettingsError';
}

export const DEFAULT_SCHEDULES = {
  create_daily_billing_records: '10 0 * * *',
  detect_resource_changes: '0 * * * *',
  sync_vm_status: '*/5 * * * *',
} as const;

const integerSetting = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number between ${min} and ${max}` })
    .int(`${name} must be a whole number between ${min} and ${max}`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

const cronSetting = (name: string) =>
  z.string().refine(
    (pattern) => {
      try {
        new Cron(pattern, { paused: true });
        return true;
      } catch {
        return false;
      }
    },
    {
      error: (issue) =>
        `${name}=${JSON.stringify(issue.input)} is not a valid cron pattern (e.g. "10 0 * * *")`,
    },
  );

const rawSchema = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), {
      error:
        'DATABASE_URL must start with postgres:// or postgresql://; unset it to use the embedded database',
    })
    .optional(),
  BILLING_TIMEZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine((zone) => IANAZone.isValidZone(zone), {
      error: (issue) =>
        `BILLING_TIMEZONE=${JSON.stringify(issue.input)} is not an IANA time zone; use a name such as Asia/Shanghai`,
    }),
  BILLING_CATCH_UP_DAYS: integerSetting('BILLING_CATCH_UP_DAYS', 1, 3660).default(31),
  BILLING_CHUNK_SIZE: integerSetting('BILLING_CHUNK_SIZE', 1, 1_000_000).default(50_000),
  INVENTORY_FILE: z
    .string()
    .refine((file) => /\.(json|ya?ml)$/i.test(file), {
      error: (issue) =>
        `INVENTORY_FILE=${JSON.stringify(issue.input)} must end in .json, .yaml or .yml, which selects its format`,
    })
    .optional(),
  INVENTORY_FILE_PROVIDER: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'INVENTORY_FILE_PROVIDER must be lower-case letters, digits, - or _')
    .refine((provider) => provider !== 'local', {
      error:
        'INVENTORY_FILE_PROVIDER=local is reserved for the VMs kept in the product database; choose another name',
    })
    .default('file'),
  MISSING_AFTER_SYNCS: integerSetting('MISSING_AFTER_SYNCS', 1, 1000).default(3),
  SCHEDULE_CREATE_DAILY_BILLING_RECORDS: cronSetting('SCHEDULE_CREATE_DAILY_BILLING_RECORDS').default(
    DEFAULT_SCHEDULES.create_daily_billing_records,
  ),
  SCHEDULE_DETECT_RESOURCE_CHANGES: cronSetting('SCHEDULE_DETECT_RESOURCE_CHANGES').default(
    DEFAULT_SCHEDULES.detect_resource_changes,
  ),
  SCHEDULE_SYNC_VM_STATUS: cronSetting('SCHEDULE_SYNC_VM_STATUS').default(DEFAULT_SCHEDULES.sync_vm_status),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: integerSetting('PORT', 1, 65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  API_WORKERS: integerSetting('API_WORKERS', 1, 64).default(1),
  ADMIN_PASSWORD: z.string().min(8, 'ADMIN_PASSWORD must have at least 8 characters').optional(),
  SECURE_COOKIES: z
    .enum(['true', 'false'], { error: 'SECURE_COOKIES must be true or false' })
    .default('false'),
  REDIS_URL: z
    .string()
    .refine((value) => /^rediss?:\/\//.test(value), {
      error: 'REDIS_URL must start with redis:// or rediss://; unset it to run tasks in the API process',
    })
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'REDIS_PREFIX must be 1 to 64 letters, digits, ., _ or -')
    .default('cloud-platform'),
  TASK_ATTEMPTS: integerSetting('TASK_ATTEMPTS', 1, 100).default(3),
  TASK_BACKOFF_MS: integerSetting('TASK_BACKOFF_MS', 100, 86_400_000).default(30_000),
  FAILED_JOB_RETENTION_DAYS: integerSetting('FAILED_JOB_RETENTION_DAYS', 1, 3660).default(14),
  WORKER_LOCK_DURATION_MS: integerSetting('WORKER_LOCK_DURATION_MS', 1000, 3_600_000).default(30_000),
  MONITOR_PORT: integerSetting('MONITOR_PORT', 1, 65535).default(5555),
  METRICS_TOKEN: z
    .string()
    .min(16, 'METRICS_TOKEN must have at least 16 characters; generate one with: openssl rand -hex 32')
    .regex(/^\S+$/, 'METRICS_TOKEN must not contain spaces, because it is sent as a bearer token')
    .optional(),
});

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
    throw new SettingsError(`CONFIG_FILE=${file} cannot be read: ${(error as Error).message}`);
  }

  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new SettingsError(`CONFIG_FILE=${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return { values: {}, sources: [] };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SettingsError(`CONFIG_FILE=${file} must hold a mapping of setting names to values`);
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
      throw new SettingsError(
        `CONFIG_FILE=${file} has unknown setting "${key}"; known settings: ${[...known].join(', ')}, ${SOURCES_KEY}`,
      );
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
    throw new SettingsError(
      `CONFIG_FILE=${file}: ${SOURCES_KEY} must be a list of sources, each with name, type and its settings`,
    );
  }

  const sources: SourceConfig[] = [];
  const problems: string[] = [];
  const positions = new Map<string, number>();
  value.forEach((entry: unknown, index) => {
    const result = validateSourceConfig(entry, `sources[${index}]`);
    if ('issues' in result) {
      for (const issue of result.issues) {
        problems.push(`sources[${index}] (${result.source}): ${issue.field}: ${issue.problem}`);
      }
      return;
    }

    const { config } = result;
    const first = positions.get(config.name);
    if (first !== undefined) {
      problems.push(
        `sources[${index}] (${config.name}): name: already used by sources[${first}]; ` +
          'the name is also the provider of its VMs, so give each source its own name',
      );
      return;
    }
    positions.set(config.name, index);
    if (typeof config.ca_file === 'string') config.ca_file = path.resolve(path.dirname(file), config.ca_file);
    sources.push(config);
  });

  if (problems.length > 0) {
    throw new SettingsError(`CONFIG_FILE=${file} has invalid inventory sources:\n  ${problems.join('\n  ')}`);
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
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      return issue.message.includes(key) ? issue.message : `${key}: ${issue.message}`;
    });
    throw new SettingsError(`invalid settings:\n  ${problems.join('\n  ')}`);
  }

  const raw = result.data;
  if (raw.REDIS_URL && !raw.DATABASE_URL) {
    throw new SettingsError(
      'invalid settings:\n  REDIS_URL is set but DATABASE_URL is not: workers in other processes cannot open the ' +
        'embedded database, so set DATABASE_URL=postgres://… or unset REDIS_URL',
    );
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
