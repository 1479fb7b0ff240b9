import type { Settings } from '../config/settings.js';
import type { Db } from '../db/database.js';
import { InventorySourceRepository } from '../db/repositories/inventory-source.repository.js';
import type { InventorySourceRow } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ConnectorContext, SourceConfig } from './connectors/connector.js';
import { getConnector, parseSourceConfig } from './connectors/registry.js';
import { FileInventorySource } from './file-source.js';
import { LocalInventorySource } from './local-source.js';
import type { InventoryRecordInput, InventorySource } from './source.js';

/** Origin of a connector source: the `sources:` list of CONFIG_FILE, or the database (API). */
export type SourceOrigin = 'config_file' | 'database';

/** A connector source entry and where it comes from. */
export interface SourceDefinition {
  origin: SourceOrigin;
  /** Row id of a database source. */
  id?: number;
  /** The entry as stored, secrets included. Validated when the source is built. */
  entry: Record<string, unknown>;
  name: string;
  type: string;
}

export interface BuildSourcesOptions {
  /** Database whose inventory_sources are added; omitted, only the config file's sources are built. */
  db?: Db;
  logger?: Logger;
  /** Environment that `*_env` fields are read from; process.env by default. */
  env?: Record<string, string | undefined>;
}

/** Returns the entry of a database source: its options with its inline secrets put back. */
export function entryOfRow(row: InventorySourceRow): Record<string, unknown> {
  return { ...row.options, ...row.secrets, name: row.name, type: row.type };
}

/** Splits an entry into its settings and its inline secrets, by its connector's secret fields. */
export function splitSecrets(config: SourceConfig): {
  options: Record<string, unknown>;
  secrets: Record<string, string>;
} {
  const connector = getConnector(config.type, config.name);
  const options: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [field, value] of Object.entries(config)) {
    if (field === 'name' || field === 'type' || value === undefined) continue;
    if (connector.secretFields.includes(field) && typeof value === 'string') secrets[field] = value;
    else options[field] = value;
  }
  return { options, secrets };
}

/**
 * Lists the connector sources of the config file and of the database. Throws
 * DomainError when a name is used twice, because the name is the provider of
 * the source's VMs.
 */
export async function listSourceDefinitions(settings: Settings, db?: Db): Promise<SourceDefinition[]> {
  const definitions: SourceDefinition[] = settings.inventorySources.map((config) => ({
    origin: 'config_file',
    entry: config,
    name: config.name,
    type: config.type,
  }));
  if (db) {
    for (const row of await new InventorySourceRepository(db).getAll()) {
      definitions.push({
        origin: 'database',
        id: row.id,
        entry: entryOfRow(row),
        name: row.name,
        type: row.type,
      });
    }
  }

  const seen = new Map<string, SourceDefinition>();
  for (const definition of definitions) {
    const first = seen.get(definition.name);
    if (first) {
      throw new DomainError('inventory_source_name_duplicate', {
        name: definition.name,
        first: describeOrigin(first),
        second: describeOrigin(definition),
      });
    }
    seen.set(definition.name, definition);
  }
  return definitions;
}

export function describeOrigin(definition: Pick<SourceDefinition, 'origin' | 'id'>): string {
  return definition.origin === 'config_file' ? 'CONFIG_FILE sources' : `database source id ${definition.id}`;
}

/**
 * Builds one connector source. A source whose entry is invalid, or whose
 * secret or CA file cannot be read, is returned as a source that fails when
 * read, so that only its own sync fails.
 */
export function buildConnectorSource(
  definition: SourceDefinition,
  context: ConnectorContext,
): InventorySource {
  try {
    const { config, connector } = parseSourceConfig(definition.entry, definition.name);
    return connector.create(config, context);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return new UnavailableSource(definition.name, error);
  }
}

/**
 * Builds every inventory source: the own database, the INVENTORY_FILE when
 * set, the `sources:` of CONFIG_FILE and, when `db` is given, the sources
 * added through the API.
 */
export async function buildInventorySources(
  settings: Settings,
  options: BuildSourcesOptions = {},
): Promise<InventorySource[]> {
  const sources: InventorySource[] = [new LocalInventorySource()];
  if (settings.inventoryFile) {
    sources.push(
      new FileInventorySource({ path: settings.inventoryFile, provider: settings.inventoryFileProvider }),
    );
  }

  const context: ConnectorContext = {
    env: options.env ?? process.env,
    logger: options.logger ?? silentLogger,
  };
  for (const definition of await listSourceDefinitions(settings, options.db)) {
    sources.push(buildConnectorSource(definition, context));
  }
  return sources;
}

/** A configured source that cannot be built; reading it throws the reason, which fails its sync alone. */
export class UnavailableSource implements InventorySource {
  readonly ownDatabase = false;
  readonly provider: string;

  constructor(
    readonly name: string,
    readonly error: DomainError,
  ) {
    this.provider = name;
  }

  // eslint-disable-next-line require-yield
  async *readPages(): AsyncGenerator<InventoryRecordInput[]> {
    throw this.error;
  }
}
