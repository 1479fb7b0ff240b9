/**
 * Makes the unique (information_system_id, billing_date) index of
 * billing_records carry every other column, so that reading a system's page
 * of records is an index-only scan.
 *
 * Daily billing writes one record per system per day, so a system's records
 * lie one per heap page. A 50-row page of the API read 50 heap pages, most of
 * them outside shared_buffers on a large table. From the covering index it
 * reads about 6 index pages. With 10 million records, pgbench ran that
 * statement 1.2 to 1.6 times as often per second (docs/benchmarks.md,
 * change 14). The constraint keeps its name, because daily billing names it
 * in ON CONFLICT.
 *
 * The page also counts all of the system's records. From the wide index that
 * count read 17 pages in EXPLAIN, so a plain index on information_system_id
 * serves it: deduplicated, 72 MB for 10 million records. With it, pgbench ran
 * the whole page statement 1.4 times as often per second.
 *
 * An index-only scan still reads the heap for rows on pages that VACUUM has
 * not yet marked all-visible. By default autovacuum visits an insert-only
 * table after 20 % of its rows are new, which is 73 days of billing for
 * 27,400 systems and 10 million records. The storage parameters make it
 * visit after every 10,000 new rows, that is after each daily run on a cloud
 * of 10,000 systems or more.
 *
 * NOTE: the covering index is about as large as the table (1.5 GB for 10
 * million records). Building both indexes blocks writes to billing_records,
 * for about 27 s with 10 million records on the benchmark machine. A column
 * added to billing_records later must be added to INCLUDE as well, or the
 * page reads the heap again.
 */
export const statements = [
  `ALTER TABLE billing_records DROP CONSTRAINT billing_records_system_day`,
  `ALTER TABLE billing_records ADD CONSTRAINT billing_records_system_day
    UNIQUE (information_system_id, billing_date)
    INCLUDE (id, tenant_id, run_mode, billed_hours, cpu, memory, storage, price_version_id,
      cpu_price, memory_price, storage_price, cpu_amount, memory_amount, storage_amount,
      gross_amount, discount_rate, amount, currency, task_run_id, created_at, rerated_at)`,
  `CREATE INDEX billing_records_system ON billing_records (information_system_id)`,
  `ALTER TABLE billing_records SET (
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0
  )`,
];
