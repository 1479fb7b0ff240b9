/**
 * Messages of the RVTools import and the vSphere connector, merged into the
 * catalog in messages.ts. `{name}` placeholders are filled from the message
 * parameters.
 */
export const connectorMessages = {
  rvtools_file_extension: {
    'zh-CN': 'RVTools 导出文件 {file} 的扩展名无效：应为 .xlsx，或把 vInfo 页另存为 .csv',
    en: 'invalid RVTools export name {file}: it must end in .xlsx, or be the vInfo tab saved as .csv',
  },
  rvtools_file_unreadable: {
    'zh-CN': '无法读取 RVTools 导出文件 {file}：{error}',
    en: 'cannot read RVTools export {file}: {error}',
  },
  rvtools_not_xlsx: {
    'zh-CN':
      '文件 {file} 不是 XLSX 工作簿（不是 ZIP 格式）；请用 RVTools 重新导出为 Excel，或把 vInfo 页另存为 .csv',
    en: 'file {file} is not an XLSX workbook (not a ZIP archive); export it again from RVTools as Excel, or save the vInfo tab as .csv',
  },
  rvtools_xlsx_invalid: {
    'zh-CN': '无法读取 XLSX 工作簿 {file}：{error}；文件可能已损坏或未完整复制',
    en: 'cannot read XLSX workbook {file}: {error}; the file may be damaged or only partly copied',
  },
  rvtools_no_vinfo: {
    'zh-CN':
      '工作簿 {file} 中没有 vInfo 工作表（找到的工作表：{sheets}）；请导出包含 vInfo 页的 RVTools 文件',
    en: 'workbook {file} has no vInfo sheet (sheets found: {sheets}); export an RVTools file that includes the vInfo tab',
  },
  rvtools_csv_is_xlsx: {
    'zh-CN': '文件 {file} 是 XLSX 工作簿而不是 CSV 文本；请把扩展名改为 .xlsx',
    en: 'file {file} is an XLSX workbook, not CSV text; rename it to end in .xlsx',
  },
  rvtools_csv_invalid: {
    'zh-CN': 'CSV 文件 {file} 第 {row} 行附近格式无效：{error}',
    en: 'invalid CSV in {file} near row {row}: {error}',
  },
  rvtools_columns_missing: {
    'zh-CN': 'vInfo 表（{file}）缺少列：{missing}。找到的表头：{found}',
    en: 'the vInfo sheet of {file} is missing the column(s) {missing}. Headers found: {found}',
  },
  rvtools_empty_sheet: {
    'zh-CN': 'vInfo 表（{file}）没有表头行；请确认导出文件完整',
    en: 'the vInfo sheet of {file} has no header row; check that the export is complete',
  },
  rvtools_invalid_number: {
    'zh-CN': '列 "{column}" 的值 "{value}" 不是不小于 0 的数值（单位 MiB）',
    en: 'column "{column}" has "{value}", which is not a number of MiB of at least 0',
  },
  rvtools_invalid_template: {
    'zh-CN': '列 "{column}" 的值 "{value}" 无效：应为 True 或 False',
    en: 'column "{column}" has "{value}", which is not True or False',
  },
  inventory_source_not_rvtools: {
    'zh-CN': '数据源 "{name}" 的类型是 {type}，只有 rvtools 类型的数据源可以导入文件',
    en: 'inventory source "{name}" has type {type}; only sources of type rvtools import files',
  },
  vsphere_request_failed: {
    'zh-CN': 'vSphere {url} 请求 {method} {path} 失败：HTTP {status} {detail}',
    en: 'vSphere {url}: {method} {path} failed with HTTP {status} {detail}',
  },
  vsphere_login_failed: {
    'zh-CN': 'vSphere {url} 登录失败（HTTP {status}）：请检查用户名、密码及该用户的权限',
    en: 'vSphere {url} login failed with HTTP {status}: check the user name, the password and the user’s permissions',
  },
  vsphere_invalid_response: {
    'zh-CN': 'vSphere {url} 对 {method} {path} 的响应无效：{error}',
    en: 'vSphere {url} returned an invalid response to {method} {path}: {error}',
  },
  vsphere_vm_limit: {
    'zh-CN':
      'vSphere {url} 在 {scope} 中返回了 {count} 台虚拟机，达到单次查询上限，结果可能不完整；该数据源本次同步已中止。请把虚拟机分到更小的文件夹中',
    en: 'vSphere {url} returned {count} VMs for {scope}, the limit of one query, so the list may be incomplete; this source’s sync stopped. Split the VMs into smaller folders',
  },
  cli_import_plan: {
    'zh-CN':
      '预演 {file} → 数据源 {source}（未写入任何数据）：新增 {new} 台，变更 {changed} 台，不变 {unchanged} 台，本次未出现 {not_seen} 台（其中 {missing} 台将标记为失联），拒绝 {rejected} 行；跳过模板 {templates} 个、空行 {blank} 行；存储取自列 "{disk_column}"',
    en: 'dry run of {file} into source {source} (nothing written): {new} new, {changed} changed, {unchanged} unchanged, {not_seen} not in the file ({missing} of them would become missing), {rejected} row(s) rejected; skipped {templates} template(s) and {blank} blank row(s); storage read from column "{disk_column}"',
  },
  cli_import_applied: {
    'zh-CN':
      '已导入 {file} → 数据源 {source}：新增 {created} 台，变更 {updated} 台，不变 {unchanged} 台，本次未出现 {not_seen} 台（其中 {missing} 台标记为失联），拒绝 {rejected} 行；跳过模板 {templates} 个、空行 {blank} 行',
    en: 'imported {file} into source {source}: {created} new, {updated} changed, {unchanged} unchanged, {not_seen} not in the file ({missing} of them marked missing), {rejected} row(s) rejected; skipped {templates} template(s) and {blank} blank row(s)',
  },
  cli_import_section_new: { 'zh-CN': '新增虚拟机', en: 'new VMs' },
  cli_import_section_changed: { 'zh-CN': '变更的虚拟机（原值→新值）', en: 'changed VMs (old→new)' },
  cli_import_section_not_seen: { 'zh-CN': '文件中未出现的虚拟机', en: 'VMs not in the file' },
  cli_import_section_rejected: { 'zh-CN': '被拒绝的行', en: 'rejected rows' },
  cli_import_listed: {
    'zh-CN': '（仅列出前 {shown} 条，共 {count} 条；--json 输出相同的列表）',
    en: '(first {shown} of {count} listed; --json prints the same lists)',
  },
} as const;
