/**
 * Replaces the index on billing_records (billing_date) with one on
 * (billing_date DESC, id), which is the default order of the billing record
 * list: newest day first, ties by ascending id. With the old index,
 * PostgreSQL 15 sorted all records of the newest day by id for every page.
 * With one record per system per day, 27,400 systems made that sort spill to
 * disk, and a 50-row page took 73 ms instead of under 1 ms (EXPLAIN ANALYZE on
 * 10 million records, see docs/benchmarks.md). Date-range filters use the new
 * index as they used the old one, so billing still maintains four indexes.
 *
 * NOTE: the new index is larger because its keys are unique, so PostgreSQL
 * cannot deduplicate them: 301 MB against 66 MB for 10 million records.
 * CREATE INDEX also blocks writes to billing_records while it runs, about 6 s
 * for 10 million records on the benchmark machine.
 */
export const statements = [
  `CREATE INDEX billing_records_billing_date_id ON billing_records (billing_date DESC, id)`,
  `DROP INDEX billing_records_billing_date`,
];
