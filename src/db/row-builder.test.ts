import { describe, expect, it } from 'vitest';

import { compileRowBuilder } from './row-builder.js';

describe('compileRowBuilder', () => {
  it('keys values by column in order', () => {
    const build = compileRowBuilder(['id', 'billing_date', 'amount']);

    const row = build(['7', '2026-01-03', '9.94']);

    expect(row).toEqual({ id: '7', billing_date: '2026-01-03', amount: '9.94' });
    expect(Object.keys(row)).toEqual(['id', 'billing_date', 'amount']);
  });

  it('keeps the last of duplicate columns', () => {
    const row = compileRowBuilder(['a', 'b', 'a'])([1, 2, 3]);

    expect(row).toEqual({ a: 3, b: 2 });
    expect(Object.keys(row)).toEqual(['a', 'b']);
  });

  it('keeps __proto__ an own property', () => {
    const row = compileRowBuilder(['__proto__', 'x'])([{ polluted: true }, 1]);

    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual({ polluted: true });
    expect((row as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('quotes column names as string literals', () => {
    const names = ['a"b', "c'd", 'e\\f', 'g\nh', '}; throw 1; //', '名称'];

    const row = compileRowBuilder(names)([1, 2, 3, 4, 5, 6]);

    expect(Object.entries(row)).toEqual(names.map((name, index) => [name, index + 1]));
  });
});
