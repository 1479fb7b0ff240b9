import cluster, { type Worker } from 'node:cluster';

import type { Settings } from '../config/settings.js';
import { migrate, openDatabase } from '../db/database.js';
import { DomainError } from '../errors.js';
import { translate, type Locale } from '../i18n/messages.js';
import type { Logger } from '../logger.js';
import { openTaskDispatcher } from '../distributed/dispatcher.js';
import { ClusterRateLimitStore, RateLimitCounters } from './cluster-rate-limit.js';
import { bootstrapFirstAdmin, listen } from './server.js';

/**
 * `serve` with several processes (API_WORKERS > 1) on node:cluster. The
 * primary applies migrations and creates the first admin once, then forks the
 * workers, which all accept connections on the same port (the primary hands
 * connections out round-robin on Linux). Each worker has its own connection
 * pool and task runner. The primary keeps the rate limit counters of all
 * workers. PGlite cannot be shared by processes, so workers need PostgreSQL.
 */

export interface ServeContext {
  settings: Settings;
  logger: Logger;
  locale: Locale;
}

/** Returns whether this process is a worker forked by `runClusterPrimary`. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** Throws unless `settings` allow several API processes. */
export function checkWorkerSettings(settings: Settings): void {
  if (settings.apiWorkers > 1 && !settings.databaseUrl) {
    throw new DomainError('api_workers_need_postgres', { workers: settings.apiWorkers });
  }
}

/**
 * Runs the cluster primary until `shutdownRequested` resolves and every worker
 * has stopped. A worker that exits before it listens stops the whole server
 * with an error. One that exits while serving is replaced.
 */
export async function runClusterPrimary(
  context: ServeContext,
  shutdownRequested: Promise<void>,
): Promise<void> {
  const { settings, logger, locale } = context;
  checkWorkerSettings(settings);

  const database = await openDatabase({ databaseUrl: settings.databaseUrl, logger });
  try {
    await migrate(database.db);
    await bootstrapFirstAdmin({ database, settings, locale });
  } finally {
    await database.close();
  }

  const counters = new RateLimitCounters();
  const workers = new Set<Worker>();
  const listening = new Set<Worker>();
  let announced = false;
  let stopping = false;
  let failure: Error | undefined;

  await new Promise<void>((resolve, reject) => {
    const fork = () => {
      const worker = cluster.fork();
      workers.add(worker);
      counters.attach(worker);
    };
    const stopWorkers = () => {
      stopping = true;
      if (workers.size === 0) finish();
      for (const worker of workers) worker.process.kill('SIGTERM');
    };
    const finish = () => (failure ? reject(failure) : resolve());

    cluster.on('listening', (worker) => {
      listening.add(worker);
      if (announced || listening.size < settings.apiWorkers) return;
      announced = true;
      logger.info({ workers: settings.apiWorkers }, 'all API workers listening');
      console.log(translate('cli_listening', { url: `http://${settings.host}:${settings.port}` }, locale));
    });

    cluster.on('exit', (worker, code, signal) => {
      workers.delete(worker);
      const hadListened = listening.delete(worker);
      const pid = worker.process.pid;
      if (stopping) {
        if (workers.size === 0) finish();
        return;
      }
      // A worker that cannot start would fail again if replaced (port in use, database down).
      if (!hadListened) {
        failure = new DomainError('api_worker_start_failed', { pid, status: code ?? signal });
        stopWorkers();
        return;
      }
      logger.error({ pid, code, signal }, 'API worker exited; starting a replacement');
      fork();
    });

    for (let index = 0; index < settings.apiWorkers; index++) fork();
    void shutdownRequested.then(stopWorkers);
  });
}

/** Runs one cluster worker: serves the API until `shutdownRequested` resolves, then waits for its task runs. */
export async function runClusterWorker(
  context: ServeContext,
  shutdownRequested: Promise<void>,
): Promise<void> {
  const { settings, logger, locale } = context;
  const database = await openDatabase({
    databaseUrl: settings.databaseUrl,
    poolSize: settings.databasePoolSize,
    logger,
  });
  try {
    const { tasks, queueDepths } = await openTaskDispatcher(database, settings, logger);
    const server = await listen(
      { database, tasks, queueDepths, settings, logger, locale },
      { rateLimitStore: ClusterRateLimitStore },
    );
    await shutdownRequested;
    await server.close();
    await tasks.close();
  } finally {
    await database.close();
    // The IPC channel to the primary would keep the process alive after its work is done.
    cluster.worker?.disconnect();
  }
}
