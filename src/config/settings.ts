import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Cron } from 'croner';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

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
  /** Consecutive successful syncs a VM must be absent from before it is marked missing. */
  missingAfterSyncs: number;
  /** Cron patterns (in the billing time zone) keyed by task name. */
  schedules: Record<string, string>;
  logLevel: string;
  /** HTTP port of the API. */
  port: number;
  /** Address the HTTP server listens on. */
  host: string;
  /** Processes of `serve` that answer HTTP requests on the port; more than 1 needs PostgreSQL. */
  apiWorkers: number;
  /** Password of the first admin, created at first start; random and printed once when unset. Never logged. */
  adminPassword: string | undefined;
  /** Whether the session cookie is sent only over HTTPS. */
  secureCookies: boolean;
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
});

type Source = Record<string, string | undefined>;

/** Reads the optional YAML file named by CONFIG_FILE into environment-style keys. */
function readConfigFile(file: string): Source {
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
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SettingsError(`CONFIG_FILE=${file} must hold a mapping of setting names to values`);
  }

  const known = new Set(Object.keys(rawSchema.shape));
  const values: Source = {};
  for (const [key, value] of Object.entries(parsed)) {
    const name = key.toUpperCase();
    if (!known.has(name)) {
      throw new SettingsError(
        `CONFIG_FILE=${file} has unknown setting "${key}"; known settings: ${[...known].join(', ')}`,
      );
    }
    values[name] = value === null ? undefined : String(value);
  }
  return values;
}

/** Validates settings from `environment` (and its CONFIG_FILE); throws SettingsError naming every bad value. */
export function loadSettings(environment: Source = process.env): Settings {
  const fromFile = environment.CONFIG_FILE ? readConfigFile(environment.CONFIG_FILE) : {};
  const merged: Source = { ...fromFile };
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
  return {
    dataDir: path.resolve(raw.DATA_DIR),
    databaseUrl: raw.DATABASE_URL,
    billingTimezone: raw.BILLING_TIMEZONE,
    billingCatchUpDays: raw.BILLING_CATCH_UP_DAYS,
    billingChunkSize: raw.BILLING_CHUNK_SIZE,
    inventoryFile: raw.INVENTORY_FILE ? path.resolve(raw.INVENTORY_FILE) : undefined,
    inventoryFileProvider: raw.INVENTORY_FILE_PROVIDER,
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
  };
}
