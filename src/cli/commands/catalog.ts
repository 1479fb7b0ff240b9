import type { Command } from 'commander';

import { translate } from '../../i18n/messages.js';
import {
  addLocalVm,
  assignLocalVm,
  removeLocalVm,
  resizeLocalVm,
  type LocalVmChange,
} from '../../inventory/local-vms.js';
import { addSystem, decommissionSystem, setSystemRunMode } from '../../inventory/systems.js';
import { addTenant, setTenantDiscount } from '../../inventory/tenants.js';
import { InformationSystemRepository } from '../../db/repositories/information-system.repository.js';
import { TenantRepository } from '../../db/repositories/tenant.repository.js';
import { VirtualMachineRepository } from '../../db/repositories/virtual-machine.repository.js';
import { createContext, print, withDatabase, type CommandContext } from '../context.js';
import { formatTable } from '../output.js';

/** Commands that change or list tenants, information systems and the own inventory's VMs. */

function changeContext(context: CommandContext) {
  return { timezone: context.settings.billingTimezone };
}

function reportVmChange(context: CommandContext, json: boolean | undefined, change: LocalVmChange) {
  print({ json }, change, () =>
    change.detection.changes > 0
      ? translate(
          'cli_vm_changed',
          {
            external_id: change.vm.external_id,
            changes: change.detection.changes,
            effective_date: change.detection.effective_date,
          },
          context.locale,
        )
      : translate('cli_vm_unchanged', { external_id: change.vm.external_id }, context.locale),
  );
}

export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('租户 / tenants');

  tenant
    .command('add')
    .description('添加租户 / add a tenant')
    .requiredOption('--code <code>', '租户编码 / unique tenant code')
    .requiredOption('--name <name>', '租户名称 / tenant name')
    .option('--discount-rate <rate>', '折扣率，(0, 1]，1 为原价 / fraction of list price paid, (0, 1]', '1')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const created = await withDatabase(context, ({ db }) =>
        addTenant(
          db,
          { code: options.code, name: options.name, discount_rate: options.discountRate },
          changeContext(context),
        ),
      );
      print(options, created, () => translate('cli_tenant_added', created, context.locale));
    });

  tenant
    .command('set-discount')
    .description('修改租户折扣率，次日生效 / change a discount rate, billed from the next day')
    .argument('<code>', '租户编码 / tenant code')
    .argument('<rate>', '新折扣率 / new discount rate')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (code: string, rate: string, options) => {
      const context = createContext();
      const result = await withDatabase(context, ({ db }) =>
        setTenantDiscount(db, { code, discount_rate: rate }, changeContext(context)),
      );
      const parameters = {
        code,
        discount_rate: result.tenant.discount_rate,
        effective_date: result.effective_date,
      };
      print(options, result, () =>
        translate(
          result.changed ? 'cli_discount_changed' : 'cli_discount_unchanged',
          parameters,
          context.locale,
        ),
      );
    });

  tenant
    .command('list')
    .description('列出租户 / list tenants')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const rows = await withDatabase(context, ({ db }) => new TenantRepository(db).getAll(), {
        readOnly: true,
      });
      print(options, rows, () =>
        formatTable(rows, ['code', 'name', 'discount_rate', 'status'], {
          locale: context.locale,
          timezone: context.settings.billingTimezone,
        }),
      );
    });
}

export function registerSystemCommands(program: Command): void {
  const system = program.command('system').description('信息系统 / information systems');

  system
    .command('add')
    .description('添加信息系统，次日起计费 / add an information system, billed from the next day')
    .requiredOption('--code <code>', '信息系统编码 / unique system code')
    .requiredOption('--tenant <code>', '所属租户编码 / owning tenant code')
    .requiredOption('--name <name>', '信息系统名称 / system name')
    .requiredOption('--run-mode <mode>', '运行模式 7x24 或 5x8 / run mode, 7x24 or 5x8')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const created = await withDatabase(context, ({ db }) =>
        addSystem(
          db,
          { code: options.code, tenant: options.tenant, name: options.name, run_mode: options.runMode },
          changeContext(context),
        ),
      );
      print(options, created, () => translate('cli_system_added', created, context.locale));
    });

  system
    .command('set-run-mode')
    .description('修改运行模式，次日生效 / change the run mode, billed from the next day')
    .argument('<code>', '信息系统编码 / system code')
    .argument('<mode>', '7x24 或 5x8 / 7x24 or 5x8')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (code: string, mode: string, options) => {
      const context = createContext();
      const result = await withDatabase(context, ({ db }) =>
        setSystemRunMode(db, { code, run_mode: mode }, changeContext(context)),
      );
      print(options, result, () =>
        translate(
          'cli_run_mode_changed',
          { code, run_mode: result.system.run_mode, effective_date: result.effective_date },
          context.locale,
        ),
      );
    });

  system
    .command('decommission')
    .description('下线信息系统，当日仍计费 / decommission a system; today is still billed')
    .argument('<code>', '信息系统编码 / system code')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (code: string, options) => {
      const context = createContext();
      const result = await withDatabase(context, ({ db }) =>
        decommissionSystem(db, { code }, changeContext(context)),
      );
      print(options, result, () =>
        translate(
          'cli_system_decommissioned',
          { code, last_billed_date: result.last_billed_date },
          context.locale,
        ),
      );
    });

  system
    .command('list')
    .description('列出信息系统 / list information systems')
    .option('--tenant <code>', '只列出该租户的系统 / only this tenant')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const rows = await withDatabase(
        context,
        ({ db }) => new InformationSystemRepository(db).getAll({ tenantCode: options.tenant }),
        { readOnly: true },
      );
      const table = rows.map((row) => ({ ...row, tenant: row.tenant_code }));
      print(options, rows, () =>
        formatTable(
          table,
          ['code', 'name', 'tenant', 'run_mode', 'status', 'total_cpu', 'total_memory', 'total_storage'],
          { locale: context.locale, timezone: context.settings.billingTimezone },
        ),
      );
    });
}

export function registerVmCommands(program: Command): void {
  const vm = program
    .command('vm')
    .description('本地资源清单中的虚拟机 / virtual machines of the own inventory');

  vm.command('add')
    .description('添加虚拟机 / add a virtual machine')
    .requiredOption('--external-id <id>', '外部 ID / external id, unique in the own inventory')
    .requiredOption('--name <name>', '虚拟机名称 / VM name')
    .option('--system <code>', '所属信息系统编码；不填则暂不分配 / system code; unassigned when absent')
    .requiredOption('--cpu <cores>', 'vCPU 核数 / vCPU cores')
    .requiredOption('--memory <GB>', '内存，单位 GB / memory in GB')
    .requiredOption('--storage <GB>', '存储，单位 GB / storage in GB')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const change = await withDatabase(context, ({ db }) =>
        addLocalVm(
          db,
          {
            external_id: options.externalId,
            name: options.name,
            system: options.system,
            cpu: options.cpu,
            memory: options.memory,
            storage: options.storage,
          },
          changeContext(context),
        ),
      );
      reportVmChange(context, options.json, change);
    });

  vm.command('resize')
    .description('调整虚拟机配置，次日生效 / resize a VM, billed from the next day')
    .argument('<external-id>', '外部 ID / external id')
    .option('--cpu <cores>', 'vCPU 核数 / vCPU cores')
    .option('--memory <GB>', '内存，单位 GB / memory in GB')
    .option('--storage <GB>', '存储，单位 GB / storage in GB')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (externalId: string, options) => {
      const context = createContext();
      const change = await withDatabase(context, ({ db }) =>
        resizeLocalVm(
          db,
          { external_id: externalId, cpu: options.cpu, memory: options.memory, storage: options.storage },
          changeContext(context),
        ),
      );
      reportVmChange(context, options.json, change);
    });

  vm.command('assign')
    .description('将虚拟机分配到信息系统，次日生效 / assign a VM to a system, billed from the next day')
    .argument('<external-id>', '外部 ID / external id')
    .requiredOption('--system <code>', '信息系统编码 / system code')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (externalId: string, options) => {
      const context = createContext();
      const change = await withDatabase(context, ({ db }) =>
        assignLocalVm(db, { external_id: externalId, system: options.system }, changeContext(context)),
      );
      reportVmChange(context, options.json, change);
    });

  vm.command('remove')
    .description('删除虚拟机，次日起不再计费 / remove a VM, not billed from the next day')
    .argument('<external-id>', '外部 ID / external id')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (externalId: string, options) => {
      const context = createContext();
      const change = await withDatabase(context, ({ db }) =>
        removeLocalVm(db, { external_id: externalId }, changeContext(context)),
      );
      reportVmChange(context, options.json, change);
    });

  vm.command('list')
    .description('列出虚拟机 / list virtual machines')
    .option('--system <code>', '只列出该信息系统的虚拟机 / only this system')
    .option('--json', '以 JSON 输出 / print JSON')
    .action(async (options) => {
      const context = createContext();
      const rows = await withDatabase(
        context,
        ({ db }) => new VirtualMachineRepository(db).getAll({ systemCode: options.system }),
        { readOnly: true },
      );
      const table = rows.map((row) => ({
        ...row,
        system: row.system_code,
        cpu: row.recorded_cpu,
        memory: row.recorded_memory,
        storage: row.recorded_storage,
      }));
      print(options, rows, () =>
        formatTable(
          table,
          ['provider', 'external_id', 'name', 'system', 'status', 'cpu', 'memory', 'storage'],
          { locale: context.locale, timezone: context.settings.billingTimezone },
        ),
      );
    });
}
