/**
 * User-facing messages in Simplified Chinese and English, keyed by a stable
 * code. `{name}` placeholders are filled from the message parameters.
 */

export type Locale = 'zh-CN' | 'en';

export type MessageParameters = Record<string, string | number | null | undefined>;

const catalog = {
  invalid_date: {
    'zh-CN': '日期 "{value}" 无效：请使用 YYYY-MM-DD 格式的真实日期，例如 2026-01-31',
    en: 'invalid date "{value}": use a calendar date in the form YYYY-MM-DD, e.g. 2026-01-31',
  },
  invalid_date_range: {
    'zh-CN': '日期范围无效：开始日期 {from} 晚于结束日期 {to}',
    en: 'invalid date range: {from} is after {to}',
  },
  date_range_too_long: {
    'zh-CN': '日期范围 {from} 至 {to} 共 {days} 天，超过上限 {max} 天；请分段执行',
    en: 'date range {from} to {to} spans {days} days, more than the maximum of {max}; run it in parts',
  },
  invalid_discount_rate: {
    'zh-CN': '折扣率 "{value}" 无效：应为大于 0 且不超过 1 的小数，最多四位小数（1 为原价，0.8 为八折）',
    en: 'invalid discount rate "{value}": use a decimal above 0 and at most 1 with up to four decimals (1 = list price, 0.8 = 80 %)',
  },
  invalid_run_mode: {
    'zh-CN': '运行模式 "{value}" 无效：应为 7x24 或 5x8',
    en: 'invalid run mode "{value}": use 7x24 or 5x8',
  },
  invalid_code: {
    'zh-CN': '{field} "{value}" 无效：应为 1 到 64 个字母、数字、点、下划线或连字符，并以字母或数字开头',
    en: 'invalid {field} "{value}": use 1 to 64 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
  },
  invalid_name: {
    'zh-CN': '{field} 无效：名称不能为空，且不超过 {max} 个字符',
    en: 'invalid {field}: a name must not be empty and must have at most {max} characters',
  },
  invalid_cpu: {
    'zh-CN': 'CPU 核数 "{value}" 无效：应为 0 到 {max} 之间的整数',
    en: 'invalid cpu "{value}": use a whole number of cores from 0 to {max}',
  },
  invalid_size: {
    'zh-CN': '{field} "{value}" 无效：应为 0 到 {max} 之间的数值（单位 GB），最多六位小数',
    en: 'invalid {field} "{value}": use a number of GB from 0 to {max} with up to six decimals',
  },
  invalid_price: {
    'zh-CN': '{field} "{value}" 无效：应为不小于 0 的金额（元），最多六位小数',
    en: 'invalid {field} "{value}": use an amount in CNY of at least 0 with up to six decimals',
  },
  nothing_to_change: {
    'zh-CN': '未指定要修改的内容：请至少给出 {options} 中的一项',
    en: 'nothing to change: give at least one of {options}',
  },
  tenant_not_found: {
    'zh-CN': '租户 "{code}" 不存在；可用 `cloud-platform tenant list` 查看已有租户',
    en: 'tenant "{code}" not found; `cloud-platform tenant list` shows the existing tenants',
  },
  tenant_exists: {
    'zh-CN': '租户编码 "{code}" 已存在',
    en: 'tenant code "{code}" already exists',
  },
  system_not_found: {
    'zh-CN': '信息系统 "{code}" 不存在；可用 `cloud-platform system list` 查看已有信息系统',
    en: 'information system "{code}" not found; `cloud-platform system list` shows the existing systems',
  },
  system_exists: {
    'zh-CN': '信息系统编码 "{code}" 已存在',
    en: 'information system code "{code}" already exists',
  },
  system_decommissioned: {
    'zh-CN': '信息系统 "{code}" 已于 {at} 下线，不能再修改',
    en: 'information system "{code}" was decommissioned at {at} and cannot change',
  },
  run_mode_unchanged: {
    'zh-CN': '信息系统 "{code}" 的运行模式已是 {value}',
    en: 'information system "{code}" already runs in mode {value}',
  },
  vm_not_found: {
    'zh-CN': '虚拟机 "{external_id}" 不存在于本地资源清单（provider {provider}）',
    en: 'virtual machine "{external_id}" not found in the local inventory (provider {provider})',
  },
  vm_exists: {
    'zh-CN': '虚拟机 "{external_id}" 已存在于 provider {provider}',
    en: 'virtual machine "{external_id}" already exists for provider {provider}',
  },
  vm_deleted: {
    'zh-CN': '虚拟机 "{external_id}" 已删除，不能再修改',
    en: 'virtual machine "{external_id}" is deleted and cannot change',
  },
  invalid_external_id: {
    'zh-CN': '虚拟机外部 ID "{value}" 无效：不能为空，且不超过 255 个字符',
    en: 'invalid external id "{value}": it must not be empty and must have at most 255 characters',
  },
  price_version_exists: {
    'zh-CN': '生效日期为 {date} 的定价版本已存在',
    en: 'a price version effective from {date} already exists',
  },
  unknown_task: {
    'zh-CN': '任务 "{name}" 不存在；可用任务：{names}',
    en: 'unknown task "{name}"; tasks: {names}',
  },
  task_arguments_not_supported: {
    'zh-CN': '任务 {name} 不接受参数 {options}',
    en: 'task {name} takes no {options} option',
  },
  task_already_running: {
    'zh-CN': '任务 {name} 正在执行（执行记录 {run_id}），请等待其完成',
    en: 'task {name} is already running (run {run_id}); wait for it to finish',
  },
  no_price_version: {
    'zh-CN': '{date} 没有生效的定价版本；请添加生效日期不晚于该日的定价版本',
    en: 'no price version is in force on {date}; add one with an effective_from on or before it',
  },
  invalid_option: {
    'zh-CN': '参数 {option} 的值 "{value}" 无效：{hint}',
    en: 'invalid value "{value}" for {option}: {hint}',
  },
} as const satisfies Record<string, Record<Locale, string>>;

export type MessageCode = keyof typeof catalog;

/** Picks the locale from a LANG-style value (`zh_CN.UTF-8`, `en_US.UTF-8`); zh-CN unless it names English. */
export function localeFromLang(lang: string | undefined): Locale {
  return lang && /^en([_-]|$)/i.test(lang) ? 'en' : 'zh-CN';
}

export function translate(code: MessageCode, parameters: MessageParameters, locale: Locale): string {
  const template: string = catalog[code][locale];
  return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
    const value = parameters[name];
    return value === undefined || value === null ? placeholder : String(value);
  });
}
