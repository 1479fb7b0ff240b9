import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';

import { addDays, dayOf } from '../billing/days.js';
import { DomainError } from '../errors.js';
import { generateDemoData, type DemoData } from './generate.js';

const NOW = new Date('2026-05-20T02:30:00Z');

/** Returns a description of every chain break in `data`, checked from the rows alone. */
function chainBreaks(data: DemoData): string[] {
  const problems: string[] = [];
  const totals = new Map(data.systems.map((system) => [system.code, ['0', '0', '0']]));
  const runModes = new Map<string, string>();
  let previousAt = 0;

  for (const log of data.adjustments) {
    const label = `${log.change_type} of ${log.system_code} at ${log.detected_at.toISOString()}`;
    if (log.detected_at.getTime() < previousAt) problems.push(`${label} is out of order`);
    previousAt = log.detected_at.getTime();

    const before = [log.total_cpu_before, log.total_memory_before, log.total_storage_before].map(String);
    const expected = totals.get(log.system_code);
    if (!expected || !before.every((value, index) => new Decimal(value).eq(expected[index]!))) {
      problems.push(`${label} starts at ${before.join('/')}, not ${expected?.join('/')}`);
    }
    totals.set(
      log.system_code,
      [log.total_cpu_after, log.total_memory_after, log.total_storage_after].map(String),
    );

    if (log.change_type === 'run_mode_changed') {
      const previous = runModes.get(log.system_code);
      if (previous && previous !== log.run_mode_before) problems.push(`${label} breaks the run mode chain`);
      runModes.set(log.system_code, log.run_mode_after!);
    }
  }

  for (const system of data.systems) {
    const last = totals.get(system.code)!;
    const current = [system.total_cpu, system.total_memory, system.total_storage].map(String);
    if (!current.every((value, index) => new Decimal(value).eq(last[index]!))) {
      problems.push(`${system.code} has totals ${current.join('/')}, its last log ends at ${last.join('/')}`);
    }
    const lastRunMode = runModes.get(system.code);
    if (lastRunMode && lastRunMode !== system.run_mode) {
      problems.push(
        `${system.code} runs ${system.run_mode}, its last run mode change ends at ${lastRunMode}`,
      );
    }
  }
  return problems;
}

describe('generateDemoData', () => {
  it('returns the same data for the same seed', () => {
    const first = generateDemoData({ now: NOW, timezone: 'Asia/Shanghai', seed: 42 });
    const second = generateDemoData({ now: NOW, timezone: 'Asia/Shanghai', seed: 42 });

    expect(second).toEqual(first);
  });

  it('returns other data for another seed', () => {
    const first = generateDemoData({ now: NOW, timezone: 'Asia/Shanghai', seed: 1 });
    const second = generateDemoData({ now: NOW, timezone: 'Asia/Shanghai', seed: 2 });

    expect(second.vms.map((vm) => vm.name)).not.toEqual(first.vms.map((vm) => vm.name));
    expect(second.tenants.map((tenant) => tenant.code)).toEqual(first.tenants.map((tenant) => tenant.code));
  });

  // Zones with daylight saving time, a half-hour offset and the longest history.
  it.each([
    [1, 'Asia/Shanghai', 60],
    [2, 'Asia/Shanghai', 7],
    [3, 'America/New_York', 60],
    [4, 'America/New_York', 400],
    [5, 'Europe/Berlin', 7],
    [6, 'Australia/Sydney', 60],
    [7, 'Asia/Kolkata', 30],
    [0, 'UTC', 3660],
    [0xffff_ffff, 'Asia/Shanghai', 60],
  ])('plans a valid history for seed %i in %s over %i days', (seed, timezone, historyDays) => {
    const data = generateDemoData({ now: NOW, timezone, seed, historyDays });

    expect(data.firstDay).toBe(addDays(dayOf(NOW, timezone), -historyDays));
    expect(data.tenants).toHaveLength(20);
    expect(data.systems).toHaveLength(150);
    expect(data.vms).toHaveLength(1000);
    expect(chainBreaks(data)).toEqual([]);

    const changes = [
      ...data.adjustments.map((log) => ({ at: log.detected_at, effectiveDate: log.effective_date })),
      ...data.discountChanges.map((change) => ({
        at: change.changed_at,
        effectiveDate: change.effective_date,
      })),
    ];
    const wrongEffectiveDates = changes.filter(
      (change) => change.effectiveDate !== addDays(dayOf(change.at, timezone), 1),
    );
    expect(wrongEffectiveDates).toEqual([]);

    const timestamps = [
      ...data.tenants.map((tenant) => tenant.created_at),
      ...data.systems.flatMap((system) => [system.created_at, system.decommissioned_at ?? system.created_at]),
      ...data.vms.flatMap((vm) => [vm.created_at, vm.last_synced_at]),
      ...data.adjustments.map((log) => log.detected_at),
      ...data.discountChanges.map((change) => change.changed_at),
    ];
    expect(Math.max(...timestamps.map((at) => at.getTime()))).toBeLessThan(NOW.getTime());
    expect(dayOf(new Date(Math.min(...timestamps.map((at) => at.getTime()))), timezone)).toBe(data.firstDay);

    const runModes = new Set(data.systems.map((system) => system.run_mode));
    expect([...runModes].sort()).toEqual(['5x8', '7x24']);
    expect(data.systems.filter((system) => system.status === 'decommissioned')).toHaveLength(2);
  });

  it('rejects a history outside 7 to 3660 days', () => {
    for (const historyDays of [6, 3661, 10.5]) {
      expect(() => generateDemoData({ now: NOW, timezone: 'Asia/Shanghai', historyDays })).toThrow(
        expect.objectContaining({ code: 'invalid_history_days' }),
      );
    }
  });

  it('rejects a seed that is not a 32-bit unsigned integer', () => {
    for (const seed of [-1, 2 ** 32, 1.5]) {
      expect(() => generateDemoData({ now: NOW, timezone: 'Asia/Shanghai', seed })).toThrow(DomainError);
    }
  });

  it('rejects an unknown time zone and an invalid now', () => {
    expect(() => generateDemoData({ now: NOW, timezone: 'Asia/Beijing' })).toThrow(/Asia\/Beijing/);
    expect(() => generateDemoData({ now: new Date(Number.NaN), timezone: 'Asia/Shanghai' })).toThrow(
      /valid Date/,
    );
  });
});
