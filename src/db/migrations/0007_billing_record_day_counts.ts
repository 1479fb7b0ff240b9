/**
 * Keeps the number of billing records per billing day in
 * billing_record_day_counts, so that the unfiltered billing record list
 * (and a list filtered by dates only) reads an exact count from one row per
 * day. Counting 10 million records took about 700 ms on every request
 * (docs/benchmarks.md).
 *
 * Statement-level triggers on billing_records keep the counts in the same
 * transaction as each change, so the count is exact at every commit,
 * whichever code writes the records: INSERT adds, DELETE subtracts, an UPDATE
 * that changes billing_date moves records between days, and TRUNCATE empties
 * the counts. A day without records has no row. Billing inserts a day in chunks
 * (one statement per chunk), and each chunk's trigger adds one aggregate over
 * its transition table.
 *
 * CREATE TRIGGER locks billing_records against writes until the migration
 * commits, so no record is written between the backfill and the triggers.
 */
export const statements = [
  `CREATE TABLE billing_record_day_counts (
    billing_date date PRIMARY KEY,
    record_count bigint NOT NULL CHECK (record_count >= 0)
  )`,

  `CREATE FUNCTION billing_record_day_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO billing_record_day_counts AS c (billing_date, record_count)
    SELECT billing_date, count(*) FROM added_records GROUP BY billing_date
    ON CONFLICT (billing_date) DO UPDATE SET record_count = c.record_count + excluded.record_count;
    RETURN NULL;
  END
  $$`,

  `CREATE FUNCTION billing_record_day_counts_subtract() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE billing_record_day_counts c SET record_count = c.record_count - removed.record_count
    FROM (SELECT billing_date, count(*) AS record_count FROM removed_records GROUP BY billing_date) removed
    WHERE c.billing_date = removed.billing_date;
    DELETE FROM billing_record_day_counts WHERE record_count = 0;
    RETURN NULL;
  END
  $$`,

  // An UPDATE that keeps every billing_date (e.g. rerating) nets to no change and writes nothing.
  // PostgreSQL checks a row's CHECK constraints before ON CONFLICT, so a day's
  // negative change is an UPDATE and only days new to the table are inserted.
  `CREATE FUNCTION billing_record_day_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    WITH changes AS (
      SELECT billing_date, sum(change) AS change
      FROM (
        SELECT billing_date, -1 AS change FROM removed_records
        UNION ALL
        SELECT billing_date, 1 AS change FROM added_records
      ) AS moved
      GROUP BY billing_date
      HAVING sum(change) <> 0
    ),
    updated AS (
      UPDATE billing_record_day_counts c SET record_count = c.record_count + changes.change
      FROM changes
      WHERE c.billing_date = changes.billing_date
      RETURNING c.billing_date
    )
    INSERT INTO billing_record_day_counts (billing_date, record_count)
    SELECT billing_date, change FROM changes
    WHERE billing_date NOT IN (SELECT billing_date FROM updated);
    DELETE FROM billing_record_day_counts WHERE record_count = 0;
    RETURN NULL;
  END
  $$`,

  `CREATE FUNCTION billing_record_day_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    DELETE FROM billing_record_day_counts;
    RETURN NULL;
  END
  $$`,

  `CREATE TRIGGER billing_record_day_counts_insert AFTER INSERT ON billing_records
    REFERENCING NEW TABLE AS added_records
    FOR EACH STATEMENT EXECUTE FUNCTION billing_record_day_counts_add()`,

  `CREATE TRIGGER billing_record_day_counts_delete AFTER DELETE ON billing_records
    REFERENCING OLD TABLE AS removed_records
    FOR EACH STATEMENT EXECUTE FUNCTION billing_record_day_counts_subtract()`,

  `CREATE TRIGGER billing_record_day_counts_update AFTER UPDATE ON billing_records
    REFERENCING OLD TABLE AS removed_records NEW TABLE AS added_records
    FOR EACH STATEMENT EXECUTE FUNCTION billing_record_day_counts_move()`,

  `CREATE TRIGGER billing_record_day_counts_truncate AFTER TRUNCATE ON billing_records
    FOR EACH STATEMENT EXECUTE FUNCTION billing_record_day_counts_clear()`,

  `INSERT INTO billing_record_day_counts (billing_date, record_count)
    SELECT billing_date, count(*) FROM billing_records GROUP BY billing_date`,
];
