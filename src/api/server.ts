import { DomainError } from '../errors.js';
import { translate, type Locale } from '../i18n/messages.js';
import { buildApp, type AppDependencies, type AppOptions } from './app.js';
import { ensureFirstAdmin } from './auth/bootstrap.js';

export type ServerDependencies = AppDependencies & { locale: Locale };

/** Creates the first admin if none exists, and prints a generated password once on stdout. */
export async function bootstrapFirstAdmin(
  deps: Pick<ServerDependencies, 'database' | 'settings' | 'locale'>,
) {
  const admin = await ensureFirstAdmin(deps.database.db, deps.settings.adminPassword);
  if (admin.generatedPassword) {
    // Printed once on stdout for the operator, never logged.
    console.log(
      translate(
        'cli_admin_created',
        { username: admin.username, password: admin.generatedPassword },
        deps.locale,
      ),
    );
  }
}

/** Builds the API and listens on the configured host and port. */
export async function listen(deps: ServerDependencies, appOptions: AppOptions = {}) {
  const app = await buildApp(deps, appOptions);
  let address: string;
  try {
    address = await app.listen({ port: deps.settings.port, host: deps.settings.host });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new DomainError('listen_failed', {
        host: deps.settings.host,
        port: deps.settings.port,
        reason: code,
      });
    }
    throw error;
  }
  deps.logger.info({ address }, 'HTTP API listening');
  return app;
}

/** Creates the first admin if needed, then listens on the configured host and port. */
export async function startServer(deps: ServerDependencies) {
  await bootstrapFirstAdmin(deps);
  return listen(deps);
}
