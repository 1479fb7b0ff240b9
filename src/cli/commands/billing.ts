import type { Command } from 'commander';
import { Decimal } from 'decimal.js';

import { dayOf } from '../../billing/days.js';
import { AdjustmentLogRepository } from '../../db/repositories/adjustment-log.repository.js';
import { BillingRecordRepository } from '../../db/repositories/billing-record.repository.js';
import { InformationSystemRepository } from '../../db/repositories/information-system.repository.js';
import { PriceVersionRepository } from '../../db/repositories/price-version.repository.js';
import { TenantRepository } from '../../db/repositories/tenant.repository.js';
import { DomainError } from '../../errors.js';
import { translate } from '../../i18n/messages.js';
import { parseCode, parseDate, parsePrice } from '../../inventory/validation.js';
import { createContext, print, withDatabase } from '../context.js';
import { formatTable } from '../output.js';
import { invalidArgument } from '../usage.js';

function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
    throw invalidArgument('cli_usage_whole_number', { min: 1, max: 100_000 });
  }
  return Number(value);
}

export function registerPriceCommands(program: Command): void {
  const price = program.command('price').description('定价版本 / price versions');

  price
    .command('add')
    .description('添加定价版本（生效日期须晚于今天）/ add a price version starting after today')
    .requiredOption('--effective-from <date>', '生效日期 YYYY-MM-DD / first day the prices apply')
    .requiredOption('--cpu <CNY>', 'CPU 单价，元/核·时 / CNY per core-hour')
    .requiredOption('--memory <CNY>', '内存单价，元/GB·时 / CNY per GB-hour')
    .requiredOption('--storage <CNY>', '存储单价，元/GB·时 / CNY per GB-hour')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const effectiveFrom = parseDate(options.effectiveFrom, 'effective_from');
      const version = {
        effective_from: effectiveFrom,
        cpu_price: parsePrice(options.cpu, 'cpu'),
        memory_price: parsePrice(options.memory, 'memory'),
        storage_price: parsePrice(options.storage, 'storage'),
      };
      const today = dayOf(new Date(), context.settings.billingTimezone);
      if (effectiveFrom <= today) {
        throw new DomainError('price_version_not_future', { date: effectiveFrom, today }, 'effective_from');
      }

      const created = await withDatabase(context, async ({ db }) => {
        const prices = new PriceVersionRepository(db);
        if (await prices.getByEffectiveFrom(effectiveFrom)) {
          throw new DomainError('price_version_exists', { date: effectiveFrom }, 'effective_from');
        }
        return prices.create(version);
      });
      print(options, created, () => translate('cli_price_added', created, context.locale));
    });

  price
    .command('list')
    .description('列出定价版本 / list price versions')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const rows = await withDatabase(context, ({ db }) => new PriceVersionRepository(db).getAll(), {
        readOnly: true,
      });
      print(options, rows, () =>
        formatTable(rows, ['effective_from', 'cpu_price', 'memory_price', 'storage_price'], {
          locale: context.locale,
          timezone: context.settings.billingTimezone,
        }),
      );
    });
}

export function registerBillingCommands(program: Command): void {
  program
    .command('billing')
    .description('计费记录 / billing records')
    .command('list')
    .description('列出计费记录（按日期倒序）/ list billing records, newest first')
    .option('--system <code>', '信息系统编码 / system code')
    .option('--tenant <code>', '租户编码 / tenant code')
    .option('--from <date>', '起始日期 YYYY-MM-DD（含）/ first day, included')
    .option('--to <date>', '结束日期 YYYY-MM-DD（含）/ last day, included')
    .option('--limit <n>', '最多显示条数 / maximum rows', parseLimit, 200)
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const filter = {
        systemCode: options.system === undefined ? undefined : parseCode(options.system, 'system'),
        tenantCode: options.tenant === undefined ? undefined : parseCode(options.tenant, 'tenant'),
        from: options.from === undefined ? undefined : parseDate(options.from, 'from'),
        to: options.to === undefined ? undefined : parseDate(options.to, 'to'),
        limit: options.limit as number,
      };
      if (filter.from && filter.to && filter.from > filter.to) {
        throw new DomainError('invalid_date_range', { from: filter.from, to: filter.to });
      }

      const { rows, summary } = await withDatabase(
        context,
        async ({ db }) => {
          if (
            filter.systemCode &&
            !(await new InformationSystemRepository(db).getByCode(filter.systemCode))
          ) {
            throw new DomainError('system_not_found', { code: filter.systemCode }, 'system');
          }
          if (filter.tenantCode && !(await new TenantRepository(db).getByCode(filter.tenantCode))) {
            throw new DomainError('tenant_not_found', { code: filter.tenantCode }, 'tenant');
          }
          const records = new BillingRecordRepository(db);
          return {
            rows: await records.getFiltered(filter),
            summary: await records.summarizeFiltered(filter),
          };
        },
        { readOnly: true },
      );

      print(options, rows, () => {
        if (rows.length === 0) return translate('cli_no_rows', {}, context.locale);
        const table = rows.map((row) => ({ ...row, system: row.system_code, tenant: row.tenant_code }));
        return [
          formatTable(
            table,
            [
              'billing_date',
              'tenant',
              'system',
              'run_mode',
              'cpu',
              'memory',
              'storage',
              'discount_rate',
              'amount',
            ],
            { locale: context.locale, timezone: context.settings.billingTimezone },
          ),
          translate(
            rows.length < summary.count ? 'cli_total_partial' : 'cli_total',
            { shown: rows.length, count: summary.count, amount: new Decimal(summary.total).toFixed(2) },
            context.locale,
          ),
        ].join('\n');
      });
    });

  program
    .command('adjustment')
    .description('资源变更记录 / resource adjustment logs')
    .command('list')
    .description('列出资源变更记录（最新在前）/ list resource changes, newest first')
    .option('--system <code>', '信息系统编码 / system code')
    .option('--limit <n>', '最多显示条数 / maximum rows', parseLimit, 200)
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const systemCode = options.system === undefined ? undefined : parseCode(options.system, 'system');
      const rows = await withDatabase(
        context,
        async ({ db }) => {
          if (systemCode && !(await new InformationSystemRepository(db).getByCode(systemCode))) {
            throw new DomainError('system_not_found', { code: systemCode }, 'system');
          }
          return new AdjustmentLogRepository(db).getLatest({ systemCode, limit: options.limit as number });
        },
        { readOnly: true },
      );

      print(options, rows, () => {
        if (rows.length === 0) return translate('cli_no_rows', {}, context.locale);
        const size = (cpu: number | null, memory: string | null, storage: string | null) =>
          cpu === null ? '-' : `${cpu}c/${memory}G/${storage}G`;
        const table = rows.map((row) => ({
          detected_at: row.detected_at,
          effective_date: row.effective_date,
          system: row.system_code,
          change_type: row.change_type,
          vm: row.vm_external_id ?? '',
          before:
            row.change_type === 'run_mode_changed'
              ? row.run_mode_before
              : size(row.cpu_before, row.memory_before, row.storage_before),
          after:
            row.change_type === 'run_mode_changed'
              ? row.run_mode_after
              : size(row.cpu_after, row.memory_after, row.storage_after),
          totals: `${size(row.total_cpu_before, row.total_memory_before, row.total_storage_before)} → ${size(
            row.total_cpu_after,
            row.total_memory_after,
            row.total_storage_after,
          )}`,
        }));
        return formatTable(
          table,
          ['detected_at', 'effective_date', 'system', 'change_type', 'vm', 'before', 'after', 'totals'],
          { locale: context.locale, timezone: context.settings.billingTimezone },
        );
      });
    });
}
