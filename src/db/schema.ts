import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Row types of the tables created by the migrations. NUMERIC columns are
 * strings (exact decimal text); `date` columns are `YYYY-MM-DD` strings; bigint
 * ids are strings.
 */

type Decimal = ColumnType<string, string | number, string | number>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type BigId = ColumnType<string, string | number | bigint, string | number | bigint>;

export type RunMode = '7x24' | '5x8';
export type VmStatus = 'running' | 'stopped' | 'suspended' | 'error' | 'missing' | 'deleted' | 'unknown';
export type ChangeType = 'vm_added' | 'vm_removed' | 'vm_resized' | 'vm_reassigned' | 'run_mode_changed';
export type TaskTrigger = 'schedule' | 'manual' | 'catch_up';
export type TaskRunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface TenantsTable {
  id: Generated<number>;
  code: string;
  name: string;
  discount_rate: Decimal;
  status: ColumnType<'active' | 'inactive', 'active' | 'inactive' | undefined>;
  created_at: Timestamp;
}

export interface TenantDiscountChangesTable {
  id: Generated<string>;
  tenant_id: number;
  discount_rate_before: Decimal;
  discount_rate_after: Decimal;
  changed_at: Timestamp;
  effective_date: string;
}

export interface InformationSystemsTable {
  id: Generated<number>;
  tenant_id: number;
  code: string;
  name: string;
  run_mode: RunMode;
  status: ColumnType<'active' | 'decommissioned', 'active' | 'decommissioned' | undefined>;
  total_cpu: ColumnType<number, number | undefined, number>;
  total_memory: ColumnType<string, string | number | undefined, string | number>;
  total_storage: ColumnType<string, string | number | undefined, string | number>;
  created_at: Timestamp;
  decommissioned_at: Date | null;
}

export interface VirtualMachinesTable {
  id: Generated<number>;
  provider: string;
  external_id: string;
  name: string;
  information_system_id: number | null;
  observed_system_id: number | null;
  observed_cpu: number;
  observed_memory: Decimal;
  observed_storage: Decimal;
  recorded_cpu: ColumnType<number, number | undefined, number>;
  recorded_memory: ColumnType<string, string | number | undefined, string | number>;
  recorded_storage: ColumnType<string, string | number | undefined, string | number>;
  status: VmStatus;
  missed_syncs: ColumnType<number, number | undefined, number>;
  last_seen_task_run_id: BigId | null;
  last_synced_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ResourceAdjustmentLogsTable {
  id: Generated<string>;
  information_system_id: number;
  virtual_machine_id: number | null;
  change_type: ChangeType;
  cpu_before: number | null;
  memory_before: string | null;
  storage_before: string | null;
  cpu_after: number | null;
  memory_after: string | null;
  storage_after: string | null;
  run_mode_before: RunMode | null;
  run_mode_after: RunMode | null;
  total_cpu_before: number;
  total_memory_before: Decimal;
  total_storage_before: Decimal;
  total_cpu_after: number;
  total_memory_after: Decimal;
  total_storage_after: Decimal;
  detected_at: Timestamp;
  effective_date: string;
  task_run_id: BigId | null;
}

export interface PriceVersionsTable {
  id: Generated<number>;
  effective_from: string;
  cpu_price: Decimal;
  memory_price: Decimal;
  storage_price: Decimal;
  created_at: Timestamp;
}

export interface BillingRecordsTable {
  id: Generated<string>;
  information_system_id: number;
  tenant_id: number;
  billing_date: string;
  run_mode: RunMode;
  billed_hours: number;
  cpu: number;
  memory: Decimal;
  storage: Decimal;
  price_version_id: number;
  cpu_price: Decimal;
  memory_price: Decimal;
  storage_price: Decimal;
  cpu_amount: Decimal;
  memory_amount: Decimal;
  storage_amount: Decimal;
  gross_amount: Decimal;
  discount_rate: Decimal;
  amount: Decimal;
  currency: ColumnType<string, string | undefined, string>;
  task_run_id: BigId | null;
  created_at: Timestamp;
  rerated_at: Date | null;
}

export interface BillingRecordRevisionsTable {
  id: Generated<string>;
  billing_record_id: BigId;
  information_system_id: number;
  billing_date: string;
  before: unknown;
  after: unknown;
  amount_before: Decimal;
  amount_after: Decimal;
  reason: string;
  task_run_id: BigId | null;
  created_at: Timestamp;
}

export interface BillingDaysTable {
  billing_date: string;
  record_count: number;
  total_amount: Decimal;
  completed_at: Timestamp;
  task_run_id: BigId | null;
}

/** Billing records per billing day, kept by triggers on billing_records (migration 0007). */
export interface BillingRecordDayCountsTable {
  billing_date: string;
  record_count: string;
}

export interface TaskRunsTable {
  id: Generated<string>;
  task_name: string;
  queue: string;
  trigger: TaskTrigger;
  arguments: ColumnType<Record<string, unknown>, string | undefined, string>;
  status: ColumnType<TaskRunStatus, TaskRunStatus | undefined, TaskRunStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  result: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  error: string | null;
  created_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
  /** BullMQ job id in distributed mode; null for runs in the embedded runner. */
  job_id: string | null;
}

export type Role = 'admin' | 'tenant_admin' | 'tenant_viewer';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: Role;
  tenant_id: number | null;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  last_login_at: Date | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: Timestamp;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface InventorySourcesTable {
  id: Generated<number>;
  name: string;
  type: string;
  /** Connector settings without secrets. */
  options: ColumnType<Record<string, unknown>, string, string>;
  /** Inline secret fields by name; never returned by the API. */
  secrets: ColumnType<Record<string, string>, string, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  tenants: TenantsTable;
  tenant_discount_changes: TenantDiscountChangesTable;
  information_systems: InformationSystemsTable;
  virtual_machines: VirtualMachinesTable;
  resource_adjustment_logs: ResourceAdjustmentLogsTable;
  price_versions: PriceVersionsTable;
  billing_records: BillingRecordsTable;
  billing_record_revisions: BillingRecordRevisionsTable;
  billing_days: BillingDaysTable;
  billing_record_day_counts: BillingRecordDayCountsTable;
  task_runs: TaskRunsTable;
  inventory_sources: InventorySourcesTable;
}

export type Tenant = Selectable<TenantsTable>;
export type InformationSystem = Selectable<InformationSystemsTable>;
export type VirtualMachine = Selectable<VirtualMachinesTable>;
export type ResourceAdjustmentLog = Selectable<ResourceAdjustmentLogsTable>;
export type PriceVersion = Selectable<PriceVersionsTable>;
export type BillingRecord = Selectable<BillingRecordsTable>;
export type TaskRun = Selectable<TaskRunsTable>;
export type NewResourceAdjustmentLog = Insertable<ResourceAdjustmentLogsTable>;
export type User = Selectable<UsersTable>;
export type ApiToken = Selectable<ApiTokensTable>;
export type InventorySourceRow = Selectable<InventorySourcesTable>;
