import { DomainError } from '../errors.js';
import { translate, type Locale } from '../i18n/messages.js';
import { buildApp, type AppDependencies } from './app.js';
import { ensureFirstAdmin } from './auth/bootstrap.js';

/** Creates the first admin if needed, then listens on the configured host and port. */
export async function startServer(deps: AppDependencies & { locale: Locale }) {
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

  const app = await buildApp(deps);
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
