import { Decimal } from 'decimal.js';

import type { RunMode } from '../db/schema.js';

/**
 * The pricing rules for one system and one day, in exact decimal arithmetic.
 * Daily billing applies the same rules in SQL; tests hold the two equal.
 */

/** Hours billed per day for each run mode. */
export const BILLED_HOURS: Record<RunMode, number> = {
  '7x24': 24,
  '5x8': 8,
};

export interface DailyConfiguration {
  runMode: RunMode;
  /** vCPU cores. */
  cpu: Decimal.Value;
  /** Memory in GB (GiB). */
  memory: Decimal.Value;
  /** Storage in GB (GiB). */
  storage: Decimal.Value;
  /** Fraction of list price paid, in (0, 1]. */
  discountRate: Decimal.Value;
}

/** Unit prices in CNY: per core-hour, per GB-hour of memory and per GB-hour of storage. */
export interface UnitPrices {
  cpuPrice: Decimal.Value;
  memoryPrice: Decimal.Value;
  storagePrice: Decimal.Value;
}

export interface DailyAmounts {
  billedHours: number;
  cpuAmount: Decimal;
  memoryAmount: Decimal;
  storageAmount: Decimal;
  grossAmount: Decimal;
  /** gross × discount rate, rounded half-up to 0.01 CNY. */
  amount: Decimal;
}

// Precision well above any product of NUMERIC inputs, so no intermediate result rounds.
const Exact = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP });

export function computeDailyAmounts(configuration: DailyConfiguration, prices: UnitPrices): DailyAmounts {
  const billedHours = BILLED_HOURS[configuration.runMode];

  const cpuAmount = new Exact(configuration.cpu).times(prices.cpuPrice).times(billedHours);
  const memoryAmount = new Exact(configuration.memory).times(prices.memoryPrice).times(billedHours);
  const storageAmount = new Exact(configuration.storage).times(prices.storagePrice).times(billedHours);
  const grossAmount = cpuAmount.plus(memoryAmount).plus(storageAmount);

  const amount = grossAmount.times(configuration.discountRate).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);

  return { billedHours, cpuAmount, memoryAmount, storageAmount, grossAmount, amount };
}
