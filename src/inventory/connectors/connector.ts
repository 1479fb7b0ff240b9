import { z } from 'zod';

import { DomainError } from '../../errors.js';
import { sourceProblem } from '../../i18n/settings-messages.js';
import type { Logger } from '../../logger.js';
import type { InventorySource } from '../source.js';

/**
 * The contract of an inventory-source connector. Each connector file exports
 * one `Connector`: its `type`, the zod schema of its configuration entry
 * (common fields included), the names of its secret fields, and a factory
 * that builds the InventorySource. The registry lists the connectors.
 */

/** Source names: also the `provider` stored on the source's VMs. */
export const SOURCE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
/** Provider of the VMs kept in the product database, which no source may take. */
export const RESERVED_SOURCE_NAME = 'local';
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export interface ConnectorContext {
  /** Environment that `*_env` fields are read from. */
  env: Record<string, string | undefined>;
  logger: Logger;
}

/** A source entry after its connector's schema validated it. */
export interface SourceConfig {
  name: string;
  type: string;
  [field: string]: unknown;
}

export interface Connector<Config extends SourceConfig = SourceConfig> {
  readonly type: string;
  /** Strict schema of a whole entry, common fields included. It must not transform values, so parsing its output again gives the same output. */
  readonly schema: z.ZodType<Config>;
  /** Fields that hold secrets: never returned by the API, logged or put in error messages. Each has a `*_env` twin. */
  readonly secretFields: readonly string[];
  /** Builds the source. Throws DomainError when a secret or file that the entry names cannot be read. */
  create(config: Config, context: ConnectorContext): InventorySource;
}

/** Builds a connector with its config type inferred from the schema. */
export function defineConnector<Config extends SourceConfig>(connector: Connector<Config>): Connector {
  return connector as unknown as Connector;
}

export const sourceName = z
  .string({ error: sourceProblem('source_problem_text') })
  .regex(SOURCE_NAME_PATTERN, sourceProblem('source_problem_name_pattern'))
  .refine((name) => name !== RESERVED_SOURCE_NAME, {
    error: sourceProblem('source_problem_name_reserved'),
  });

/** Returns the schema of a whole-number setting from `min` to `max`, with the catalog's problem texts. */
export function wholeNumberSetting(min: number, max: number) {
  return z
    .number({ error: sourceProblem('source_problem_whole_number') })
    .int(sourceProblem('source_problem_whole_number'))
    .min(min, sourceProblem('source_problem_min'))
    .max(max, sourceProblem('source_problem_max'));
}

/** Fields every connector accepts: name, timeouts, retries and TLS settings. */
export const commonSourceFields = {
  name: sourceName,
  timeout_seconds: z
    .number({ error: sourceProblem('source_problem_seconds') })
    .positive(sourceProblem('source_problem_seconds_positive'))
    .max(3600, sourceProblem('source_problem_seconds_max'))
    .default(30),
  retries: wholeNumberSetting(0, 10).default(3),
  verify_tls: z.boolean({ error: sourceProblem('source_problem_boolean') }).default(true),
  ca_file: z
    .string({ error: sourceProblem('source_problem_pem_path') })
    .min(1, sourceProblem('source_problem_empty'))
    .optional(),
};

/** Schema of an http:// or https:// URL without credentials in it. */
export const httpUrl = z.string({ error: sourceProblem('source_problem_url') }).refine(
  (text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
    } catch {
      return false;
    }
  },
  { error: sourceProblem('source_problem_http_url') },
);

/** Returns the schema fields of secret `field`: the value inline, or `field_env`, the name of an environment variable that contains it. */
export function secretFields<Field extends string>(field: Field) {
  return {
    [field]: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .optional(),
    [`${field}_env`]: z
      .string({ error: sourceProblem('source_problem_env_name') })
      .regex(ENV_NAME_PATTERN, sourceProblem('source_problem_env_name_pattern'))
      .optional(),
  } as Record<Field | `${Field}_env`, z.ZodOptional<z.ZodString>>;
}

/** Adds the check that each secret field is given exactly once, inline or through its `_env` twin. */
export function requireSecrets(fields: readonly string[]) {
  return (entry: Record<string, unknown>, context: z.RefinementCtx) => {
    for (const field of fields) {
      const inline = entry[field] !== undefined;
      const fromEnv = entry[`${field}_env`] !== undefined;
      if (inline === fromEnv) {
        context.addIssue({
          code: 'custom',
          path: [field],
          message: sourceProblem(inline ? 'source_problem_secret_twice' : 'source_problem_secret_missing'),
          params: { field },
        });
      }
    }
  };
}

/** Returns the value of secret `field`, read from its environment variable when the entry names one. */
export function resolveSecret(config: SourceConfig, field: string, context: ConnectorContext): string {
  const inline = config[field];
  if (typeof inline === 'string') return inline;

  const variable = config[`${field}_env`];
  const value = typeof variable === 'string' ? context.env[variable] : undefined;
  if (value === undefined || value === '') {
    throw new DomainError(
      'inventory_source_secret_missing',
      { source: config.name, field: `${field}_env`, variable: String(variable) },
      `${field}_env`,
    );
  }
  return value;
}
