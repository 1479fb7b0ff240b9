/**
 * Messages of the command line: usage errors, login and logout, and the
 * verdict of `source test`. Merged into the catalog in messages.ts, where
 * `{name}` placeholders are filled from the message parameters.
 */
export const cliMessages = {
  cli_source_test_read: {
    'zh-CN':
      '数据源 {name} 连接正常，用时 {seconds} 秒：读取 {records} 台虚拟机，其中 {valid} 台有效（{assigned} 台已指定信息系统），{rejected} 台无效；未写入任何数据',
    en: 'source {name} answered ({seconds} s): read {records} VMs, {valid} valid ({assigned} with an information system), {rejected} invalid; nothing was written',
  },
  cli_source_test_all_rejected: {
    'zh-CN':
      '测试未通过：同步将拒绝全部 {records} 台虚拟机，不会导入任何一台；请先添加上面列出的信息系统，或改正数据源中的信息系统编码与无效记录',
    en: 'test failed: the sync would reject all {records} VMs and import none; add the information systems listed above, or fix the system codes and invalid records in the source',
  },
  cli_source_test_partly_rejected: {
    'zh-CN':
      '测试未完全通过：同步将拒绝 {records} 台中的 {rejected} 台虚拟机，只导入其余 {importable} 台；请按上面的列表处理被拒绝的虚拟机',
    en: 'test partly failed: the sync would reject {rejected} of {records} VMs and import only the other {importable}; fix the rejected VMs listed above',
  },
  cli_login_previous_revoked: {
    'zh-CN': '已吊销此前保存的 API 令牌 {prefix}…',
    en: 'revoked the previously saved API token {prefix}…',
  },
  cli_login_previous_revoke_failed: {
    'zh-CN':
      '新的登录已保存，但吊销此前保存的 API 令牌 {prefix}… 失败：{reason}；该令牌仍然有效，请在令牌列表（GET /api/tokens/）中按前缀找到并吊销它',
    en: 'the new login is saved, but revoking the previously saved API token {prefix}… failed: {reason}; that token still works, so find it by its prefix in the token list (GET /api/tokens/) and revoke it',
  },
  cli_token_not_identified: {
    'zh-CN': '令牌列表中没有唯一一个以 {prefix} 开头的有效令牌',
    en: 'the token list has no single unrevoked token starting with {prefix}',
  },
  cli_logout_succeeded: {
    'zh-CN': '已退出 {url}：保存的凭据已在服务器上失效，凭据文件 {file} 已删除',
    en: 'logged out of {url}: the saved credentials are revoked on the server and {file} is deleted',
  },
  cli_logout_already_invalid: {
    'zh-CN': '已退出 {url}：服务器已不接受保存的凭据，凭据文件 {file} 已删除',
    en: 'logged out of {url}: the server no longer accepted the saved credentials, and {file} is deleted',
  },
  cli_logout_not_logged_in: {
    'zh-CN': '未登录：凭据文件 {file} 不存在，无需退出',
    en: 'not logged in: {file} does not exist, so there is nothing to log out of',
  },
  cli_logout_failed: {
    'zh-CN':
      '无法在 {url} 上吊销保存的凭据：{reason}；凭据文件 {file} 保留不变。请在服务器可以访问时重新运行 cloud-platform logout，或删除该文件并请管理员吊销该令牌',
    en: 'could not revoke the saved credentials at {url}: {reason}; {file} is kept. Run cloud-platform logout again once the server is reachable, or delete the file and ask an admin to revoke the token',
  },
  cli_usage_unknown_option: { 'zh-CN': '未知选项 "{option}"', en: 'unknown option "{option}"' },
  cli_usage_unknown_command: { 'zh-CN': '未知命令 "{command}"', en: 'unknown command "{command}"' },
  cli_usage_missing_argument: { 'zh-CN': '缺少参数 <{argument}>', en: 'missing argument <{argument}>' },
  cli_usage_option_missing_value: {
    'zh-CN': '选项 {option} 缺少值',
    en: 'option {option} needs a value',
  },
  cli_usage_missing_required_option: {
    'zh-CN': '缺少必需的选项 {option}',
    en: 'missing required option {option}',
  },
  cli_usage_conflicting_options: {
    'zh-CN': '{first} 不能与 {second} 同时使用；请只保留其中一个',
    en: '{first} cannot be used with {second}; keep only one of them',
  },
  cli_usage_environment_variable: { 'zh-CN': '环境变量 {name}', en: 'environment variable {name}' },
  cli_usage_excess_arguments: {
    'zh-CN': '多余的参数 {arguments}：该命令最多接受 {expected} 个参数；含空格的值请加引号',
    en: 'unexpected argument(s) {arguments}: this command takes at most {expected}; quote a value that contains spaces',
  },
  cli_usage_no_arguments: {
    'zh-CN': '多余的参数 {arguments}：该命令不接受参数',
    en: 'unexpected argument(s) {arguments}: this command takes none',
  },
  cli_usage_invalid_option_value: {
    'zh-CN': '选项 {option} 的值 "{value}" 无效：{reason}',
    en: 'invalid value "{value}" for option {option}: {reason}',
  },
  cli_usage_invalid_environment_value: {
    'zh-CN': '环境变量 {variable}（选项 {option}）的值 "{value}" 无效：{reason}',
    en: 'invalid value "{value}" of environment variable {variable} (option {option}): {reason}',
  },
  cli_usage_invalid_argument_value: {
    'zh-CN': '参数 <{argument}> 的值 "{value}" 无效：{reason}',
    en: 'invalid value "{value}" for argument <{argument}>: {reason}',
  },
  cli_usage_allowed_choices: { 'zh-CN': '应为 {choices} 之一', en: 'expected one of {choices}' },
  cli_usage_whole_number: {
    'zh-CN': '应为 {min} 到 {max} 之间的整数',
    en: 'expected a whole number from {min} to {max}',
  },
  cli_usage_did_you_mean: { 'zh-CN': '你是否想输入 {suggestion}？', en: '(Did you mean {suggestion}?)' },
  cli_usage_help_hint: {
    'zh-CN': '运行 {command} --help 查看用法',
    en: 'run {command} --help to see the usage',
  },
} as const;
