import { createDailyBillingRecords, parseBillingArguments } from '../billing/create-daily-billing-records.js';
import { DEFAULT_SCHEDULES, type Settings } from '../config/settings.js';
import type { Db } from '../db/database.js';
import { DomainError } from '../errors.js';
import type { Locale } from '../i18n/messages.js';
import { buildInventorySources } from '../inventory/sources.js';
import type { Logger } from '../logger.js';
import { detectResourceChanges } from '../monitoring/detect-resource-changes.js';
import { syncVmStatus } from '../monitoring/sync-vm-status.js';
import { TaskPartlyFailedError } from './errors.js';

/**
 * The periodic tasks. Names, queues and default schedules are a public
 * contract: schedulers, dashboards and scripts refer to them.
 */

export const TASK_NAMES = [
  'create_daily_billing_records',
  'detect_resource_changes',
  'sync_vm_status',
] as const;
export type TaskName = (typeof TASK_NAMES)[number];
export type QueueName = 'billing' | 'monitoring';

export interface TaskContext {
  db: Db;
  settings: Settings;
  logger: Logger;
  taskRunId: string | null;
  now: Date;
}

export interface TaskDefinition {
  name: TaskName;
  queue: QueueName;
  defaultSchedule: string;
  /** Key of the PostgreSQL advisory lock that keeps two runs of this task apart. */
  lockKey: number;
  description: Record<Locale, string>;
  /** Validates the arguments of a manual run; throws DomainError naming the bad value. */
  parseArguments(
    raw: Record<string, unknown>,
    context: { now: Date; settings: Settings },
  ): Record<string, unknown>;
  /** Runs the task and returns its JSON summary. */
  run(context: TaskContext, args: Record<string, unknown>): Promise<Record<string, unknown>>;
}

function rejectArguments(name: TaskName) {
  return (raw: Record<string, unknown>) => {
    const given = Object.entries(raw).filter(([, value]) => value !== undefined && value !== false);
    if (given.length > 0) {
      throw new DomainError(
        'task_arguments_not_supported',
        { name, options: given.map(([key]) => `--${key}`).join(', ') },
        given[0]![0],
      );
    }
    return {};
  };
}

export const TASKS: Record<TaskName, TaskDefinition> = {
  create_daily_billing_records: {
    name: 'create_daily_billing_records',
    queue: 'billing',
    defaultSchedule: DEFAULT_SCHEDULES.create_daily_billing_records,
    lockKey: 7_301_101,
    description: {
      'zh-CN': '为每个信息系统生成前一日（及缺失日期）的计费记录',
      en: 'bills the previous day (and missing days) for every information system',
    },
    parseArguments: (raw, context) => ({
      ...parseBillingArguments(raw, { now: context.now, timezone: context.settings.billingTimezone }),
    }),
    run: (context, args) =>
      createDailyBillingRecords(
        {
          db: context.db,
          now: context.now,
          timezone: context.settings.billingTimezone,
          chunkSize: context.settings.billingChunkSize,
          catchUpDays: context.settings.billingCatchUpDays,
          taskRunId: context.taskRunId,
          logger: context.logger,
        },
        args,
      ),
  },

  detect_resource_changes: {
    name: 'detect_resource_changes',
    queue: 'monitoring',
    defaultSchedule: DEFAULT_SCHEDULES.detect_resource_changes,
    lockKey: 7_301_102,
    description: {
      'zh-CN': '比对虚拟机的观测配置与记录基线，记录资源变更并更新信息系统资源总量',
      en: "compares each VM's observed configuration with its recorded baseline and logs each change",
    },
    parseArguments: rejectArguments('detect_resource_changes'),
    run: async (context) => {
      const result = await detectResourceChanges(context.db, {
        timezone: context.settings.billingTimezone,
        now: context.now,
        taskRunId: context.taskRunId,
      });
      return { ...result };
    },
  },

  sync_vm_status: {
    name: 'sync_vm_status',
    queue: 'monitoring',
    defaultSchedule: DEFAULT_SCHEDULES.sync_vm_status,
    lockKey: 7_301_103,
    description: {
      'zh-CN': '从虚拟化平台读取虚拟机清单、电源状态与配置',
      en: 'reads VMs, power status and configuration from the virtualization platforms',
    },
    parseArguments: rejectArguments('sync_vm_status'),
    run: async (context) => {
      const sources = await buildInventorySources(context.settings, {
        db: context.db,
        logger: context.logger,
      });
      const result = await syncVmStatus(context.db, sources, {
        now: context.now,
        taskRunId: context.taskRunId,
        missingAfterSyncs: context.settings.missingAfterSyncs,
        logger: context.logger,
      });
      if (result.totals.sources_failed > 0) {
        const failed = result.sources.filter((source) => source.status === 'failed');
        throw new TaskPartlyFailedError(
          `${failed.length} inventory source(s) failed: ` +
            failed.map((source) => `${source.source}: ${source.error ?? 'unknown error'}`).join('; '),
          { ...result },
        );
      }
      return { ...result };
    },
  },
};

export function getTask(name: string): TaskDefinition {
  if ((TASK_NAMES as readonly string[]).includes(name)) return TASKS[name as TaskName];
  throw new DomainError('unknown_task', { name, names: TASK_NAMES.join(', ') });
}
