/**
 * Messages about process settings (environment variables and CONFIG_FILE)
 * and about inventory-source entries, merged into the catalog in messages.ts.
 * `{name}` placeholders are filled from the message parameters. Messages
 * about secrets (ADMIN_PASSWORD, METRICS_TOKEN) have no `{value}`.
 */
export const settingsMessages = {
  settings_invalid: { 'zh-CN': '配置无效：', en: 'invalid settings:' },
  settings_integer: {
    'zh-CN': '{name}={value} 无效：应为 {min} 到 {max} 之间的整数',
    en: '{name}={value} is invalid: expected an integer from {min} to {max}',
  },
  settings_empty: {
    'zh-CN': '{name}="" 无效：不能为空；删除该项即使用默认值',
    en: '{name}="" is invalid: expected a value; remove the setting to use the default',
  },
  settings_choice: {
    'zh-CN': '{name}={value} 无效：应为 {choices} 之一',
    en: '{name}={value} is invalid: expected one of {choices}',
  },
  settings_cron: {
    'zh-CN': '{name}={value} 无效：应为 cron 表达式，例如 "10 0 * * *"',
    en: '{name}={value} is invalid: expected a cron pattern such as "10 0 * * *"',
  },
  settings_database_url: {
    'zh-CN': '{name}={value} 无效：应以 postgres:// 或 postgresql:// 开头；不设置则使用内置数据库',
    en: '{name}={value} is invalid: expected a URL starting with postgres:// or postgresql://; unset it to use the embedded database',
  },
  settings_timezone: {
    'zh-CN': '{name}={value} 无效：应为 IANA 时区名，例如 Asia/Shanghai',
    en: '{name}={value} is invalid: expected an IANA time zone name such as Asia/Shanghai',
  },
  settings_inventory_file: {
    'zh-CN': '{name}={value} 无效：文件名应以 .json、.yaml 或 .yml 结尾，扩展名决定其格式',
    en: '{name}={value} is invalid: expected a file name ending in .json, .yaml or .yml, which selects its format',
  },
  settings_provider: {
    'zh-CN': '{name}={value} 无效：应为 1 到 32 个小写字母、数字、- 或 _，并以字母开头',
    en: '{name}={value} is invalid: expected 1 to 32 lower-case letters, digits, - or _, starting with a letter',
  },
  settings_provider_reserved: {
    'zh-CN': '{name}={value} 无效：local 保留给产品数据库中的虚拟机；请换一个名称',
    en: '{name}={value} is invalid: local is reserved for the VMs kept in the product database; choose another name',
  },
  settings_admin_password: {
    'zh-CN': '{name} 无效：至少需要 8 个字符（不显示其值）',
    en: '{name} is invalid: expected at least 8 characters (its value is not shown)',
  },
  settings_redis_url: {
    'zh-CN': '{name}={value} 无效：应以 redis:// 或 rediss:// 开头；不设置则在 API 进程中执行任务',
    en: '{name}={value} is invalid: expected a URL starting with redis:// or rediss://; unset it to run tasks in the API process',
  },
  settings_redis_prefix: {
    'zh-CN': '{name}={value} 无效：应为 1 到 64 个字母、数字、.、_ 或 -',
    en: '{name}={value} is invalid: expected 1 to 64 letters, digits, ., _ or -',
  },
  settings_metrics_token_short: {
    'zh-CN': '{name} 无效：至少需要 16 个字符（不显示其值）；可用 openssl rand -hex 32 生成',
    en: '{name} is invalid: expected at least 16 characters (its value is not shown); generate one with: openssl rand -hex 32',
  },
  settings_metrics_token_spaces: {
    'zh-CN': '{name} 无效：不能包含空白字符，因为它作为 Bearer 令牌发送（不显示其值）',
    en: '{name} is invalid: it must not contain spaces, because it is sent as a bearer token (its value is not shown)',
  },
  settings_value_invalid: {
    'zh-CN': '{name}={value} 无效：{detail}',
    en: '{name}={value} is invalid: {detail}',
  },
  settings_redis_without_database: {
    'zh-CN':
      '设置了 REDIS_URL 但未设置 DATABASE_URL：其他进程中的 worker 无法打开内置数据库；请设置 DATABASE_URL=postgres://…，或取消 REDIS_URL',
    en: 'REDIS_URL is set but DATABASE_URL is not: workers in other processes cannot open the embedded database, so set DATABASE_URL=postgres://… or unset REDIS_URL',
  },
  settings_file_unreadable: {
    'zh-CN': 'CONFIG_FILE={file} 无法读取：{error}；请检查路径与文件权限',
    en: 'CONFIG_FILE={file} cannot be read: {error}; check the path and the file permissions',
  },
  settings_file_not_yaml: {
    'zh-CN': 'CONFIG_FILE={file} 不是有效的 YAML：{error}；请按所示的行列改正',
    en: 'CONFIG_FILE={file} is not valid YAML: {error}; correct it at the line and column shown',
  },
  settings_file_not_mapping: {
    'zh-CN': 'CONFIG_FILE={file} 无效：顶层应为"配置名: 值"的映射，例如 port: 8000',
    en: 'CONFIG_FILE={file} is invalid: it must contain a mapping of setting names to values, e.g. port: 8000',
  },
  settings_file_unknown_key: {
    'zh-CN': 'CONFIG_FILE={file} 中的配置项 "{key}" 未知；可用的配置项：{known}',
    en: 'CONFIG_FILE={file} has unknown setting "{key}"; known settings: {known}',
  },
  settings_sources_not_list: {
    'zh-CN': 'CONFIG_FILE={file} 中的 sources 无效：应为数据源列表，每项包含 name、type 及其配置',
    en: 'CONFIG_FILE={file}: sources must be a list of sources, each with name, type and its settings',
  },
  settings_sources_invalid: {
    'zh-CN': 'CONFIG_FILE={file} 中的资源清单数据源无效：',
    en: 'CONFIG_FILE={file} has invalid inventory sources:',
  },

  // Problems of one field of an inventory-source entry. The English texts are
  // also the `problem` of the API's inventory_source_invalid error.
  source_problem_text: { 'zh-CN': '应为文本', en: 'must be a text value' },
  source_problem_empty: { 'zh-CN': '不能为空', en: 'must not be empty' },
  source_problem_required: { 'zh-CN': '缺少：此项为必填', en: 'missing: this setting is required' },
  source_problem_name_pattern: {
    'zh-CN': '应为 1 到 32 个小写字母、数字、- 或 _，并以字母开头，例如 openstack-prod',
    en: 'must be 1 to 32 lower-case letters, digits, - or _, starting with a letter, e.g. openstack-prod',
  },
  source_problem_name_reserved: {
    'zh-CN': 'local 保留给产品数据库中的虚拟机；请换一个名称',
    en: 'local is reserved for the VMs kept in the product database; choose another name',
  },
  source_problem_name_duplicate: {
    'zh-CN': '已被 sources[{first}] 使用；名称同时是其虚拟机的 provider，请为每个数据源取不同的名称',
    en: 'already used by sources[{first}]; the name is also the provider of its VMs, so give each source its own name',
  },
  source_problem_seconds: { 'zh-CN': '应为秒数', en: 'must be a number of seconds' },
  source_problem_seconds_positive: { 'zh-CN': '应大于 0 秒', en: 'must be more than 0 seconds' },
  source_problem_seconds_max: { 'zh-CN': '不能超过 {max} 秒', en: 'must be at most {max} seconds' },
  source_problem_whole_number: { 'zh-CN': '应为整数', en: 'must be a whole number' },
  source_problem_min: { 'zh-CN': '不能小于 {min}', en: 'must be at least {min}' },
  source_problem_max: { 'zh-CN': '不能大于 {max}', en: 'must be at most {max}' },
  source_problem_max_length: { 'zh-CN': '最多 {max} 个字符', en: 'must have at most {max} characters' },
  source_problem_boolean: { 'zh-CN': '应为 true 或 false', en: 'must be true or false' },
  source_problem_pem_path: { 'zh-CN': '应为 PEM 文件的路径', en: 'must be the path of a PEM file' },
  source_problem_url: { 'zh-CN': '应为 URL', en: 'must be a URL' },
  source_problem_http_url: {
    'zh-CN': '应为 http:// 或 https:// 地址，且不含用户名和密码',
    en: 'must be an http:// or https:// URL without user name or password in it',
  },
  source_problem_env_name: {
    'zh-CN': '应为环境变量名',
    en: 'must be the name of an environment variable',
  },
  source_problem_env_name_pattern: {
    'zh-CN': '应为环境变量名，例如 OPENSTACK_PASSWORD',
    en: 'must be the name of an environment variable, e.g. OPENSTACK_PASSWORD',
  },
  source_problem_secret_twice: {
    'zh-CN': '{field} 与 {field}_env 只能给出一个',
    en: 'give either {field} or {field}_env, not both',
  },
  source_problem_secret_missing: {
    'zh-CN': '缺少：请给出 {field}_env（保存该值的环境变量名）或 {field}',
    en: 'missing: give {field}_env (the name of an environment variable that holds it) or {field}',
  },
  source_problem_entry_mapping: {
    'zh-CN': '应为配置项的映射',
    en: 'must be a mapping of settings',
  },
  source_problem_type_missing: {
    'zh-CN': '缺少：应为 {types} 之一',
    en: 'missing: use one of {types}',
  },
  source_problem_type_unknown: {
    'zh-CN': '"{type}" 不是已知类型：应为 {types} 之一',
    en: '"{type}" is not a known type: use one of {types}',
  },
  source_problem_unknown_keys: {
    'zh-CN': '未知配置项 {keys}；可用的配置项：{known}',
    en: 'unknown setting(s) {keys}; known settings: {known}',
  },
  source_problem_interface: {
    'zh-CN': '应为 public、internal 或 admin',
    en: 'must be public, internal or admin',
  },
  source_problem_proxmox_token_id: {
    'zh-CN': '格式应为 用户@域!令牌ID，例如 billing@pve!sync',
    en: 'must have the form USER@REALM!TOKENID, e.g. billing@pve!sync',
  },
  source_problem_rvtools_path: {
    'zh-CN': '应为 RVTools 导出文件的路径',
    en: 'must be the path of an RVTools export',
  },
  source_problem_rvtools_extension: {
    'zh-CN': '应以 .xlsx 结尾，或以 .csv 结尾（vInfo 页另存为 CSV）',
    en: 'must end in .xlsx, or in .csv for the vInfo tab saved as CSV',
  },
  source_problem_rules_list: { 'zh-CN': '应为规则列表', en: 'must be a list of rules' },
  source_problem_rule_system_code: {
    'zh-CN': 'system_code 应为 1 到 64 个字母、数字、点、下划线或连字符',
    en: 'system_code must be 1 to 64 letters, digits, dots, underscores or hyphens',
  },
  source_problem_rule_fields: {
    'zh-CN': '每条映射规则必须且只能包含 cluster、folder、name 之一；实际为：{fields}',
    en: 'a mapping rule needs exactly one of cluster, folder or name; got {fields}',
  },
  source_problem_rule_regex: {
    'zh-CN': '正则表达式 {pattern} 无效：{error}',
    en: 'invalid regular expression {pattern}: {error}',
  },
  source_problem_vsphere_api: {
    'zh-CN': '应为 api（vCenter 7.0U2 及以后）、rest（6.5 至 7.0U1）或 auto（先试 api，再试 rest）',
    en: 'must be api (vCenter 7.0U2 and later), rest (6.5 to 7.0U1) or auto (try api, then rest)',
  },
  source_problem_tag_category: {
    'zh-CN': '应为 vSphere 标签类别的名称',
    en: 'must be the name of a vSphere tag category',
  },
  source_problem_other: { 'zh-CN': '无效：{detail}', en: '{detail}' },
} as const;

export type SourceProblemCode = Extract<keyof typeof settingsMessages, `source_problem_${string}`>;

/** Returns whether `text` is the code of a source problem, as the connector schemas use it for a zod message. */
export function isSourceProblemCode(text: string): text is SourceProblemCode {
  return text.startsWith('source_problem_') && text in settingsMessages;
}

/** Returns `code` as a zod error message that registry.ts turns into a localized problem. */
export function sourceProblem(code: SourceProblemCode): string {
  return code;
}
