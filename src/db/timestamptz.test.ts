import pg from 'pg';
import { describe, expect, it } from 'vitest';

import { parseTimestamptz } from './timestamptz.js';

/** pg's own parser (postgres-date), which parseTimestamptz must equal. */
const parseWithPg = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text');

/** Returns a Date's milliseconds, or an infinity as it is. */
function valueOf(parsed: unknown): number {
  return parsed instanceof Date ? parsed.getTime() : (parsed as number);
}

describe('parseTimestamptz', () => {
  it.each([
    ['2026-01-04 00:10:00.123456+00', '2026-01-04T00:10:00.123Z'],
    ['2026-01-04 00:10:00+00', '2026-01-04T00:10:00.000Z'],
    ['2026-01-04 08:10:00.5+08', '2026-01-04T00:10:00.500Z'],
    ['2026-01-03 18:40:00.000999-05:30', '2026-01-04T00:10:00.000Z'],
    ['2026-01-04 05:55:00.01+05:45', '2026-01-04T00:10:00.010Z'],
    ['1890-01-01 00:19:32+00:19:32', '1890-01-01T00:00:00.000Z'],
    ['2024-02-29 23:59:59.999999-12', '2024-03-01T11:59:59.999Z'],
  ])('reads %s as %s', (text, iso) => {
    const parsed = parseTimestamptz(text);

    expect((parsed as Date).toISOString()).toBe(iso);
    expect(valueOf(parsed)).toBe(valueOf(parseWithPg(text)));
  });

  it.each([
    'infinity',
    '-infinity',
    '0099-06-01 12:00:00+00',
    '0001-01-01 00:00:00+00 BC',
    '12026-01-04 00:10:00+00',
    '2026-01-04 00:10:00Z',
    '2026-01-04 00:10:00',
    '2026-01-04 0a:10:00+00',
    '2026-01-04 00:10:00+0x',
  ])('leaves %s to pg and returns the same value', (text) => {
    expect(valueOf(parseTimestamptz(text))).toEqual(valueOf(parseWithPg(text)));
  });

  it('equals pg on 20,000 generated values', () => {
    // A fixed linear congruential sequence, so a failure repeats.
    let state = 20261205;
    const next = (range: number) => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % range;
    };
    const two = (value: number) => String(value).padStart(2, '0');

    for (let index = 0; index < 20_000; index += 1) {
      const local = new Date(Date.UTC(1000 + next(9000), 0, 1) + next(366 * 86_400_000));
      const fraction =
        next(7) === 0 ? '' : `.${String(next(1_000_000)).padStart(6, '0')}`.slice(0, 2 + next(6));
      const offsetMinutes = next(27 * 60) - 12 * 60;
      const offsetSeconds = next(10) === 0 ? next(60) : 0;
      const magnitude = Math.abs(offsetMinutes);
      let offset = `${offsetMinutes < 0 ? '-' : '+'}${two(Math.floor(magnitude / 60))}`;
      if (magnitude % 60 !== 0 || offsetSeconds !== 0) offset += `:${two(magnitude % 60)}`;
      if (offsetSeconds !== 0) offset += `:${two(offsetSeconds)}`;
      const text =
        `${String(local.getUTCFullYear()).padStart(4, '0')}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())} ` +
        `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}${fraction}${offset}`;

      expect(valueOf(parseTimestamptz(text)), text).toBe(valueOf(parseWithPg(text)));
    }
  });
});
