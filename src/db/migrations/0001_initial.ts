/**
 * The domain tables. Money and sizes are NUMERIC (exact decimal). Sizes are in
 * GB, meaning GiB (1024 MiB). Times are timestamptz; billing dates are `date`
 * values in the billing time zone.
 */
export const statements = [
  `CREATE TABLE tenants (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    discount_rate numeric(5, 4) NOT NULL CHECK (discount_rate > 0 AND discount_rate <= 1),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,

  // Every change of a tenant's discount rate. The rate in force at an instant is
  // the rate_before of the first change after it, else the tenant's current rate.
  `CREATE TABLE tenant_discount_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants (id),
    discount_rate_before numeric(5, 4) NOT NULL,
    discount_rate_after numeric(5, 4) NOT NULL,
    changed_at timestamptz NOT NULL,
    effective_date date NOT NULL
  )`,
  `CREATE INDEX tenant_discount_changes_tenant_changed_at ON tenant_discount_changes (tenant_id, changed_at)`,

  `CREATE TABLE information_systems (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants (id),
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    run_mode text NOT NULL CHECK (run_mode IN ('7x24', '5x8')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'decommissioned')),
    total_cpu integer NOT NULL DEFAULT 0 CHECK (total_cpu >= 0),
    total_memory numeric NOT NULL DEFAULT 0 CHECK (total_memory >= 0),
    total_storage numeric NOT NULL DEFAULT 0 CHECK (total_storage >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    decommissioned_at timestamptz,
    CHECK ((status = 'decommissioned') = (decommissioned_at IS NOT NULL))
  )`,
  `CREATE INDEX information_systems_tenant_id ON information_systems (tenant_id)`,

  // information_system_id and recorded_* are the baseline that billing follows;
  // observed_* are what the last sync read. detect_resource_changes moves the
  // baseline to the observation and logs each move.
  `CREATE TABLE virtual_machines (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider text NOT NULL,
    external_id text NOT NULL,
    name text NOT NULL,
    information_system_id integer REFERENCES information_systems (id),
    observed_system_id integer REFERENCES information_systems (id),
    observed_cpu integer NOT NULL DEFAULT 0 CHECK (observed_cpu >= 0),
    observed_memory numeric NOT NULL DEFAULT 0 CHECK (observed_memory >= 0),
    observed_storage numeric NOT NULL DEFAULT 0 CHECK (observed_storage >= 0),
    recorded_cpu integer NOT NULL DEFAULT 0 CHECK (recorded_cpu >= 0),
    recorded_memory numeric NOT NULL DEFAULT 0 CHECK (recorded_memory >= 0),
    recorded_storage numeric NOT NULL DEFAULT 0 CHECK (recorded_storage >= 0),
    status text NOT NULL DEFAULT 'unknown'
      CHECK (status IN ('running', 'stopped', 'suspended', 'error', 'missing', 'deleted', 'unknown')),
    missed_syncs integer NOT NULL DEFAULT 0,
    last_seen_task_run_id bigint,
    last_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, external_id)
  )`,
  `CREATE INDEX virtual_machines_information_system_id ON virtual_machines (information_system_id)`,
  `CREATE INDEX virtual_machines_observed_system_id ON virtual_machines (observed_system_id)`,

  `CREATE TABLE task_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_name text NOT NULL,
    queue text NOT NULL,
    trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'catch_up')),
    arguments jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    result jsonb,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
  )`,
  `CREATE INDEX task_runs_task_name_created_at ON task_runs (task_name, created_at DESC)`,

  // One row per change in a system's resources. The system totals before and
  // after make each row self-contained, so the snapshot at any instant is the
  // totals_before of the first row detected at or after it.
  `CREATE TABLE resource_adjustment_logs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    information_system_id integer NOT NULL REFERENCES information_systems (id),
    virtual_machine_id integer REFERENCES virtual_machines (id),
    change_type text NOT NULL
      CHECK (change_type IN ('vm_added', 'vm_removed', 'vm_resized', 'vm_reassigned', 'run_mode_changed')),
    cpu_before integer,
    memory_before numeric,
    storage_before numeric,
    cpu_after integer,
    memory_after numeric,
    storage_after numeric,
    run_mode_before text,
    run_mode_after text,
    total_cpu_before integer NOT NULL,
    total_memory_before numeric NOT NULL,
    total_storage_before numeric NOT NULL,
    total_cpu_after integer NOT NULL,
    total_memory_after numeric NOT NULL,
    total_storage_after numeric NOT NULL,
    detected_at timestamptz NOT NULL,
    effective_date date NOT NULL,
    task_run_id bigint REFERENCES task_runs (id)
  )`,
  `CREATE INDEX resource_adjustment_logs_system_detected_at
    ON resource_adjustment_logs (information_system_id, detected_at)`,
  `CREATE INDEX resource_adjustment_logs_detected_at ON resource_adjustment_logs (detected_at)`,
  `CREATE INDEX resource_adjustment_logs_virtual_machine_id ON resource_adjustment_logs (virtual_machine_id)`,

  // Prices in CNY per core-hour and per GB-hour.
  `CREATE TABLE price_versions (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    effective_from date NOT NULL UNIQUE,
    cpu_price numeric(12, 6) NOT NULL CHECK (cpu_price >= 0),
    memory_price numeric(12, 6) NOT NULL CHECK (memory_price >= 0),
    storage_price numeric(12, 6) NOT NULL CHECK (storage_price >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  // The default prices, in force from the beginning.
  `INSERT INTO price_versions (effective_from, cpu_price, memory_price, storage_price)
    VALUES ('1970-01-01', 0.10, 0.05, 0.01)`,

  `CREATE TABLE billing_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    information_system_id integer NOT NULL REFERENCES information_systems (id),
    tenant_id integer NOT NULL REFERENCES tenants (id),
    billing_date date NOT NULL,
    run_mode text NOT NULL,
    billed_hours integer NOT NULL,
    cpu integer NOT NULL,
    memory numeric NOT NULL,
    storage numeric NOT NULL,
    price_version_id integer NOT NULL REFERENCES price_versions (id),
    cpu_price numeric(12, 6) NOT NULL,
    memory_price numeric(12, 6) NOT NULL,
    storage_price numeric(12, 6) NOT NULL,
    cpu_amount numeric NOT NULL,
    memory_amount numeric NOT NULL,
    storage_amount numeric NOT NULL,
    gross_amount numeric NOT NULL,
    discount_rate numeric(5, 4) NOT NULL,
    amount numeric(18, 2) NOT NULL,
    currency char(3) NOT NULL DEFAULT 'CNY',
    task_run_id bigint REFERENCES task_runs (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    rerated_at timestamptz,
    CONSTRAINT billing_records_system_day UNIQUE (information_system_id, billing_date)
  )`,
  `CREATE INDEX billing_records_billing_date ON billing_records (billing_date)`,
  `CREATE INDEX billing_records_tenant_billing_date ON billing_records (tenant_id, billing_date)`,

  // The audit trail of re-rating: a billed record's values before and after.
  `CREATE TABLE billing_record_revisions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    billing_record_id bigint NOT NULL REFERENCES billing_records (id),
    information_system_id integer NOT NULL,
    billing_date date NOT NULL,
    before jsonb NOT NULL,
    after jsonb NOT NULL,
    amount_before numeric(18, 2) NOT NULL,
    amount_after numeric(18, 2) NOT NULL,
    reason text NOT NULL,
    task_run_id bigint REFERENCES task_runs (id),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX billing_record_revisions_record ON billing_record_revisions (billing_record_id)`,

  // Days whose billing finished: catch-up bills the days in its window that are
  // not here. A day whose run died half-way has no row and is billed again.
  `CREATE TABLE billing_days (
    billing_date date PRIMARY KEY,
    record_count integer NOT NULL,
    total_amount numeric(20, 2) NOT NULL,
    completed_at timestamptz NOT NULL,
    task_run_id bigint REFERENCES task_runs (id)
  )`,
];
