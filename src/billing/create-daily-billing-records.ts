import { Decimal } from 'decimal.js';

import type { Db } from '../db/database.js';
import { DomainError } from '../errors.js';
import { parseDate } from '../inventory/validation.js';
import type { Logger } from '../logger.js';
import { billDay, findDaysToBill, rerateDay, type DayResult, type RerateResult } from './daily-billing.js';
import { addDays, dayOf, daysBetween } from './days.js';

/** Maximum number of days one manual run may bill. */
export const MAX_MANUAL_RANGE_DAYS = 366;

export interface BillingTaskArguments {
  /** One day to bill. */
  date?: string;
  /** First and last day of a range to bill, both included. */
  from?: string;
  to?: string;
  /** Re-rate days that are already billed, keeping a revision per changed record. */
  force?: boolean;
}

/** Validates the arguments of a manual run; throws DomainError naming the bad value. */
export function parseBillingArguments(
  raw: Record<string, unknown>,
  context: { now: Date; timezone: string },
): BillingTaskArguments {
  const parsed: BillingTaskArguments = {};
  if (raw.date !== undefined) parsed.date = parseDate(raw.date, 'date');
  if (raw.from !== undefined) parsed.from = parseDate(raw.from, 'from');
  if (raw.to !== undefined) parsed.to = parseDate(raw.to, 'to');
  if (raw.force !== undefined && raw.force !== false) parsed.force = true;

  if (parsed.date && (parsed.from || parsed.to)) {
    throw new DomainError('conflicting_options', { options: '--date, --from/--to' }, 'date');
  }
  if ((parsed.from && !parsed.to) || (!parsed.from && parsed.to)) {
    throw new DomainError(
      'missing_option',
      { options: parsed.from ? '--to' : '--from' },
      parsed.from ? 'to' : 'from',
    );
  }
  if (parsed.from && parsed.to) {
    if (parsed.from > parsed.to)
      throw new DomainError('invalid_date_range', { from: parsed.from, to: parsed.to }, 'from');
    const days = daysBetween(parsed.from, parsed.to).length;
    if (days > MAX_MANUAL_RANGE_DAYS) {
      throw new DomainError(
        'date_range_too_long',
        { from: parsed.from, to: parsed.to, days, max: MAX_MANUAL_RANGE_DAYS },
        'to',
      );
    }
  }
  if (parsed.force && !parsed.date && !parsed.from)
    throw new DomainError('missing_option', { options: '--date or --from/--to' }, 'force');

  // A day can be billed only once it has ended in the billing time zone.
  const lastDay = parsed.date ?? parsed.to;
  const today = dayOf(context.now, context.timezone);
  if (lastDay && lastDay >= today) {
    throw new DomainError(
      'day_not_finished',
      { date: lastDay, timezone: context.timezone },
      parsed.date ? 'date' : 'to',
    );
  }
  return parsed;
}

export interface BillingTaskContext {
  db: Db;
  now: Date;
  timezone: string;
  chunkSize: number;
  catchUpDays: number;
  taskRunId: string | null;
  logger: Logger;
}

/**
 * Lists the days a run bills: the given date or range, or with neither,
 * yesterday and every incomplete day of the catch-up window.
 */
export async function resolveBillingDays(
  context: Pick<BillingTaskContext, 'db' | 'now' | 'timezone' | 'catchUpDays' | 'logger'>,
  args: BillingTaskArguments,
): Promise<{ days: string[]; daysBeyondWindow: number }> {
  if (args.date) return { days: [args.date], daysBeyondWindow: 0 };
  if (args.from && args.to) return { days: daysBetween(args.from, args.to), daysBeyondWindow: 0 };

  const window = await findDaysToBill(context.db, context.now, {
    timezone: context.timezone,
    catchUpDays: context.catchUpDays,
  });
  if (window.daysBeyondWindow > 0) {
    context.logger.warn(
      {
        days_beyond_window: window.daysBeyondWindow,
        catch_up_days: context.catchUpDays,
        first_window_day: window.days[0],
      },
      'unbilled days lie outside the catch-up window; bill them with task exec --from/--to',
    );
  }
  return window;
}

/**
 * Runs create_daily_billing_records in this process. With no arguments it
 * bills yesterday and every incomplete day of the catch-up window. With a date
 * or range it bills those days, and re-rates already billed ones when `force`
 * is set.
 */
export async function createDailyBillingRecords(context: BillingTaskContext, args: BillingTaskArguments) {
  const { days, daysBeyondWindow } = await resolveBillingDays(context, args);

  const options = { timezone: context.timezone, chunkSize: context.chunkSize, taskRunId: context.taskRunId };
  const billed: DayResult[] = [];
  const rerated: RerateResult[] = [];

  for (const day of days) {
    if (args.force) {
      const result = await rerateDay(context.db, day, { ...options, reason: 'manual re-rate (--force)' });
      rerated.push(result);
      context.logger.info(
        {
          day,
          systems_billable: result.systemsBillable,
          records_changed: result.recordsChanged,
          records_created: result.recordsCreated,
          amount_before: result.amountBefore,
          amount_after: result.amountAfter,
        },
        're-rated billing day',
      );
    } else {
      const result = await billDay(context.db, day, options);
      billed.push(result);
      logBilledDay(context.logger, result);
    }
  }

  return summarizeBillingRun({
    days,
    daysBeyondWindow,
    billed,
    rerated,
    force: args.force === true,
    today: dayOf(context.now, context.timezone),
  });
}

export function logBilledDay(logger: Logger, result: DayResult): void {
  logger.info(
    {
      day: result.day,
      systems_billable: result.systemsBillable,
      records_created: result.recordsCreated,
      amount_created: result.amountCreated,
    },
    'billed day',
  );
}

/** Builds the JSON result of a billing run, the same whether one process or many workers billed it. */
export function summarizeBillingRun(run: {
  days: string[];
  daysBeyondWindow: number;
  billed: DayResult[];
  rerated: RerateResult[];
  force: boolean;
  today: string;
}) {
  const { days, billed, rerated } = run;
  const sum = (values: string[]) =>
    values.reduce((total, value) => total.plus(value), new Decimal(0)).toFixed(2);
  return {
    days,
    days_billed: days.length,
    days_beyond_window: run.daysBeyondWindow,
    first_day: days[0] ?? null,
    last_day: days.at(-1) ?? null,
    records_created:
      billed.reduce((total, day) => total + day.recordsCreated, 0) +
      rerated.reduce((total, day) => total + day.recordsCreated, 0),
    // A re-rated day's records that existed before, changed or not, count as existing too.
    records_existing:
      billed.reduce((total, day) => total + day.recordsExisting, 0) +
      rerated.reduce((total, day) => total + day.systemsBillable - day.recordsCreated, 0),
    amount_created: sum(billed.map((day) => day.amountCreated)),
    records_rerated: rerated.reduce((total, day) => total + day.recordsChanged, 0),
    rerated_amount_before: run.force ? sum(rerated.map((day) => day.amountBefore)) : undefined,
    rerated_amount_after: run.force ? sum(rerated.map((day) => day.amountAfter)) : undefined,
    per_day: [
      ...billed.map((day) => ({
        day: day.day,
        systems_billable: day.systemsBillable,
        records_created: day.recordsCreated,
        records_existing: day.recordsExisting,
        amount_created: day.amountCreated,
        total_amount: day.totalAmount,
      })),
      ...rerated.map((day) => ({
        day: day.day,
        systems_billable: day.systemsBillable,
        records_changed: day.recordsChanged,
        records_created: day.recordsCreated,
        amount_before: day.amountBefore,
        amount_after: day.amountAfter,
      })),
    ],
    yesterday: addDays(run.today, -1),
  };
}
