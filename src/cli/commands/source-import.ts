import type { Command } from 'commander';

import { DomainError } from '../../errors.js';
import { translate, type Locale } from '../../i18n/messages.js';
import type { ImportPlan } from '../../inventory/import-plan.js';
import { importRvtoolsFile, type ImportOutcome } from '../../inventory/rvtools-import.js';
import { createContext, print, withDatabase } from '../context.js';
import { formatTable } from '../output.js';

/** `source import`: applies an RVTools export to an rvtools source, or shows what it would change. */
export function registerSourceImportCommand(source: Command): void {
  source
    .command('import')
    .description(
      '把 RVTools 导出文件导入 rvtools 类型的数据源（作为该数据源的一次同步）/ import an RVTools export into an rvtools source, as one sync of that source',
    )
    .argument(
      '<file>',
      'RVTools 导出的 .xlsx，或另存为 .csv 的 vInfo 页 / RVTools .xlsx export, or its vInfo tab as .csv',
    )
    .requiredOption(
      '--source <name>',
      '数据源名称（type: rvtools）/ name of the rvtools source to import into',
    )
    .option('--dry-run', '只显示将发生的变更，不写入数据 / show what would change and write nothing')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (file: string, options: { source: string; dryRun?: boolean; json?: boolean }) => {
      const context = createContext();
      const outcome = await withDatabase(context, ({ db }) =>
        importRvtoolsFile(db, context.settings, {
          file,
          sourceName: options.source,
          dryRun: options.dryRun === true,
          now: new Date(),
          logger: context.logger,
        }),
      );

      if (!outcome.dry_run && outcome.result.status === 'failed') {
        const { error_code: code, error_parameters: parameters } = outcome.result;
        if (code !== undefined && !options.json) throw new DomainError(code, parameters ?? {});
        print(options, outcome, () => outcome.result.error ?? 'import failed');
        process.exitCode = 1;
        return;
      }
      print(options, outcome, () =>
        describeOutcome(outcome, context.locale, context.settings.billingTimezone),
      );
    });
}

function describeOutcome(outcome: ImportOutcome, locale: Locale, timezone: string): string {
  const sheet = {
    templates: outcome.sheet.templates_skipped,
    blank: outcome.sheet.blank_rows,
    disk_column: outcome.sheet.disk_column ?? '',
  };
  if (!outcome.dry_run) {
    const result = outcome.result;
    const summary = translate(
      'cli_import_applied',
      {
        file: outcome.file,
        source: result.source,
        created: result.created,
        updated: result.updated,
        unchanged: result.unchanged,
        not_seen: result.not_seen,
        missing: result.marked_missing,
        rejected: result.rejected_count,
        ...sheet,
      },
      locale,
    );
    const rejected = result.rejected.map((rejection) => ({
      location: rejection.location ?? `#${rejection.record_number}`,
      external_id: rejection.external_id,
      reason: translate(rejection.code, rejection.parameters, locale),
    }));
    return [
      summary,
      ...section(
        'cli_import_section_rejected',
        rejected,
        ['location', 'external_id', 'reason'],
        result.rejected_count,
        locale,
        timezone,
      ),
    ].join('\n');
  }

  const plan = outcome.plan;
  const summary = translate(
    'cli_import_plan',
    {
      file: outcome.file,
      source: plan.source,
      new: plan.new_count,
      changed: plan.changed_count,
      unchanged: plan.unchanged,
      not_seen: plan.not_seen_count,
      missing: plan.becomes_missing,
      rejected: plan.rejected_count,
      ...sheet,
    },
    locale,
  );
  return [summary, ...planSections(plan, locale, timezone)].join('\n');
}

function planSections(plan: ImportPlan, locale: Locale, timezone: string): string[] {
  const created = plan.new.map((vm) => ({
    location: vm.location,
    external_id: vm.external_id,
    name: vm.name,
    system: vm.system_code,
    cpu: vm.cpu,
    memory: vm.memory_gb,
    storage: vm.storage_gb,
    status: vm.status,
  }));
  const changed = plan.changed.map((vm) => ({
    location: vm.location,
    external_id: vm.external_id,
    name: vm.name,
    changes: Object.entries(vm.changes)
      .map(([field, change]) => `${field}: ${String(change.before ?? '-')}→${String(change.after ?? '-')}`)
      .join('; '),
  }));
  const notSeen = plan.not_seen.map((vm) => ({
    external_id: vm.external_id,
    name: vm.name,
    status: vm.status,
    missed_syncs: vm.missed_syncs,
    becomes_missing: vm.becomes_missing ? 'yes' : 'no',
  }));
  const rejected = plan.rejected.map((rejection) => ({
    location: rejection.location ?? `#${rejection.record_number}`,
    external_id: rejection.external_id,
    reason: translate(rejection.code, rejection.parameters, locale),
  }));

  return [
    ...section(
      'cli_import_section_new',
      created,
      ['location', 'external_id', 'name', 'system', 'cpu', 'memory', 'storage', 'status'],
      plan.new_count,
      locale,
      timezone,
    ),
    ...section(
      'cli_import_section_changed',
      changed,
      ['location', 'external_id', 'name', 'changes'],
      plan.changed_count,
      locale,
      timezone,
    ),
    ...section(
      'cli_import_section_not_seen',
      notSeen,
      ['external_id', 'name', 'status', 'missed_syncs', 'becomes_missing'],
      plan.not_seen_count,
      locale,
      timezone,
    ),
    ...section(
      'cli_import_section_rejected',
      rejected,
      ['location', 'external_id', 'reason'],
      plan.rejected_count,
      locale,
      timezone,
    ),
  ];
}

/** Formats a titled table, or nothing when there are no rows, and notes when the list was cut. */
function section(
  title:
    | 'cli_import_section_new'
    | 'cli_import_section_changed'
    | 'cli_import_section_not_seen'
    | 'cli_import_section_rejected',
  rows: Record<string, unknown>[],
  fields: string[],
  count: number,
  locale: Locale,
  timezone: string,
): string[] {
  if (rows.length === 0) return [];
  const lines = ['', `${translate(title, {}, locale)}:`, formatTable(rows, fields, { locale, timezone })];
  if (count > rows.length) lines.push(translate('cli_import_listed', { shown: rows.length, count }, locale));
  return lines;
}
