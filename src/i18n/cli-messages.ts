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
} as const;
