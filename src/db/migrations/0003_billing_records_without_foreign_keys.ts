/**
 * Drops the foreign keys of billing_records. Their row-by-row checks were half
 * the time of daily billing: 13 s of 25 s for 1,000,000 systems on the
 * benchmark machine (docs/benchmarks.md).
 *
 * The references stay valid without them, because:
 *  - the only writers are daily billing and re-rating, which select the system,
 *    tenant and price version they store from those tables in the same statement;
 *  - nothing deletes tenants, information systems or task runs;
 *  - a price version can be changed or deleted only while its effective_from is
 *    in the future, and billing reads only versions in force on a finished day.
 */
export const statements = [
  `ALTER TABLE billing_records DROP CONSTRAINT IF EXISTS billing_records_information_system_id_fkey`,
  `ALTER TABLE billing_records DROP CONSTRAINT IF EXISTS billing_records_tenant_id_fkey`,
  `ALTER TABLE billing_records DROP CONSTRAINT IF EXISTS billing_records_price_version_id_fkey`,
  `ALTER TABLE billing_records DROP CONSTRAINT IF EXISTS billing_records_task_run_id_fkey`,
];
