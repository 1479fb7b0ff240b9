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
  vsphere_list_limit: {
    'zh-CN':
      '资源清单数据源 {source}（{url}）：{scope} 的{what}达到单次查询上限 {count} 个，且无法再细分，结果可能不完整，本次同步已中止；请把虚拟机分到更多、更小的文件夹中',
    en: 'inventory source {source} ({url}): the {what} of {scope} reach the limit of one query ({count}) and cannot be split further, so the list may be incomplete and this sync stopped; spread the VMs over more, smaller folders',
  },
  vsphere_disk_capacity_missing: {
    'zh-CN': '虚拟机 {vm} 的磁盘 {disk} 没有容量（capacity），可能无法访问；该虚拟机本次保持原值',
    en: 'disk {disk} of VM {vm} has no capacity, perhaps because it is inaccessible; the VM keeps its stored values this time',
  },
  vsphere_several_system_tags: {
    'zh-CN': '虚拟机 {vm} 在标签类别 "{category}" 中有多个标签：{tags}；请只保留一个（标签名即信息系统编码）',
    en: 'VM {vm} has several tags in category "{category}": {tags}; keep one, because the tag name is the information system code',
  },
  vsphere_tag_category_not_found: {
    'zh-CN':
      '资源清单数据源 {source} 的 vCenter 中没有名为 "{category}" 的标签类别（已有：{categories}）；请检查 tag_category 配置',
    en: 'the vCenter of inventory source {source} has no tag category named "{category}" (found: {categories}); check the tag_category setting',
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
