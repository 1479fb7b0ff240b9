import { existsSync } from 'node:fs';
import path from 'node:path';

import { loadSettings, type Settings } from '../config/settings.js';
import { migrate, openDatabase, type DatabaseHandle } from '../db/database.js';
import { localeFromLang, type Locale } from '../i18n/messages.js';
import { createLogger, type Logger } from '../logger.js';

/** What every command needs: settings, locale, logger and (on demand) the database. */
export interface CommandContext {
  settings: Settings;
  locale: Locale;
  logger: Logger;
}

/** Loads settings from the environment, with `overrides` (from command options) taking precedence. */
export function createContext(overrides: Record<string, string> = {}): CommandContext {
  const settings = loadSettings({ ...process.env, ...overrides });
  return {
    settings,
    locale: localeFromLang(process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG),
    logger: createLogger(settings.logLevel),
  };
}

/** Opens the configured database, applies pending migrations, runs `work` and closes the database. */
/**
 * Raised by a read command whose embedded data folder contains no database,
 * typically because it runs in another folder than `npm start` did. Opening
 * the folder would create an empty database and the command would list
 * nothing, as if there were no data.
 */
export class NoDatabaseError extends Error {
  override name = 'NoDatabaseError';

  constructor(readonly dataDir: string) {
    super(`data folder ${dataDir} contains no database`);
  }
}

/**
 * Opens the database, applies pending migrations and runs `work`. With
 * `readOnly`, an embedded data folder without a database is an error
 * (NoDatabaseError) instead of being created.
 */
export async function withDatabase<T>(
  context: CommandContext,
  work: (database: DatabaseHandle) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  const { databaseUrl, dataDir } = context.settings;
  // PGlite writes PG_VERSION when it creates a database in the folder's pgdata (see openDatabase).
  if (options.readOnly && !databaseUrl && !existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))) {
    throw new NoDatabaseError(dataDir);
  }
  const database = await openDatabase({
    databaseUrl: context.settings.databaseUrl,
    dataDir: context.settings.dataDir,
  });
  try {
    await migrate(database.db);
    return await work(database);
  } finally {
    await database.close();
  }
}

/** Prints `data` as JSON when --json is set, else the human-readable text. */
export function print(options: { json?: boolean }, data: unknown, text: () => string): void {
  if (options.json) console.log(JSON.stringify(data, null, 2));
  else console.log(text());
}
