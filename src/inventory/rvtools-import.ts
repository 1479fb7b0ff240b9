import type { Settings } from '../config/settings.js';
import type { Db } from '../db/database.js';
import { DomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import { syncVmStatus, type SourceSyncResult } from '../monitoring/sync-vm-status.js';
import { parseSourceConfig } from './connectors/registry.js';
import { createRvtoolsSource, type RvtoolsConfig } from './connectors/rvtools.js';
import type { RvtoolsInventorySource } from './connectors/rvtools/rvtools-source.js';
import type { VinfoReadStats } from './connectors/rvtools/vinfo-records.js';
import { planInventoryImport, type ImportPlan } from './import-plan.js';
import { listSourceDefinitions } from './sources.js';

/**
 * `source import`: applies one RVTools export to a configured rvtools source,
 * as one sync of that source in one transaction, or plans it without writing.
 */

export interface ImportOptions {
  file: string;
  sourceName: string;
  dryRun: boolean;
  now: Date;
  logger: Logger;
}

export type ImportOutcome =
  | { dry_run: true; file: string; sheet: VinfoReadStats; plan: ImportPlan }
  | { dry_run: false; file: string; sheet: VinfoReadStats; result: SourceSyncResult };

/** Builds the rvtools source `name` of the settings or the database, reading `file` instead of its path. */
export async function rvtoolsSourceFor(
  db: Db,
  settings: Settings,
  name: string,
  file: string,
): Promise<RvtoolsInventorySource> {
  const definitions = await listSourceDefinitions(settings, db);
  const definition = definitions.find((candidate) => candidate.name === name);
  if (definition === undefined) throw new DomainError('inventory_source_not_found', { name }, 'source');
  if (definition.type !== 'rvtools') {
    throw new DomainError('inventory_source_not_rvtools', { name, type: definition.type }, 'source');
  }
  const { config } = parseSourceConfig(definition.entry, name);
  return createRvtoolsSource(config as RvtoolsConfig, file);
}

/** Plans or applies the import. Throws DomainError when the source or file is unusable. */
export async function importRvtoolsFile(
  db: Db,
  settings: Settings,
  options: ImportOptions,
): Promise<ImportOutcome> {
  const source = await rvtoolsSourceFor(db, settings, options.sourceName, options.file);
  const file = source.path!;

  if (options.dryRun) {
    const plan = await planInventoryImport(db, source, { missingAfterSyncs: settings.missingAfterSyncs });
    return { dry_run: true, file, sheet: source.lastReadStats, plan };
  }

  const run = await syncVmStatus(db, [source], {
    now: options.now,
    taskRunId: null,
    missingAfterSyncs: settings.missingAfterSyncs,
    logger: options.logger,
  });
  return { dry_run: false, file, sheet: source.lastReadStats, result: run.sources[0]! };
}
