import type { Command } from 'commander';

import { InformationSystemRepository } from '../../db/repositories/information-system.repository.js';
import { DomainError } from '../../errors.js';
import { translate } from '../../i18n/messages.js';
import { readExternalId, validateRecord } from '../../inventory/inventory-record.js';
import type { InventoryRecord } from '../../inventory/source.js';
import {
  buildConnectorSource,
  listSourceDefinitions,
  splitSecrets,
  type SourceDefinition,
} from '../../inventory/sources.js';
import type { SourceConfig } from '../../inventory/connectors/connector.js';
import { createContext, print, withDatabase, type CommandContext } from '../context.js';
import { formatTable } from '../output.js';
import { invalidArgument } from '../usage.js';

/** Rejections listed by `source test`; the count covers all of them. */
const LISTED_REJECTIONS = 10;

/** Exit statuses of `source test`; 2 (bad input) and 3 (database unusable) come from main.ts. */
const SOURCE_TEST_EXIT = {
  /** The sync would import every VM that the source returned. */
  allImportable: 0,
  /** The source could not be read, or the sync would reject every VM it returned. */
  unusable: 1,
  /** The sync would import some VMs and reject the others. */
  partlyRejected: 4,
} as const;

const SOURCE_TEST_HELP = `
退出状态 / exit status:
  0  同步将导入读取到的全部虚拟机 / the sync would import every VM the source returned
  1  无法读取数据源，或同步将拒绝读取到的全部虚拟机 / the source cannot be read, or the sync would reject every VM it returned
  2  输入无效（数据源不存在、参数错误）/ invalid input (no such source, bad option)
  3  无法使用数据库 / the database cannot be used
  4  同步将拒绝部分虚拟机（记录无效或信息系统不存在），其余照常导入 / the sync would reject some VMs (invalid record or unknown information system) and import the rest
预检脚本中，0 表示可以放心同步；能接受部分拒绝时，把 4 也视为通过。
In a pre-flight script, 0 means the sync is safe to run; treat 4 as a pass too where some rejected VMs are acceptable.`;

function parseSampleSize(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 1000) {
    throw invalidArgument('cli_usage_whole_number', { min: 0, max: 1000 });
  }
  return Number(value);
}

/** Describes a source for `source list`: its settings without secrets. */
function describeDefinition(definition: SourceDefinition) {
  let settings: Record<string, unknown> = { ...definition.entry };
  let secretsSet: string[] = [];
  try {
    const { options, secrets } = splitSecrets(definition.entry as SourceConfig);
    settings = options;
    secretsSet = Object.keys(secrets).sort();
  } catch {
    // An unknown type has no known secret fields, so none of its settings are shown.
    settings = {};
  }
  return {
    name: definition.name,
    type: definition.type,
    origin: definition.origin,
    ...(definition.id === undefined ? {} : { id: definition.id }),
    settings,
    secrets_set: secretsSet,
  };
}

function endpointOf(settings: Record<string, unknown>): string {
  const endpoint = settings.auth_url ?? settings.url ?? settings.host ?? settings.path ?? '';
  return typeof endpoint === 'string' ? endpoint : '';
}

async function findDefinition(context: CommandContext, name: string): Promise<SourceDefinition> {
  const definitions = await withDatabase(context, ({ db }) => listSourceDefinitions(context.settings, db));
  const definition = definitions.find((candidate) => candidate.name === name);
  if (!definition) throw new DomainError('inventory_source_not_found', { name });
  return definition;
}

export function registerSourceCommands(program: Command): void {
  const source = program
    .command('source')
    .description('资源清单数据源（OpenStack、Proxmox VE 等）/ inventory sources (OpenStack, Proxmox VE, …)');

  source
    .command('list')
    .description(
      '列出配置文件与数据库中的数据源（不显示密钥）/ list the sources of CONFIG_FILE and the database, without secrets',
    )
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const definitions = await withDatabase(context, ({ db }) =>
        listSourceDefinitions(context.settings, db),
      );
      const rows = definitions.map(describeDefinition);
      print(options, rows, () =>
        rows.length === 0
          ? translate('cli_no_sources', {}, context.locale)
          : formatTable(
              rows.map((row) => ({ ...row, endpoint: endpointOf(row.settings) })),
              ['name', 'type', 'origin', 'endpoint'],
              { locale: context.locale, timezone: context.settings.billingTimezone },
            ),
      );
    });

  source
    .command('test')
    .description(
      '连接数据源并统计将导入的虚拟机，不写入任何数据 / log in to a source and count the VMs it would import; writes nothing',
    )
    .argument('<name>', '数据源名称 / source name')
    .option('--limit <count>', '显示的映射结果条数 / mapped records to print', parseSampleSize, 5)
    .option('--json', '以 JSON 输出 / print JSON')
    .addHelpText('after', SOURCE_TEST_HELP)
    .action(async (name: string, options: { limit: number; json?: boolean }) => {
      const context = createContext();
      const definition = await findDefinition(context, name);

      const { report, systemCodes } = await testSource(context, definition, options.limit);
      await checkSystems(context, report, systemCodes);
      classifyReport(report);
      print(options, report, () => formatReport(context, report));
      process.exitCode = exitStatusOf(report);
    });
}

interface SourceTestReport {
  source: string;
  type: string;
  /**
   * `succeeded`: the sync would import every VM read; `partly_rejected` and
   * `all_rejected`: it would reject some or all of them; `failed`: the source
   * could not be read.
   */
  status: 'succeeded' | 'partly_rejected' | 'all_rejected' | 'failed';
  seconds: number;
  records: number;
  valid: number;
  assigned: number;
  rejected: number;
  rejections: { external_id: string | null; reason: string }[];
  sample: InventoryRecord[];
  /** Valid records whose system is unknown or decommissioned, which the sync would reject. */
  unknown_system_vms: number;
  /** The first of those systems, with their VM counts. */
  unknown_systems: { code: string; vms: number }[];
  /** Number of those systems, listed or not. */
  unknown_system_count: number;
  /** VMs that a sync would import: valid records whose system is unset or active. */
  importable: number;
  error?: string;
  error_code?: string;
}

/** Reads every page of the source and validates each record, as a sync would, without touching the database. */
async function testSource(
  context: CommandContext,
  definition: SourceDefinition,
  limit: number,
): Promise<{ report: SourceTestReport; systemCodes: Map<string, number> }> {
  const started = performance.now();
  const report: SourceTestReport = {
    source: definition.name,
    type: definition.type,
    status: 'succeeded',
    seconds: 0,
    records: 0,
    valid: 0,
    assigned: 0,
    rejected: 0,
    rejections: [],
    sample: [],
    unknown_system_vms: 0,
    unknown_systems: [],
    unknown_system_count: 0,
    importable: 0,
  };
  // System code → valid VMs that name it, checked against the database afterwards.
  const systemCodes = new Map<string, number>();
  const source = buildConnectorSource(definition, { env: process.env, logger: context.logger });

  try {
    for await (const page of source.readPages()) {
      for (const input of page) {
        report.records += 1;
        try {
          const record = validateRecord(input);
          report.valid += 1;
          if (record.system_code !== null) {
            report.assigned += 1;
            systemCodes.set(record.system_code, (systemCodes.get(record.system_code) ?? 0) + 1);
          }
          if (report.sample.length < limit) report.sample.push(record);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          report.rejected += 1;
          if (report.rejections.length < LISTED_REJECTIONS) {
            report.rejections.push({
              external_id: readExternalId(input),
              reason: translate(error.code, error.parameters, context.locale),
            });
          }
        }
      }
    }
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    report.status = 'failed';
    report.error = translate(error.code, error.parameters, context.locale);
    report.error_code = error.code;
  }
  report.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  return { report, systemCodes };
}

/** Counts the VMs whose system code names no active information system, with one read-only query. */
async function checkSystems(
  context: CommandContext,
  report: SourceTestReport,
  systemCodes: Map<string, number>,
): Promise<void> {
  if (report.status === 'failed' || systemCodes.size === 0) return;
  const systems = await withDatabase(context, ({ db }) =>
    new InformationSystemRepository(db).getIdsByCodes([...systemCodes.keys()]),
  );
  const active = new Set(systems.filter((system) => system.status === 'active').map((system) => system.code));
  for (const [code, vms] of systemCodes) {
    if (active.has(code)) continue;
    report.unknown_system_vms += vms;
    report.unknown_system_count += 1;
    if (report.unknown_systems.length < LISTED_REJECTIONS) report.unknown_systems.push({ code, vms });
  }
}

/** Sets the importable count and the status of a source that could be read. */
function classifyReport(report: SourceTestReport): void {
  if (report.status === 'failed') return;
  report.importable = report.valid - report.unknown_system_vms;
  if (report.importable === report.records) report.status = 'succeeded';
  else if (report.importable === 0) report.status = 'all_rejected';
  else report.status = 'partly_rejected';
}

function exitStatusOf(report: SourceTestReport): number {
  switch (report.status) {
    case 'succeeded':
      return SOURCE_TEST_EXIT.allImportable;
    case 'partly_rejected':
      return SOURCE_TEST_EXIT.partlyRejected;
    case 'all_rejected':
    case 'failed':
      return SOURCE_TEST_EXIT.unusable;
  }
}

function formatReport(context: CommandContext, report: SourceTestReport): string {
  const locale = context.locale;
  if (report.status === 'failed') {
    return translate(
      'cli_source_test_failed',
      { name: report.source, records: report.records, error: report.error },
      locale,
    );
  }

  const summary = report.status === 'succeeded' ? 'cli_source_test_succeeded' : 'cli_source_test_read';
  const lines = [translate(summary, { name: report.source, ...report }, locale)];
  if (report.sample.length > 0) {
    lines.push('', translate('cli_source_test_sample', { count: report.sample.length }, locale));
    lines.push(
      formatTable(
        report.sample.map((record) => ({
          external_id: record.external_id,
          name: record.name,
          system: record.system_code ?? '',
          cpu: record.cpu,
          memory: record.memory_gb,
          storage: record.storage_gb,
          status: record.power_status,
        })),
        ['external_id', 'name', 'system', 'cpu', 'memory', 'storage', 'status'],
        { locale, timezone: context.settings.billingTimezone },
      ),
    );
  }
  if (report.unknown_system_vms > 0) {
    const unlisted = report.unknown_system_count - report.unknown_systems.length;
    const systems =
      report.unknown_systems.map((system) => `${system.code} (${system.vms})`).join(', ') +
      (unlisted > 0 ? translate('cli_and_more', { count: unlisted }, locale) : '');
    lines.push(
      '',
      translate('cli_source_test_unknown_systems', { count: report.unknown_system_vms, systems }, locale),
    );
  }
  if (report.rejections.length > 0) {
    lines.push('', translate('cli_source_test_rejections', { count: report.rejected }, locale));
    for (const rejection of report.rejections)
      lines.push(`  ${rejection.external_id ?? '?'}: ${rejection.reason}`);
  }
  const rejected = report.records - report.importable;
  if (report.status === 'all_rejected') {
    lines.push('', translate('cli_source_test_all_rejected', { records: report.records }, locale));
  } else if (report.status === 'partly_rejected') {
    lines.push(
      '',
      translate(
        'cli_source_test_partly_rejected',
        { rejected, records: report.records, importable: report.importable },
        locale,
      ),
    );
  }
  return lines.join('\n');
}
