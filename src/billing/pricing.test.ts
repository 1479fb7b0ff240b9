import { describe, expect, it } from 'vitest';

import { computeDailyAmounts } from './pricing.js';

const DEFAULT_PRICES = { cpuPrice: '0.10', memoryPrice: '0.05', storagePrice: '0.01' };

describe('computeDailyAmounts', () => {
  it.each([
    ['7x24', 4, '8', '100', '1', '43.20'],
    ['5x8', 4, '8', '100', '0.8', '11.52'],
    ['7x24', 2, '3.5', '50', '0.85', '17.85'],
    ['5x8', 1, '0.5', '20', '0.88', '2.29'],
    ['5x8', 1, '1', '0', '0.8375', '1.01'],
    ['5x8', 1, '1', '0', '0.8875', '1.07'],
  ] as const)(
    '%s %i cores %s GB %s GB at %s gives %s',
    (runMode, cpu, memory, storage, discountRate, amount) => {
      const result = computeDailyAmounts({ runMode, cpu, memory, storage, discountRate }, DEFAULT_PRICES);
      expect(result.amount.toFixed(2)).toBe(amount);
    },
  );

  it('keeps the unrounded component amounts', () => {
    const result = computeDailyAmounts(
      { runMode: '5x8', cpu: 1, memory: '1', storage: '0', discountRate: '0.8375' },
      DEFAULT_PRICES,
    );
    expect(result.cpuAmount.toString()).toBe('0.8');
    expect(result.memoryAmount.toString()).toBe('0.4');
    expect(result.grossAmount.toString()).toBe('1.2');
    expect(result.grossAmount.times('0.8375').toString()).toBe('1.005');
  });

  it('rounds a half cent up where binary floating point rounds down', () => {
    expect(Math.round(1.2 * 0.8375 * 100) / 100).toBe(1);
    const result = computeDailyAmounts(
      { runMode: '5x8', cpu: 1, memory: '1', storage: '0', discountRate: '0.8375' },
      DEFAULT_PRICES,
    );
    expect(result.amount.toFixed(2)).toBe('1.01');
  });
});
