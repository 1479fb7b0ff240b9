import { Decimal } from 'decimal.js';
import { sql, type RawBuilder } from 'kysely';

import type { Db } from '../db/database.js';
import { BillingDayRepository } from '../db/repositories/billing-day.repository.js';
import { PriceVersionRepository } from '../db/repositories/price-version.repository.js';
import type { PriceVersion } from '../db/schema.js';
import { DomainError } from '../errors.js';
import { addDays, dayOf, dayStart, daysBetween } from './days.js';
import { BILLED_HOURS } from './pricing.js';

/**
 * Daily billing: one billing record per billable information system and day,
 * computed by set-based SQL over chunks of systems.
 *
 * The rules, in the order the SQL applies them:
 *  1. Day D is [D 00:00, D+1 00:00) in the billing time zone.
 *  2. A system is billable on D when it was created before D 00:00 and was not
 *     decommissioned before D 00:00 (one decommissioned during D is billed for D).
 *  3. D is billed at the configuration in force at D 00:00. Totals, run mode and
 *     discount change only through logged changes that keep their "before"
 *     values, so the value at D 00:00 is the "before" of the first change
 *     detected at or after D 00:00, else the current value. A change detected
 *     during D therefore takes effect on D+1.
 *  4. Prices come from the price version with the latest effective_from ≤ D.
 *  5. Hours per day follow the run mode (BILLED_HOURS). Each amount is
 *     size × unit price × hours, and gross is their sum. The amount charged is
 *     gross × discount rate, rounded half-up to 0.01 CNY: PostgreSQL's
 *     round(numeric, 2) rounds halves away from zero, which is half-up here
 *     because amounts are never negative.
 *  6. Exactly once: the unique (information_system_id, billing_date) key and
 *     ON CONFLICT DO NOTHING make any repeated, concurrent or resumed run add
 *     only the records still missing.
 */

export interface BillingOptions {
  /** IANA zone of the billing day. */
  timezone: string;
  /** Systems per SQL statement. */
  chunkSize: number;
  /** TaskRun that the created records point to. */
  taskRunId?: string | null;
  /** Called after each chunk commits; tests throw here to simulate a crash half-way. */
  afterChunk?: (chunk: ChunkResult) => void | Promise<void>;
}

export interface ChunkResult {
  day: string;
  lastSystemId: number;
  systems: number;
  recordsCreated: number;
  amountCreated: string;
}

export interface DayResult {
  day: string;
  /** Systems billable on the day. */
  systemsBillable: number;
  recordsCreated: number;
  /** Records that an earlier or concurrent run had already written. */
  recordsExisting: number;
  amountCreated: string;
  /** Sum of all records of the day after this run. */
  totalAmount: string;
  priceVersionId: number;
}

export interface RerateResult {
  day: string;
  systemsBillable: number;
  recordsChanged: number;
  recordsCreated: number;
  amountBefore: string;
  amountAfter: string;
}

/** Bills `day` for every billable system, in chunks; safe to repeat and to run concurrently. */
export async function billDay(db: Db, day: string, options: BillingOptions): Promise<DayResult> {
  const price = await requirePriceVersion(db, day);
  const start = dayStart(day, options.timezone);

  let afterId = 0;
  let systemsBillable = 0;
  let recordsCreated = 0;
  let amountCreated = new Decimal(0);

  for (;;) {
    const chunk = await insertChunk(db, { day, start, afterId, price, options });
    if (chunk.systems === 0) break;

    systemsBillable += chunk.systems;
    recordsCreated += chunk.recordsCreated;
    amountCreated = amountCreated.plus(chunk.amountCreated);
    afterId = chunk.lastSystemId;
    await options.afterChunk?.(chunk);
  }

  const billingDays = new BillingDayRepository(db);
  const completed = await billingDays.markComplete(day, options.taskRunId ?? null);

  return {
    day,
    systemsBillable,
    recordsCreated,
    recordsExisting: systemsBillable - recordsCreated,
    amountCreated: amountCreated.toFixed(2),
    totalAmount: completed.total_amount,
    priceVersionId: price.id,
  };
}

/**
 * Recomputes the records of an already billed `day` from the current history
 * and prices. Each record whose values change keeps a revision row with its
 * values before and after; records still missing are created.
 */
export async function rerateDay(
  db: Db,
  day: string,
  options: BillingOptions & { reason: string },
): Promise<RerateResult> {
  const price = await requirePriceVersion(db, day);
  const start = dayStart(day, options.timezone);

  const result: RerateResult = {
    day,
    systemsBillable: 0,
    recordsChanged: 0,
    recordsCreated: 0,
    amountBefore: '0.00',
    amountAfter: '0.00',
  };
  let amountBefore = new Decimal(0);
  let amountAfter = new Decimal(0);
  let afterId = 0;

  for (;;) {
    const chunk = await rerateChunk(db, { day, start, afterId, price, options });
    if (chunk.systems === 0) break;

    result.systemsBillable += chunk.systems;
    result.recordsChanged += chunk.recordsChanged;
    result.recordsCreated += chunk.recordsCreated;
    amountBefore = amountBefore.plus(chunk.amountBefore);
    amountAfter = amountAfter.plus(chunk.amountAfter);
    afterId = chunk.lastSystemId;
  }

  await new BillingDayRepository(db).markComplete(day, options.taskRunId ?? null);

  result.amountBefore = amountBefore.toFixed(2);
  result.amountAfter = amountAfter.toFixed(2);
  return result;
}

/** Systems with ids in (afterId, lastId] that one job of a distributed billing run bills. */
export interface ChunkRange {
  afterId: number;
  lastId: number;
}

/**
 * Splits the systems billable on `day` into id ranges of at most `chunkSize`
 * systems, in one statement, so that workers can bill the ranges in parallel.
 * The billable set of a finished day does not change (a system created later
 * is billable from the day after its creation), so the ranges stay valid.
 */
export async function planDayChunks(
  db: Db,
  day: string,
  options: { timezone: string; chunkSize: number },
): Promise<ChunkRange[]> {
  const start = dayStart(day, options.timezone);
  const { rows } = await sql<{ id: number; position: string; total: string }>`
    WITH billable AS (
      SELECT s.id, row_number() OVER (ORDER BY s.id) AS position, count(*) OVER () AS total
      FROM information_systems s
      WHERE s.created_at < ${start}
        AND (s.decommissioned_at IS NULL OR s.decommissioned_at >= ${start})
    )
    SELECT id, position, total FROM billable
    WHERE position % ${options.chunkSize} = 0 OR position = total
    ORDER BY id`.execute(db);

  const ranges: ChunkRange[] = [];
  let afterId = 0;
  for (const row of rows) {
    ranges.push({ afterId, lastId: row.id });
    afterId = row.id;
  }
  return ranges;
}

/** Bills the systems of one range on `day`; safe to repeat, because existing records are kept. */
export async function billChunkRange(
  db: Db,
  day: string,
  range: ChunkRange,
  options: BillingOptions,
): Promise<ChunkResult & { priceVersionId: number }> {
  const price = await requirePriceVersion(db, day);
  const start = dayStart(day, options.timezone);
  const chunk = await insertChunk(db, {
    day,
    start,
    afterId: range.afterId,
    untilId: range.lastId,
    price,
    options: { ...options, chunkSize: range.lastId - range.afterId },
  });
  return { ...chunk, priceVersionId: price.id };
}

/** Marks `day` complete after every range of it was billed; returns the day's record count and total. */
export async function completeDay(db: Db, day: string, taskRunId: string | null) {
  return new BillingDayRepository(db).markComplete(day, taskRunId);
}

export interface CatchUpWindow {
  /** Days in the window that are not complete, oldest first. */
  days: string[];
  /** Incomplete days older than the window, left for a manual run. */
  daysBeyondWindow: number;
}

/**
 * Lists the days a scheduled run bills at `now`: yesterday and every earlier
 * day of the last `catchUpDays` days that has not completed, from the first day
 * any system was billable.
 */
export async function findDaysToBill(
  db: Db,
  now: Date,
  options: { timezone: string; catchUpDays: number },
): Promise<CatchUpWindow> {
  const yesterday = addDays(dayOf(now, options.timezone), -1);
  const windowStart = addDays(yesterday, -(options.catchUpDays - 1));

  const firstCreated = await db
    .selectFrom('information_systems')
    .select((eb) => eb.fn.min('created_at').as('first_created_at'))
    .executeTakeFirst();
  if (!firstCreated?.first_created_at) return { days: [], daysBeyondWindow: 0 };

  // A system is first billed on the day after the one it was created in.
  const firstBillableDay = addDays(dayOf(new Date(firstCreated.first_created_at), options.timezone), 1);
  if (firstBillableDay > yesterday) return { days: [], daysBeyondWindow: 0 };

  const from = firstBillableDay > windowStart ? firstBillableDay : windowStart;
  const billingDays = new BillingDayRepository(db);
  const complete = new Set(await billingDays.getCompleteDaysBetween(from, yesterday));
  const days = daysBetween(from, yesterday).filter((day) => !complete.has(day));

  let daysBeyondWindow = 0;
  if (firstBillableDay < windowStart) {
    const before = addDays(windowStart, -1);
    const completeBefore = await billingDays.countCompleteDaysBetween(firstBillableDay, before);
    daysBeyondWindow = daysBetween(firstBillableDay, before).length - completeBefore;
  }

  return { days, daysBeyondWindow };
}

async function requirePriceVersion(db: Db, day: string): Promise<PriceVersion> {
  const price = await new PriceVersionRepository(db).getInForceOn(day);
  if (!price) {
    throw new DomainError('no_price_version', { date: day });
  }
  return price;
}

interface ChunkParameters {
  day: string;
  start: Date;
  afterId: number;
  /** Last system id of the chunk, for a planned range; unset, the chunk is the next chunkSize systems. */
  untilId?: number;
  price: PriceVersion;
  options: BillingOptions;
}

/**
 * Builds the CTEs `chunk` (the next billable systems after afterId) through
 * `rated` (one row per system with its snapshot at D 00:00, unit prices and amounts).
 */
function ratedChunk({ day, start, afterId, untilId, price, options }: ChunkParameters): RawBuilder<unknown> {
  const hoursByRunMode = sql.join(
    Object.entries(BILLED_HOURS).map(([runMode, hours]) => sql`WHEN ${runMode} THEN ${hours}::integer`),
    sql` `,
  );

  return sql`
    chunk AS (
      SELECT s.id, s.tenant_id, s.run_mode, s.total_cpu, s.total_memory, s.total_storage
      FROM information_systems s
      WHERE s.id > ${afterId}
        ${untilId === undefined ? sql`` : sql`AND s.id <= ${untilId}`}
        AND s.created_at < ${start}
        AND (s.decommissioned_at IS NULL OR s.decommissioned_at >= ${start})
      ORDER BY s.id
      LIMIT ${options.chunkSize}
    ),
    -- A chunk is a contiguous id range, so the history look-ups below select it
    -- by range: a semi-join on chunk lets the planner pick a nested loop that
    -- rescans the chunk per history row.
    totals_at_start AS (
      SELECT DISTINCT ON (a.information_system_id)
        a.information_system_id, a.total_cpu_before, a.total_memory_before, a.total_storage_before
      FROM resource_adjustment_logs a
      WHERE a.detected_at >= ${start}
        AND a.information_system_id > ${afterId}
        AND a.information_system_id <= (SELECT max(id) FROM chunk)
      ORDER BY a.information_system_id, a.detected_at, a.id
    ),
    run_mode_at_start AS (
      SELECT DISTINCT ON (a.information_system_id) a.information_system_id, a.run_mode_before
      FROM resource_adjustment_logs a
      WHERE a.change_type = 'run_mode_changed'
        AND a.detected_at >= ${start}
        AND a.information_system_id > ${afterId}
        AND a.information_system_id <= (SELECT max(id) FROM chunk)
      ORDER BY a.information_system_id, a.detected_at, a.id
    ),
    discount_at_start AS (
      SELECT DISTINCT ON (c.tenant_id) c.tenant_id, c.discount_rate_before
      FROM tenant_discount_changes c
      WHERE c.changed_at >= ${start} AND c.tenant_id IN (SELECT tenant_id FROM chunk)
      ORDER BY c.tenant_id, c.changed_at, c.id
    ),
    snapshot AS (
      SELECT
        chunk.id AS information_system_id,
        chunk.tenant_id,
        COALESCE(r.run_mode_before, chunk.run_mode) AS run_mode,
        COALESCE(t.total_cpu_before, chunk.total_cpu) AS cpu,
        COALESCE(t.total_memory_before, chunk.total_memory) AS memory,
        COALESCE(t.total_storage_before, chunk.total_storage) AS storage,
        COALESCE(d.discount_rate_before, tenants.discount_rate) AS discount_rate
      FROM chunk
      JOIN tenants ON tenants.id = chunk.tenant_id
      LEFT JOIN totals_at_start t ON t.information_system_id = chunk.id
      LEFT JOIN run_mode_at_start r ON r.information_system_id = chunk.id
      LEFT JOIN discount_at_start d ON d.tenant_id = chunk.tenant_id
    ),
    amounts AS (
      SELECT
        snapshot.*,
        hours.billed_hours,
        snapshot.cpu * ${price.cpu_price}::numeric * hours.billed_hours AS cpu_amount,
        snapshot.memory * ${price.memory_price}::numeric * hours.billed_hours AS memory_amount,
        snapshot.storage * ${price.storage_price}::numeric * hours.billed_hours AS storage_amount
      FROM snapshot
      CROSS JOIN LATERAL (SELECT CASE snapshot.run_mode ${hoursByRunMode} END AS billed_hours) hours
    ),
    rated AS (
      SELECT
        amounts.*,
        ${day}::date AS billing_date,
        ${price.id}::integer AS price_version_id,
        ${price.cpu_price}::numeric AS cpu_price,
        ${price.memory_price}::numeric AS memory_price,
        ${price.storage_price}::numeric AS storage_price,
        amounts.cpu_amount + amounts.memory_amount + amounts.storage_amount AS gross_amount,
        round((amounts.cpu_amount + amounts.memory_amount + amounts.storage_amount) * amounts.discount_rate, 2)
          AS amount
      FROM amounts
    )`;
}

const RECORD_COLUMNS = sql.raw(`
  information_system_id, tenant_id, billing_date, run_mode, billed_hours, cpu, memory, storage,
  price_version_id, cpu_price, memory_price, storage_price, cpu_amount, memory_amount, storage_amount,
  gross_amount, discount_rate, amount`);

async function insertChunk(db: Db, parameters: ChunkParameters): Promise<ChunkResult> {
  const taskRunId = parameters.options.taskRunId ?? null;

  const { rows } = await sql<{
    last_system_id: number | null;
    systems: string;
    records_created: string;
    amount_created: string;
  }>`
    WITH ${ratedChunk(parameters)},
    inserted AS (
      INSERT INTO billing_records (${RECORD_COLUMNS}, task_run_id)
      SELECT ${RECORD_COLUMNS}, ${taskRunId}::bigint FROM rated
      ON CONFLICT ON CONSTRAINT billing_records_system_day DO NOTHING
      RETURNING amount
    )
    SELECT
      (SELECT max(id) FROM chunk) AS last_system_id,
      (SELECT count(*) FROM chunk) AS systems,
      count(*) AS records_created,
      COALESCE(sum(amount), 0) AS amount_created
    FROM inserted`.execute(db);

  const row = rows[0]!;
  return {
    day: parameters.day,
    lastSystemId: row.last_system_id ?? parameters.afterId,
    systems: Number(row.systems),
    recordsCreated: Number(row.records_created),
    amountCreated: row.amount_created,
  };
}

async function rerateChunk(
  db: Db,
  parameters: ChunkParameters & { options: { reason: string } },
): Promise<{
  lastSystemId: number;
  systems: number;
  recordsChanged: number;
  recordsCreated: number;
  amountBefore: string;
  amountAfter: string;
}> {
  const taskRunId = parameters.options.taskRunId ?? null;

  // Every statement of a WITH sees the same snapshot, so `changed` reads the old
  // values while `updated` writes the new ones.
  const { rows } = await sql<{
    last_system_id: number | null;
    systems: string;
    records_changed: string;
    records_created: string;
    amount_before: string;
    amount_after: string;
  }>`
    WITH ${ratedChunk(parameters)},
    changed AS (
      SELECT br.id AS billing_record_id, br.amount AS old_amount, to_jsonb(br) AS old_record, rated.*
      FROM rated
      JOIN billing_records br
        ON br.information_system_id = rated.information_system_id AND br.billing_date = rated.billing_date
      WHERE (br.run_mode, br.billed_hours, br.cpu, br.memory, br.storage, br.price_version_id,
             br.cpu_price, br.memory_price, br.storage_price, br.discount_rate, br.gross_amount, br.amount)
        IS DISTINCT FROM
            (rated.run_mode, rated.billed_hours, rated.cpu, rated.memory, rated.storage, rated.price_version_id,
             rated.cpu_price, rated.memory_price, rated.storage_price, rated.discount_rate, rated.gross_amount,
             rated.amount)
    ),
    revisions AS (
      INSERT INTO billing_record_revisions
        (billing_record_id, information_system_id, billing_date, before, after,
         amount_before, amount_after, reason, task_run_id)
      SELECT
        c.billing_record_id, c.information_system_id, c.billing_date,
        c.old_record - 'id' - 'created_at' - 'rerated_at' - 'task_run_id',
        to_jsonb(c) - 'billing_record_id' - 'old_amount' - 'old_record',
        c.old_amount, c.amount, ${parameters.options.reason}, ${taskRunId}::bigint
      FROM changed c
    ),
    updated AS (
      UPDATE billing_records br SET
        run_mode = c.run_mode, billed_hours = c.billed_hours, cpu = c.cpu, memory = c.memory,
        storage = c.storage, price_version_id = c.price_version_id, cpu_price = c.cpu_price,
        memory_price = c.memory_price, storage_price = c.storage_price, cpu_amount = c.cpu_amount,
        memory_amount = c.memory_amount, storage_amount = c.storage_amount, gross_amount = c.gross_amount,
        discount_rate = c.discount_rate, amount = c.amount, rerated_at = now()
      FROM changed c
      WHERE br.id = c.billing_record_id
      RETURNING c.old_amount, br.amount
    ),
    inserted AS (
      INSERT INTO billing_records (${RECORD_COLUMNS}, task_run_id)
      SELECT ${RECORD_COLUMNS}, ${taskRunId}::bigint FROM rated
      ON CONFLICT ON CONSTRAINT billing_records_system_day DO NOTHING
      RETURNING amount
    )
    SELECT
      (SELECT max(id) FROM chunk) AS last_system_id,
      (SELECT count(*) FROM chunk) AS systems,
      (SELECT count(*) FROM updated) AS records_changed,
      (SELECT count(*) FROM inserted) AS records_created,
      (SELECT COALESCE(sum(old_amount), 0) FROM updated) AS amount_before,
      (SELECT COALESCE(sum(amount), 0) FROM updated) AS amount_after`.execute(db);

  const row = rows[0]!;
  return {
    lastSystemId: row.last_system_id ?? parameters.afterId,
    systems: Number(row.systems),
    recordsChanged: Number(row.records_changed),
    recordsCreated: Number(row.records_created),
    amountBefore: row.amount_before,
    amountAfter: row.amount_after,
  };
}
