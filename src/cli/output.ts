import { DateTime } from 'luxon';
import stringWidth from 'string-width';

import type { Locale } from '../i18n/messages.js';

/** Column headers in both languages, keyed by the field they show. */
const HEADERS: Record<string, Record<Locale, string>> = {
  code: { 'zh-CN': '编码', en: 'code' },
  name: { 'zh-CN': '名称', en: 'name' },
  tenant: { 'zh-CN': '租户', en: 'tenant' },
  system: { 'zh-CN': '信息系统', en: 'system' },
  discount_rate: { 'zh-CN': '折扣率', en: 'discount rate' },
  status: { 'zh-CN': '状态', en: 'status' },
  run_mode: { 'zh-CN': '运行模式', en: 'run mode' },
  total_cpu: { 'zh-CN': 'CPU(核)', en: 'cpu (cores)' },
  total_memory: { 'zh-CN': '内存(GB)', en: 'memory (GB)' },
  total_storage: { 'zh-CN': '存储(GB)', en: 'storage (GB)' },
  cpu: { 'zh-CN': 'CPU(核)', en: 'cpu (cores)' },
  memory: { 'zh-CN': '内存(GB)', en: 'memory (GB)' },
  storage: { 'zh-CN': '存储(GB)', en: 'storage (GB)' },
  provider: { 'zh-CN': '来源', en: 'provider' },
  external_id: { 'zh-CN': '外部 ID', en: 'external id' },
  billing_date: { 'zh-CN': '计费日期', en: 'billing date' },
  billed_hours: { 'zh-CN': '计费小时', en: 'hours' },
  gross_amount: { 'zh-CN': '原价金额', en: 'gross' },
  amount: { 'zh-CN': '金额(元)', en: 'amount (CNY)' },
  change_type: { 'zh-CN': '变更类型', en: 'change type' },
  vm: { 'zh-CN': '虚拟机', en: 'vm' },
  before: { 'zh-CN': '变更前', en: 'before' },
  after: { 'zh-CN': '变更后', en: 'after' },
  totals: { 'zh-CN': '系统总量(前→后)', en: 'system totals (before→after)' },
  detected_at: { 'zh-CN': '检测时间', en: 'detected at' },
  effective_date: { 'zh-CN': '生效日期', en: 'effective date' },
  effective_from: { 'zh-CN': '生效日期', en: 'effective from' },
  cpu_price: { 'zh-CN': 'CPU 单价(元/核·时)', en: 'cpu price (CNY/core-hour)' },
  memory_price: { 'zh-CN': '内存单价(元/GB·时)', en: 'memory price (CNY/GB-hour)' },
  storage_price: { 'zh-CN': '存储单价(元/GB·时)', en: 'storage price (CNY/GB-hour)' },
  task: { 'zh-CN': '任务', en: 'task' },
  queue: { 'zh-CN': '队列', en: 'queue' },
  schedule: { 'zh-CN': '计划(cron)', en: 'schedule (cron)' },
  next_run: { 'zh-CN': '下次执行', en: 'next run' },
  timezone: { 'zh-CN': '时区', en: 'time zone' },
  action: { 'zh-CN': '操作', en: 'action' },
  last_run: { 'zh-CN': '上次执行', en: 'last run' },
  created_at: { 'zh-CN': '创建时间', en: 'created at' },
  location: { 'zh-CN': '位置', en: 'location' },
  changes: { 'zh-CN': '变更(原→新)', en: 'changes (old→new)' },
  reason: { 'zh-CN': '原因', en: 'reason' },
  missed_syncs: { 'zh-CN': '连续未出现次数', en: 'missed syncs' },
  becomes_missing: { 'zh-CN': '将标记失联', en: 'becomes missing' },
  type: { 'zh-CN': '类型', en: 'type' },
  origin: { 'zh-CN': '配置位置', en: 'configured in' },
  endpoint: { 'zh-CN': '地址', en: 'endpoint' },
};

export function header(field: string, locale: Locale): string {
  return HEADERS[field]?.[locale] ?? field;
}

function pad(text: string, width: number, alignRight: boolean): string {
  const gap = ' '.repeat(Math.max(0, width - stringWidth(text)));
  return alignRight ? gap + text : text + gap;
}

/**
 * Formats rows as an aligned text table. Numeric-looking columns align right;
 * instants show as local time in `timezone` (the billing time zone).
 */
export function formatTable(
  rows: Record<string, unknown>[],
  fields: string[],
  options: { locale: Locale; timezone: string },
): string {
  const locale = options.locale;
  const cells = rows.map((row) => fields.map((field) => formatCell(row[field], options.timezone)));
  const titles = fields.map((field) => header(field, locale));
  const widths = fields.map((_, column) =>
    Math.max(stringWidth(titles[column]!), ...cells.map((line) => stringWidth(line[column]!))),
  );
  const numeric = fields.map(
    (_, column) => cells.length > 0 && cells.every((line) => /^-?[\d.]*$/.test(line[column]!)),
  );

  const lines = [
    titles.map((title, column) => pad(title, widths[column]!, numeric[column]!)).join('  '),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...cells.map((line) =>
      line.map((cell, column) => pad(cell, widths[column]!, numeric[column]!)).join('  '),
    ),
  ];
  return lines.join('\n');
}

function formatCell(value: unknown, timezone: string): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date)
    return DateTime.fromJSDate(value, { zone: timezone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Serializes a value for `--json` output; Dates become ISO strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
