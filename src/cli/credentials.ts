import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Credentials that `cloud-platform login` saves for the commands that call the
 * API: the server URL and either a personal API token or, when the server
 * cannot issue tokens, a session cookie.
 */
export interface SavedCredentials {
  url: string;
  username: string;
  token?: string;
  /** Id of `token` on the server, so that the next login or logout can revoke it. Missing in files of older versions, whose token is then looked up by its prefix. */
  token_id?: number;
  /** Session cookie value, saved only when no API token could be created. */
  session?: string;
  /** Expiry of `session`, ISO 8601. */
  session_expires_at?: string;
}

export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError';

  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`invalid credentials file ${file}: ${reason}`);
  }
}

/** CLOUD_PLATFORM_CREDENTIALS, else credentials.json in the XDG config folder (~/.config/cloud-platform). */
export function credentialsPath(environment: NodeJS.ProcessEnv = process.env): string {
  if (environment.CLOUD_PLATFORM_CREDENTIALS) return path.resolve(environment.CLOUD_PLATFORM_CREDENTIALS);
  const configHome = environment.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(configHome, 'cloud-platform', 'credentials.json');
}

/** Reads saved credentials, or returns undefined when the file does not exist. */
export async function readCredentials(file: string): Promise<SavedCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CredentialsFileError(file, (error as Error).message);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CredentialsFileError(file, `not valid JSON (${(error as Error).message})`);
  }
  const record = parsed as Partial<Record<keyof SavedCredentials, unknown>> | null;
  if (typeof record !== 'object' || record === null || typeof record.url !== 'string') {
    throw new CredentialsFileError(file, 'the "url" field is missing');
  }
  if (typeof record.token !== 'string' && typeof record.session !== 'string') {
    throw new CredentialsFileError(file, 'it has neither a "token" nor a "session" field');
  }
  return {
    url: record.url,
    username: typeof record.username === 'string' ? record.username : '',
    token: typeof record.token === 'string' ? record.token : undefined,
    token_id: Number.isSafeInteger(record.token_id) ? (record.token_id as number) : undefined,
    session: typeof record.session === 'string' ? record.session : undefined,
    session_expires_at: typeof record.session_expires_at === 'string' ? record.session_expires_at : undefined,
  };
}

/**
 * Writes credentials readable by the owner only (file mode 0600, new folders
 * 0700). The file is written under a temporary name and then renamed, so a
 * crash never leaves a half-written file.
 */
export async function saveCredentials(file: string, credentials: SavedCredentials): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // writeFile applies the mode only when it creates the file, and a leftover temporary file keeps its own.
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** Deletes the credentials file; a missing file is not an error. */
export async function removeCredentials(file: string): Promise<void> {
  await rm(file, { force: true });
}
