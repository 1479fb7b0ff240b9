/**
 * User-facing messages in Simplified Chinese and English, keyed by a stable
 * code. `{name}` placeholders are filled from the message parameters.
 */

import { cliMessages } from './cli-messages.js';
import { connectorMessages } from './connector-messages.js';
import { settingsMessages } from './settings-messages.js';

export type Locale = 'zh-CN' | 'en';

export type MessageParameters = Record<string, unknown>;

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
  text_has_nul: {
    'zh-CN': '{field} 含有空字符（U+0000），PostgreSQL 无法保存；请删除该字符',
    en: '{field} contains the NUL character (U+0000), which PostgreSQL cannot store; remove it',
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
    'zh-CN': '{field} "{value}" 无效：应为 0 到 {max} 之间的数值（单位 GB），最多 {decimals} 位小数',
    en: 'invalid {field} "{value}": use a number of GB from 0 to {max} with up to {decimals} decimals',
  },
  invalid_price: {
    'zh-CN': '{field} "{value}" 无效：应为不小于 0 的金额（元），最多六位小数',
    en: 'invalid {field} "{value}": use an amount in CNY of at least 0 with up to six decimals',
  },
  nothing_to_change: {
    'zh-CN': '未指定要修改的内容：请至少给出 {options} 中的一项',
    en: 'nothing to change: give at least one of {options}',
  },
  unknown_tenant_id: {
    'zh-CN': '不存在 id 为 {id} 的租户；可用 GET /api/tenants/ 查看已有租户',
    en: 'no tenant has the id {id}; GET /api/tenants/ lists the existing tenants',
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
  inventory_record_not_object: {
    'zh-CN': '记录无效：每条记录应为包含 external_id、name、cpu 等字段的对象',
    en: 'invalid record: each record must be an object with external_id, name, cpu and the other fields',
  },
  inventory_field_missing: {
    'zh-CN': '缺少必填字段 {field}',
    en: 'missing required field {field}',
  },
  inventory_field_not_text: {
    'zh-CN': '{field} 的值 {value} 不是字符串；在 YAML 中请给纯数字的值加引号，例如 "0012"',
    en: '{field} {value} is not a string; quote numeric values in YAML, e.g. "0012"',
  },
  invalid_power_status: {
    'zh-CN': '电源状态 "{value}" 无效：应为 running、stopped、suspended、error、deleted 或 unknown',
    en: 'invalid power_status "{value}": use running, stopped, suspended, error, deleted or unknown',
  },
  duplicate_external_id: {
    'zh-CN': '外部 ID "{external_id}" 在本次同步中重复出现：已采用第 {first} 条记录，本条被拒绝',
    en: 'external id "{external_id}" appears more than once in this sync: record {first} was used and this one is rejected',
  },
  inventory_system_decommissioned: {
    'zh-CN': '信息系统 "{code}" 已于 {at} 下线，不能再分配虚拟机；请改为在用的信息系统，或留空 system_code',
    en: 'information system "{code}" was decommissioned at {at} and cannot take VMs; use an active system or leave system_code empty',
  },
  inventory_file_extension: {
    'zh-CN': '资源清单文件 {file} 的扩展名无效：应为 .json、.yaml 或 .yml',
    en: 'invalid inventory file name {file}: it must end in .json, .yaml or .yml',
  },
  inventory_file_unreadable: {
    'zh-CN': '无法读取资源清单文件 {file}：{error}',
    en: 'cannot read inventory file {file}: {error}',
  },
  inventory_file_invalid: {
    'zh-CN': '资源清单文件 {file} 不是有效的 {format}：{error}',
    en: 'inventory file {file} is not valid {format}: {error}',
  },
  inventory_file_shape: {
    'zh-CN': '资源清单文件 {file} 的内容无效：应为记录列表，或包含 vms 列表的对象；空清单请写 vms: []',
    en: 'invalid content in inventory file {file}: use a list of records or an object with a vms list; write vms: [] for an empty inventory',
  },
  inventory_provider_conflict: {
    'zh-CN':
      '资源清单数据源 {source} 的 provider "{provider}" 已被 {other} 使用；请为每个数据源配置不同的 provider',
    en: 'provider "{provider}" of inventory source {source} is already used by {other}; give each source its own provider',
  },
  inventory_source_invalid: {
    'zh-CN': '资源清单数据源 {source} 的配置项 {field} 无效：{problem_zh}',
    en: 'invalid setting {field} of inventory source {source}: {problem}',
  },
  inventory_source_type_unknown: {
    'zh-CN': '资源清单数据源 {source} 的类型 "{type}" 无效：应为 {types} 之一',
    en: 'invalid type "{type}" of inventory source {source}: use one of {types}',
  },
  inventory_source_name_duplicate: {
    'zh-CN':
      '资源清单数据源名称 "{name}" 重复（{first} 与 {second}）；名称同时是虚拟机的 provider，请为每个数据源取不同的名称',
    en: 'inventory source name "{name}" is used twice ({first} and {second}); the name is also the provider of its VMs, so give each source its own name',
  },
  inventory_source_exists: {
    'zh-CN': '资源清单数据源 "{name}" 已存在（{origin}）；请换一个名称',
    en: 'inventory source "{name}" already exists ({origin}); choose another name',
  },
  inventory_source_not_found: {
    'zh-CN': '资源清单数据源 "{name}" 不存在；可用 `cloud-platform source list` 查看已配置的数据源',
    en: 'inventory source "{name}" not found; `cloud-platform source list` shows the configured sources',
  },
  inventory_source_field_fixed: {
    'zh-CN': '资源清单数据源的 {field} 不能修改，因为其虚拟机按数据源名称保存；请删除该数据源后重新添加',
    en: '{field} of an inventory source cannot change, because its VMs are stored under the source name; delete the source and add a new one',
  },
  inventory_source_secret_missing: {
    'zh-CN':
      '资源清单数据源 {source} 的 {field} 指定的环境变量 {variable} 未设置或为空；请在运行该进程的环境中设置它',
    en: 'environment variable {variable}, named by {field} of inventory source {source}, is unset or empty; set it in the environment of the process',
  },
  inventory_source_ca_file_unreadable: {
    'zh-CN': '无法读取资源清单数据源 {source} 的 ca_file {file}：{error}；请给出 PEM 格式 CA 证书文件的路径',
    en: 'cannot read ca_file {file} of inventory source {source}: {error}; give the path of a PEM file with the CA certificates',
  },
  inventory_source_request_failed: {
    'zh-CN':
      '资源清单数据源 {source}：{method} {url} 失败（已尝试 {attempts} 次）：{error}；请检查地址与网络',
    en: 'inventory source {source}: {method} {url} failed after {attempts} attempt(s): {error}; check the URL and the network',
  },
  inventory_source_tls_failed: {
    'zh-CN':
      '资源清单数据源 {source}：{method} {url} 的 TLS 证书校验失败：{error}；请用 ca_file 指定签发该证书的 CA',
    en: 'inventory source {source}: TLS certificate verification failed for {method} {url}: {error}; set ca_file to the CA that signed the certificate',
  },
  inventory_source_timeout: {
    'zh-CN':
      '资源清单数据源 {source}：{method} {url} 超时（{seconds} 秒，已尝试 {attempts} 次）；可调大 timeout_seconds',
    en: 'inventory source {source}: {method} {url} timed out after {seconds} s ({attempts} attempt(s)); raise timeout_seconds if the platform is slow',
  },
  inventory_source_http_error: {
    'zh-CN': '资源清单数据源 {source}：{method} {url} 返回 HTTP {status}（已尝试 {attempts} 次）：{detail}',
    en: 'inventory source {source}: {method} {url} answered HTTP {status} after {attempts} attempt(s): {detail}',
  },
  inventory_source_invalid_json: {
    'zh-CN': '资源清单数据源 {source} 在 {url} 返回了无效的 JSON：{error}',
    en: 'inventory source {source} answered invalid JSON at {url}: {error}',
  },
  inventory_source_response_too_large: {
    'zh-CN': '资源清单数据源 {source} 在 {url} 的响应超过 {max} 字节，已停止读取',
    en: 'inventory source {source} answered more than {max} bytes at {url}; reading stopped',
  },
  inventory_source_unexpected_answer: {
    'zh-CN': '资源清单数据源 {source} 在 {url} 的响应格式不符：{problem}',
    en: 'inventory source {source} answered an unexpected shape at {url}: {problem}',
  },
  inventory_source_login_failed: {
    'zh-CN': '资源清单数据源 {source} 登录失败：{problem}',
    en: 'login to inventory source {source} failed: {problem}',
  },
  inventory_source_endpoint_missing: {
    'zh-CN':
      '资源清单数据源 {source} 的服务目录中没有 {service} 服务在区域 {region}、接口 {interface} 的端点；请检查 region 与 interface 配置',
    en: 'the service catalog of inventory source {source} has no {service} endpoint for region {region} and interface {interface}; check the region and interface settings',
  },
  price_version_exists: {
    'zh-CN': '生效日期为 {date} 的定价版本已存在',
    en: 'a price version effective from {date} already exists',
  },
  price_version_in_use: {
    'zh-CN':
      '定价版本 {id}（{date} 起生效）已被计费记录使用，不能修改或删除；如需调价，请添加生效日期晚于今天的新定价版本',
    en: 'price version {id} (effective from {date}) is used by billing records and cannot change; add a new price version that starts after today instead',
  },
  price_version_in_force: {
    'zh-CN':
      '定价版本 {id} 已于 {date} 生效（今天为 {today}），不能修改或删除；如需调价，请添加生效日期晚于今天的新定价版本',
    en: 'price version {id} took effect on {date} (today is {today}) and cannot change; add a new price version that starts after today instead',
  },
  export_too_large: {
    'zh-CN': '导出共 {count} 条记录，超过上限 {max} 条；请缩小日期范围，或按租户、信息系统筛选后分批导出',
    en: 'the export has {count} records, more than the maximum of {max}; narrow the date range or filter by tenant or information system and export in parts',
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
  task_run_lost: {
    'zh-CN': '执行记录 {run_id} 的队列作业 {job_id} 未完成即被移出队列，该执行已标记为失败；请重新执行任务',
    en: 'the queue job {job_id} of run {run_id} left the queue before it finished, so the run is marked failed; run the task again',
  },
  task_queue_unavailable: {
    'zh-CN':
      '无法把任务 {name} 放入队列（Redis {reason}）；请检查 REDIS_URL 与 Redis 服务，或运行 cloud-platform doctor',
    en: 'could not queue task {name} (Redis: {reason}); check REDIS_URL and the Redis server, or run cloud-platform doctor',
  },
  distributed_mode_required: {
    'zh-CN':
      '命令 {command} 需要分布式模式：请设置 REDIS_URL=redis://主机:端口 与 DATABASE_URL=postgres://…；单机试用请运行 cloud-platform start',
    en: 'command {command} needs distributed mode: set REDIS_URL=redis://HOST:PORT and DATABASE_URL=postgres://…; for a single-process trial run cloud-platform start',
  },
  invalid_concurrency: {
    'zh-CN': '--concurrency 的值 "{value}" 无效：应为 1 到 {max} 之间的整数',
    en: 'invalid --concurrency "{value}": use a whole number from 1 to {max}',
  },
  invalid_queues: {
    'zh-CN': '--queues 的值 "{value}" 无效：请列出 {names} 中的一个或多个，以逗号分隔',
    en: 'invalid --queues "{value}": list one or more of {names}, separated by commas',
  },
  cli_worker_started: {
    'zh-CN': 'worker 已启动：队列 {queues}，每个队列并发 {concurrency}；按 Ctrl+C 在当前作业完成后退出',
    en: 'worker started: queues {queues}, concurrency {concurrency} per queue; press Ctrl+C to exit after the current jobs finish',
  },
  cli_monitor_listening: {
    'zh-CN': '任务监控面板：{url}（使用 API 的用户名与密码登录）',
    en: 'task dashboard: {url} (log in with an API user name and password)',
  },
  cli_doctor_ok: { 'zh-CN': '一切正常', en: 'everything is fine' },
  cli_doctor_problems: {
    'zh-CN': '发现 {count} 个问题，请按上面的提示处理',
    en: '{count} problem(s) found; follow the hints above',
  },
  cli_login_succeeded: {
    'zh-CN': '已以 {username} 身份登录 {url}，凭据已保存到 {file}',
    en: 'logged in to {url} as {username}; credentials saved to {file}',
  },
  cli_login_session_fallback: {
    'zh-CN':
      '无法创建 API 令牌（POST /api/tokens/ 返回 HTTP {status}），已改为保存会话 Cookie，{days} 天后过期，届时请重新登录',
    en: 'could not create an API token (POST /api/tokens/ returned HTTP {status}); saved the session cookie instead, which expires in {days} days, so log in again then',
  },
  cli_password_prompt: { 'zh-CN': '{username} 的密码：', en: 'password for {username}: ' },
  cli_password_missing: {
    'zh-CN': '缺少密码：请在终端中运行以输入密码，或设置 CLOUD_PLATFORM_PASSWORD，或通过标准输入传入密码',
    en: 'missing password: run in a terminal to type it, set CLOUD_PLATFORM_PASSWORD, or pipe it to standard input',
  },
  cli_not_logged_in: {
    'zh-CN':
      '未登录 {url}：请先运行 `cloud-platform login --url {url}`，或设置 CLOUD_PLATFORM_URL 与 CLOUD_PLATFORM_TOKEN',
    en: 'not logged in to {url}: run `cloud-platform login --url {url}` first, or set CLOUD_PLATFORM_URL and CLOUD_PLATFORM_TOKEN',
  },
  cli_credentials_invalid: {
    'zh-CN': '凭据文件 {file} 无效：{reason}；请重新运行 `cloud-platform login`',
    en: 'invalid credentials file {file}: {reason}; run `cloud-platform login` again',
  },
  cli_api_unreachable: {
    'zh-CN': '无法连接 {url}：{reason}；请确认服务已启动（cloud-platform start 或 serve）且地址正确',
    en: 'cannot reach {url}: {reason}; check that the server runs (cloud-platform start or serve) and the URL is right',
  },
  cli_api_timed_out: {
    'zh-CN': '请求 {url} 超时（{seconds} 秒无响应）',
    en: 'request to {url} timed out after {seconds} s without a response',
  },
  cli_api_unexpected: {
    'zh-CN': '{url} 返回了意外的响应（HTTP {status}）；请确认地址指向 cloud-platform 服务',
    en: '{url} returned an unexpected response (HTTP {status}); check that the URL points to a cloud-platform server',
  },
  cli_task_started: {
    'zh-CN': '任务 {name} 已开始（执行记录 {run_id}），结果见 {url}',
    en: 'task {name} started (run {run_id}); its result will be at {url}',
  },
  cli_invalid_url: {
    'zh-CN': '地址 "{value}" 无效：应为以 http:// 或 https:// 开头的地址，例如 http://127.0.0.1:8000',
    en: 'invalid URL "{value}": use an address that starts with http:// or https://, e.g. http://127.0.0.1:8000',
  },
  cli_invalid_wait: {
    'zh-CN': '--wait 的值 "{value}" 无效：应为 0 到 {max} 之间的整数秒',
    en: 'invalid --wait "{value}": use a whole number of seconds from 0 to {max}',
  },
  cli_task_wait_timed_out: {
    'zh-CN':
      '等待超时：任务 {name}（执行记录 {run_id}）在 {seconds} 秒后仍在执行，服务器上会继续执行；稍后可查看 {url}',
    en: 'timed out: task {name} (run {run_id}) is still running after {seconds} s and continues on the server; check {url} later',
  },
  cli_task_wait_timed_out_queued: {
    'zh-CN':
      '等待超时：任务 {name}（执行记录 {run_id}）在 {seconds} 秒后仍在排队，尚无 worker 接手；请用 cloud-platform doctor 检查其队列的 worker 是否在线，稍后可查看 {url}',
    en: 'timed out: task {name} (run {run_id}) is still queued after {seconds} s, and no worker has taken it; check with cloud-platform doctor that a worker of its queue is online, and see {url} later',
  },
  no_price_version: {
    'zh-CN': '{date} 没有生效的定价版本；请添加生效日期不晚于该日的定价版本',
    en: 'no price version is in force on {date}; add one with an effective_from on or before it',
  },
  day_not_finished: {
    'zh-CN': '{date} 尚未结束（计费时区 {timezone}），只能对已结束的日期计费',
    en: '{date} has not ended yet in the billing time zone {timezone}; only finished days can be billed',
  },
  conflicting_options: {
    'zh-CN': '参数冲突：{options} 不能同时使用',
    en: 'conflicting options: {options} cannot be used together',
  },
  missing_option: {
    'zh-CN': '缺少参数：{options}',
    en: 'missing option: {options}',
  },
  invalid_option: {
    'zh-CN': '参数 {option} 的值 "{value}" 无效：{hint}',
    en: 'invalid value "{value}" for {option}: {hint}',
  },
  price_version_not_future: {
    'zh-CN': '定价版本生效日期 {date} 无效：应晚于今天（{today}），已计费的日期不随新价格改变',
    en: 'invalid effective_from {date}: a new price version must start after today ({today}), so billed days keep their prices',
  },
  api_workers_need_postgres: {
    'zh-CN':
      'API_WORKERS={workers} 需要 PostgreSQL：内置的 PGlite 数据库只能由一个进程打开；请设置 DATABASE_URL，或把 API_WORKERS 设为 1',
    en: 'API_WORKERS={workers} needs PostgreSQL: the embedded PGlite database can be opened by one process only; set DATABASE_URL, or set API_WORKERS to 1',
  },
  api_worker_start_failed: {
    'zh-CN':
      'API 工作进程 {pid} 启动失败（退出状态 {status}），已停止全部工作进程；原因见上方该进程的错误信息',
    en: 'API worker process {pid} failed to start (exit status {status}), so all workers were stopped; its error is printed above',
  },
  data_folder_empty: {
    'zh-CN':
      '数据目录 {dir} 中还没有数据库：请在运行 npm start 的目录中执行此命令，或用 DATA_DIR 指向那个数据目录',
    en: 'data folder {dir} contains no database yet: run this command in the folder where you ran npm start, or set DATA_DIR to that data folder',
  },
  data_folder_locked: {
    'zh-CN': '数据目录 {dir} 正被另一个 cloud-platform 进程使用；请先停止该进程，或通过其 API 执行任务',
    en: 'data folder {dir} is in use by another cloud-platform process; stop that process, or run tasks through its API',
  },
  demo_database_not_empty: {
    'zh-CN':
      '数据库中已有数据（{tenants} 个租户、{systems} 个信息系统、{vms} 台虚拟机），演示数据只能载入空数据库；请使用新的数据目录或数据库',
    en: 'the database already contains data ({tenants} tenants, {systems} information systems, {vms} VMs); demo data loads only into an empty database: use a new data folder or database',
  },
  invalid_history_days: {
    'zh-CN': '历史天数 "{value}" 无效：应为 {min} 到 {max} 之间的整数',
    en: 'invalid history days "{value}": use a whole number of days from {min} to {max}',
  },
  invalid_seed: {
    'zh-CN': '随机种子 "{value}" 无效：应为 0 到 {max} 之间的整数',
    en: 'invalid seed "{value}": use a whole number from 0 to {max}',
  },
  not_authenticated: {
    'zh-CN': '未登录或凭据无效：请登录，或在 Authorization 头中提供有效的 API 令牌',
    en: 'not authenticated: log in, or send a valid API token in the Authorization header',
  },
  permission_denied: {
    'zh-CN': '权限不足：当前角色 {role} 不能执行此操作',
    en: 'permission denied: role {role} cannot do this',
  },
  not_found: { 'zh-CN': '资源不存在：{path}', en: 'not found: {path}' },
  malformed_request: {
    'zh-CN': '无法解析 HTTP 请求：请检查请求行与请求头，URL 中的非 ASCII 字符须按百分号编码（如 %E4%B8%AD）',
    en: 'the HTTP request cannot be parsed: check its request line and headers, and percent-encode non-ASCII characters of the URL (such as %E4%B8%AD)',
  },
  request_headers_too_large: {
    'zh-CN': '请求头过大：请减小 Cookie 或其他请求头',
    en: 'the request headers are too large: send smaller cookies or other headers',
  },
  request_timeout: {
    'zh-CN': '请求超时：服务器未及时收到完整的请求，请重新发送',
    en: 'request timed out: the server did not receive the whole request in time; send it again',
  },
  invalid_url: {
    'zh-CN': 'URL 无效：{url}；请检查路径与查询参数中的百分号编码（如 %E4%B8%AD）',
    en: 'invalid URL: {url}; check the percent-encoding (such as %E4%B8%AD) of its path and query',
  },
  object_not_found: { 'zh-CN': '{resource_zh} {id} 不存在', en: '{resource} {id} not found' },
  validation_failed: {
    'zh-CN': '请求参数无效：{summary}',
    en: 'invalid request: {summary}',
  },
  // One field of a validation_failed summary; summaries join them with validation_separator.
  validation_issue: { 'zh-CN': '{field} {message}', en: '{field} {message}' },
  validation_separator: { 'zh-CN': '；', en: '; ' },
  // Field messages of a 400 validation_failed. {expected} is a validation_expected_* phrase and {value} the received value.
  validation_got: { 'zh-CN': '应为{expected}，收到 {value}', en: 'must be {expected}, got {value}' },
  validation_expected: { 'zh-CN': '应为{expected}', en: 'must be {expected}' },
  validation_required: { 'zh-CN': '必填，应为{expected}', en: 'is required and must be {expected}' },
  validation_unknown_field: {
    'zh-CN': '不是可用字段；可用字段：{allowed}',
    en: 'is not an allowed field; allowed fields: {allowed}',
  },
  validation_no_fields: {
    'zh-CN': '不是可用字段：此处不接受任何字段',
    en: 'is not allowed: no fields are accepted here',
  },
  validation_not_allowed: { 'zh-CN': '不允许出现', en: 'is not allowed' },
  validation_nul_character: {
    'zh-CN': '不能包含空字符（U+0000），请删除该字符',
    en: 'must not contain the NUL character (U+0000); remove it',
  },
  // Phrases that describe an expected value, composed by src/api/validation-messages.ts.
  validation_expected_integer: { 'zh-CN': '整数', en: 'an integer' },
  validation_expected_number: { 'zh-CN': '数值', en: 'a number' },
  validation_expected_text: { 'zh-CN': '文本', en: 'text' },
  validation_expected_non_empty_text: { 'zh-CN': '非空文本', en: 'non-empty text' },
  validation_expected_date: { 'zh-CN': 'YYYY-MM-DD 格式的日期', en: 'a date in the form YYYY-MM-DD' },
  validation_expected_date_time: {
    'zh-CN': 'ISO 8601 格式的日期时间（如 2026-01-31T08:00:00+08:00）',
    en: 'an ISO 8601 date and time such as 2026-01-31T08:00:00+08:00',
  },
  validation_expected_format: { 'zh-CN': '{format} 格式的文本', en: 'text in {format} format' },
  validation_expected_boolean: { 'zh-CN': 'true 或 false', en: 'true or false' },
  validation_expected_object: { 'zh-CN': 'JSON 对象', en: 'a JSON object' },
  validation_expected_list: { 'zh-CN': '列表', en: 'a list' },
  validation_expected_non_empty_list: { 'zh-CN': '非空列表', en: 'a non-empty list' },
  validation_expected_any: { 'zh-CN': '符合接口文档的值', en: 'a value as the API document describes' },
  // {constraints} joins validation_constraint_* phrases with validation_constraint_join.
  validation_constrained: { 'zh-CN': '{constraints}的{noun}', en: '{noun} {constraints}' },
  validation_constraint_join: { 'zh-CN': '{first}且{second}', en: '{first} {second}' },
  // A lower and an upper bound of which one or both are exclusive.
  validation_constraint_bounds: { 'zh-CN': '{lower}且{upper}', en: '{lower} and {upper}' },
  validation_constraint_range: { 'zh-CN': '{min} 到 {max} 之间', en: 'from {min} to {max}' },
  validation_constraint_minimum: { 'zh-CN': '不小于 {limit}', en: 'of at least {limit}' },
  validation_constraint_exclusive_minimum: { 'zh-CN': '大于 {limit}', en: 'above {limit}' },
  validation_constraint_maximum: { 'zh-CN': '不大于 {limit}', en: 'of at most {limit}' },
  validation_constraint_exclusive_maximum: { 'zh-CN': '小于 {limit}', en: 'below {limit}' },
  validation_constraint_multiple_of: { 'zh-CN': '可被 {step} 整除', en: 'divisible by {step}' },
  validation_constraint_length_range: {
    'zh-CN': '{min} 到 {max} 个字符',
    en: 'of {min} to {max} characters',
  },
  validation_constraint_length: { 'zh-CN': '正好 {limit} 个字符', en: 'of exactly {limit} characters' },
  validation_constraint_min_length: { 'zh-CN': '至少 {limit} 个字符', en: 'of at least {limit} characters' },
  validation_constraint_max_length: { 'zh-CN': '不超过 {limit} 个字符', en: 'of at most {limit} characters' },
  validation_constraint_pattern: {
    'zh-CN': '符合正则表达式 {pattern}',
    en: 'matching the regular expression {pattern}',
  },
  validation_constraint_items_range: { 'zh-CN': '{min} 到 {max} 项', en: 'of {min} to {max} items' },
  validation_constraint_min_items: { 'zh-CN': '至少 {limit} 项', en: 'of at least {limit} items' },
  validation_constraint_max_items: { 'zh-CN': '不超过 {limit} 项', en: 'of at most {limit} items' },
  validation_constraint_unique_items: { 'zh-CN': '不含重复项', en: 'without duplicates' },
  // Alternatives of a union or an enum: "a, b or c".
  validation_or: { 'zh-CN': '{first}或{last}', en: '{first} or {last}' },
  validation_list_separator: { 'zh-CN': '、', en: ', ' },
  invalid_json: {
    'zh-CN': '请求体不是有效的 JSON：请检查引号、逗号与括号（键名 __proto__ 也会被拒绝）',
    en: 'the request body is not valid JSON: check quotes, commas and brackets (a key named __proto__ is also rejected)',
  },
  empty_json_body: {
    'zh-CN':
      '请求体为空，但 Content-Type 为 application/json：请发送 JSON 内容，或不带请求体也不带 Content-Type',
    en: 'the request body is empty but Content-Type is application/json: send JSON, or send neither a body nor Content-Type',
  },
  unsupported_media_type: {
    'zh-CN':
      '不支持的 Content-Type "{content_type}"：请以 JSON 发送请求体，并设置 Content-Type: application/json',
    en: 'unsupported Content-Type "{content_type}": send the body as JSON with Content-Type: application/json',
  },
  missing_content_type: {
    'zh-CN': '请求体缺少 Content-Type 头：请以 JSON 发送请求体，并设置 Content-Type: application/json',
    en: 'the request body has no Content-Type header: send it as JSON with Content-Type: application/json',
  },
  body_too_large: {
    'zh-CN': '请求体超过上限 {limit} 字节：请减少单次提交的数据',
    en: 'the request body is larger than the maximum of {limit} bytes: send less data per request',
  },
  content_length_mismatch: {
    'zh-CN': '请求体长度与 Content-Length 头不符：请修正 Content-Length，或让 HTTP 客户端自动计算',
    en: 'the request body length does not match the Content-Length header: correct it or let the HTTP client set it',
  },
  bad_request: {
    'zh-CN': '请求无效（{reason}）：请对照 /api/docs/ 中的接口说明检查请求',
    en: 'bad request ({reason}): check the request against the API documentation at /api/docs/',
  },
  login_failed: { 'zh-CN': '用户名或密码错误', en: 'wrong username or password' },
  rate_limited: {
    'zh-CN': '请求过于频繁，请 {seconds} 秒后重试',
    en: 'too many requests; retry in {seconds} s',
  },
  internal_error: {
    'zh-CN': '服务器内部错误（请求 {request_id}），请联系管理员查看日志',
    en: 'internal server error (request {request_id}); ask an administrator to check the log',
  },
  method_not_allowed: {
    'zh-CN': '此地址不支持请求方法 {method}，支持的方法：{allowed}',
    en: 'method {method} not allowed here; this URL accepts {allowed}',
  },
  invalid_username: {
    'zh-CN': '用户名 "{value}" 无效：应为 3 到 150 个字母、数字或 . _ - @',
    en: 'invalid username "{value}": use 3 to 150 letters, digits or . _ - @',
  },
  invalid_password: {
    'zh-CN': '密码无效：长度应为 8 到 1024 个字符',
    en: 'invalid password: use 8 to 1024 characters',
  },
  invalid_role: {
    'zh-CN': '角色 "{value}" 无效：应为 admin、tenant_admin 或 tenant_viewer',
    en: 'invalid role "{value}": use admin, tenant_admin or tenant_viewer',
  },
  role_tenant_mismatch: {
    'zh-CN':
      '角色 {role} 与租户设置不符：admin 不属于任何租户，tenant_admin 和 tenant_viewer 必须指定一个租户',
    en: 'role {role} does not fit the tenant given: admin has no tenant, tenant_admin and tenant_viewer need one',
  },
  username_exists: { 'zh-CN': '用户名 "{username}" 已存在', en: 'username "{username}" already exists' },
  last_active_admin: {
    'zh-CN':
      '{username} 是最后一个启用的管理员，不能删除、停用或改为其他角色；请先将另一用户设为启用的 admin',
    en: '{username} is the last active admin and cannot be deleted, deactivated or given another role; make another user an active admin first',
  },
  vm_read_only: {
    'zh-CN':
      '虚拟机 {external_id} 来自资源清单数据源 {provider}，只读；请在该数据源中修改，只有 provider 为 local 的虚拟机可在此修改',
    en: 'virtual machine {external_id} comes from inventory source {provider} and is read-only; change it in that source, because only VMs of provider local can be changed here',
  },
  vm_system_required: {
    'zh-CN': '缺少 information_system：租户管理员创建的虚拟机必须分配到本租户的信息系统',
    en: 'missing information_system: a tenant_admin must assign a new VM to one of its tenant’s information systems',
  },
  listen_failed: {
    'zh-CN':
      '无法在 {host}:{port} 上监听（{reason}）：端口可能已被占用；请用 PORT 环境变量或 --port 换一个端口',
    en: 'cannot listen on {host}:{port} ({reason}): the port may be in use; choose another with the PORT variable or --port',
  },
  cli_admin_created: {
    'zh-CN': '已创建首个管理员 {username}，初始密码：{password}（仅显示这一次，请妥善保存）',
    en: 'created the first admin {username} with password {password} (shown only this once; keep it safe)',
  },
  cli_listening: {
    'zh-CN': 'API 地址：{url}（API 文档 {url}/api/docs/）',
    en: 'API at {url} (API docs at {url}/api/docs/)',
  },
  cli_tenant_added: {
    'zh-CN': '已添加租户 {code}（{name}），折扣率 {discount_rate}',
    en: 'added tenant {code} ({name}), discount rate {discount_rate}',
  },
  cli_discount_changed: {
    'zh-CN': '租户 {code} 的折扣率已改为 {discount_rate}，自 {effective_date} 起计费生效',
    en: 'tenant {code} discount rate set to {discount_rate}, billed from {effective_date}',
  },
  cli_discount_unchanged: {
    'zh-CN': '租户 {code} 的折扣率已是 {discount_rate}，未作修改',
    en: 'tenant {code} already has discount rate {discount_rate}; nothing changed',
  },
  cli_system_added: {
    'zh-CN': '已添加信息系统 {code}（{name}），运行模式 {run_mode}，自次日起计费',
    en: 'added information system {code} ({name}), run mode {run_mode}, billed from the next day',
  },
  cli_run_mode_changed: {
    'zh-CN': '信息系统 {code} 的运行模式已改为 {run_mode}，自 {effective_date} 起计费生效',
    en: 'information system {code} run mode set to {run_mode}, billed from {effective_date}',
  },
  cli_system_decommissioned: {
    'zh-CN': '信息系统 {code} 已下线；{last_billed_date} 为最后计费日',
    en: 'information system {code} decommissioned; {last_billed_date} is its last billed day',
  },
  cli_vm_changed: {
    'zh-CN': '虚拟机 {external_id}：已记录 {changes} 条资源变更，自 {effective_date} 起计费生效',
    en: 'virtual machine {external_id}: {changes} resource change(s) logged, billed from {effective_date}',
  },
  cli_vm_unchanged: {
    'zh-CN': '虚拟机 {external_id}：配置未变化，未记录变更',
    en: 'virtual machine {external_id}: configuration unchanged, no change logged',
  },
  cli_price_added: {
    'zh-CN': '已添加定价版本，自 {effective_from} 起生效',
    en: 'added a price version effective from {effective_from}',
  },
  cli_task_succeeded: {
    'zh-CN': '任务 {name} 执行成功（执行记录 {run_id}，耗时 {seconds} 秒）',
    en: 'task {name} succeeded (run {run_id}, {seconds} s)',
  },
  cli_task_failed: {
    'zh-CN': '任务 {name} 执行失败（执行记录 {run_id}）：{error}',
    en: 'task {name} failed (run {run_id}): {error}',
  },
  cli_migrated: {
    'zh-CN': '本次应用 {count} 个迁移，数据库结构现已是最新',
    en: '{count} migration(s) applied; the database schema is now up to date',
  },
  database_unreachable: {
    'zh-CN': '无法使用数据库 {url}：{reason}；请检查 DATABASE_URL 与数据库服务，或运行 cloud-platform doctor',
    en: 'cannot use the database {url}: {reason}; check DATABASE_URL and the database server, or run cloud-platform doctor',
  },
  cli_demo_loaded: {
    'zh-CN':
      '已载入演示数据：{tenants} 个租户、{systems} 个信息系统、{vms} 台虚拟机、{adjustments} 条资源变更；已为 {days} 天生成 {records} 条计费记录，合计 {total_amount} 元',
    en: 'loaded demo data: {tenants} tenants, {systems} information systems, {vms} VMs, {adjustments} resource changes; billed {days} days with {records} records totalling {total_amount} CNY',
  },
  cli_started: {
    'zh-CN': 'cloud-platform 已启动（{database}，计费时区 {timezone}）；按 Ctrl+C 停止',
    en: 'cloud-platform started ({database}, billing time zone {timezone}); press Ctrl+C to stop',
  },
  cli_stopping: {
    'zh-CN': '正在停止：等待执行中的任务完成…',
    en: 'stopping: waiting for running tasks to finish…',
  },
  cli_stopping_service: {
    'zh-CN': '正在停止…',
    en: 'stopping…',
  },
  cli_no_sources: {
    'zh-CN': '（未配置资源清单数据源：在 CONFIG_FILE 的 sources 中添加，或调用 /api/inventory-sources/）',
    en: '(no inventory sources: add them under sources in CONFIG_FILE or through /api/inventory-sources/)',
  },
  cli_source_test_succeeded: {
    'zh-CN':
      '数据源 {name} 测试成功，用时 {seconds} 秒：读取 {records} 台虚拟机，其中 {valid} 台有效（{assigned} 台已指定信息系统），{rejected} 台无效；未写入任何数据',
    en: 'source {name} works ({seconds} s): read {records} VMs, {valid} valid ({assigned} with an information system), {rejected} invalid; nothing was written',
  },
  cli_source_test_failed: {
    'zh-CN': '数据源 {name} 测试失败（已读取 {records} 台虚拟机）：{error}',
    en: 'source {name} failed after reading {records} VMs: {error}',
  },
  cli_source_test_sample: {
    'zh-CN': '前 {count} 条映射结果：',
    en: 'first {count} mapped records:',
  },
  cli_source_test_unknown_systems: {
    'zh-CN': '{count} 台虚拟机的信息系统编码不存在或已下线，同步时将被拒绝：{systems}',
    en: '{count} VMs name an information system that does not exist or is decommissioned, so the sync will reject them: {systems}',
  },
  cli_and_more: { 'zh-CN': '，另有 {count} 个未列出', en: ', and {count} more' },
  cli_source_test_rejections: {
    'zh-CN': '无效记录（共 {count} 条，同步时将被拒绝）：',
    en: 'invalid records ({count} in total; the sync will reject them):',
  },
  cli_no_rows: { 'zh-CN': '（无记录）', en: '(no rows)' },
  cli_total_partial: {
    'zh-CN': '显示最新 {shown} 条，共 {count} 条符合条件，全部金额合计 {amount} 元（用 --limit 显示更多）',
    en: 'showing the newest {shown} of {count} matching records; all {count} total {amount} CNY (--limit shows more)',
  },
  cli_total: {
    'zh-CN': '共 {count} 条，金额合计 {amount} 元',
    en: '{count} record(s), {amount} CNY in total',
  },
  ...connectorMessages,
  ...cliMessages,
  ...settingsMessages,
} as const satisfies Record<string, Record<Locale, string>>;

export type MessageCode = keyof typeof catalog;

/** Picks the locale from a LANG-style value (`zh_CN.UTF-8`, `en_US.UTF-8`); zh-CN unless it names English. */
export function localeFromLang(lang: string | undefined): Locale {
  return lang && /^en([_-]|$)/i.test(lang) ? 'en' : 'zh-CN';
}

/** Returns the template of `code` in `locale`, with its `{name}` placeholders unfilled. */
export function messageTemplate(code: MessageCode, locale: Locale): string {
  return catalog[code][locale];
}

export function translate(code: MessageCode, parameters: MessageParameters, locale: Locale): string {
  const template: string = catalog[code][locale];
  return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
    const value = parameters[name];
    if (value === undefined || value === null) return placeholder;
    return value instanceof Date ? value.toISOString() : String(value);
  });
}
