#!/usr/bin/env node
import { CommanderError } from 'commander';

import { SettingsError } from '../config/settings.js';
import { DataFolderLockedError } from '../db/database.js';
import { DomainError } from '../errors.js';
import { translate } from '../i18n/messages.js';
import { registerBillingCommands, registerPriceCommands } from './commands/billing.js';
import { registerSystemCommands, registerTenantCommands, registerVmCommands } from './commands/catalog.js';
import { registerDistributedCommands } from './commands/distributed.js';
import { registerRemoteCommands } from './commands/remote.js';
import { registerRuntimeCommands } from './commands/runtime.js';
import { registerSourceImportCommand } from './commands/source-import.js';
import { registerSourceCommands } from './commands/sources.js';
import { registerTaskCommands } from './commands/tasks.js';
import { NoDatabaseError } from './context.js';
import { cliLocale, createRootCommand } from './usage.js';

/** PostgreSQL error codes and Node.js socket errors that mean the database cannot be used at all. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '3D000', // invalid_catalog_name: the database does not exist
  '28P01', // invalid_password
  '28000', // invalid_authorization_specification
  '57P03', // cannot_connect_now: the server is starting up or shutting down
]);

const program = createRootCommand(
  'cloud-platform',
  '云资源计费与监控 / billing and resource monitoring for private and government clouds',
);

registerRuntimeCommands(program);
registerDistributedCommands(program);
registerTenantCommands(program);
registerSystemCommands(program);
registerVmCommands(program);
registerPriceCommands(program);
registerTaskCommands(program);
registerSourceCommands(program);
registerRemoteCommands(program);
registerBillingCommands(program);
// `source import` joins the `source` command that registerSourceCommands creates.
registerSourceImportCommand(program.commands.find((command) => command.name() === 'source')!);

const locale = cliLocale();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}

/** Prints a failed command's error for a person and returns the exit status. */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // CliCommand.error() has already printed the usage error in the user's language. Help exits 0,
    // and a bad option or argument is bad input like any other, so it exits 2.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof DomainError) {
    console.error(`错误 / error: ${translate(error.code, error.parameters, locale)}`);
    return 2;
  }
  if (error instanceof SettingsError) {
    console.error(`配置错误 / settings error: ${error.format(locale)}`);
    return 2;
  }
  if (error instanceof NoDatabaseError) {
    console.error(`错误 / error: ${translate('data_folder_empty', { dir: error.dataDir }, locale)}`);
    return 3;
  }
  if (error instanceof DataFolderLockedError) {
    console.error(`错误 / error: ${translate('data_folder_locked', { dir: error.dataDir }, locale)}`);
    return 3;
  }
  const connection = describeConnectionError(error);
  if (connection) {
    console.error(`错误 / error: ${translate('database_unreachable', connection, locale)}`);
    return 3;
  }
  console.error(error);
  return 1;
}

/** Returns the parameters of a `database_unreachable` message when `error` is a failed connection. */
function describeConnectionError(error: unknown): { url: string; reason: string } | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !CONNECTION_ERROR_CODES.has(code)) return undefined;
  const raw = process.env.DATABASE_URL;
  let url = 'DATABASE_URL';
  if (raw) {
    try {
      const parsed = new URL(raw);
      if (parsed.password) parsed.password = '***';
      url = parsed.toString();
    } catch {
      url = 'DATABASE_URL';
    }
  }
  return { url, reason: (error as Error).message || code };
}
