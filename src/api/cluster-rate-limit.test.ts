import { describe, expect, it } from 'vitest';

import { RateLimitCounters } from './cluster-rate-limit.js';

describe('RateLimitCounters', () => {
  it('counts requests within a window', () => {
    let now = 1_000;
    const counters = new RateLimitCounters(() => now);

    expect(counters.increment('POST /login/ 127.0.0.1', 60_000)).toEqual({ current: 1, ttl: 60_000 });
    now += 10_000;
    expect(counters.increment('POST /login/ 127.0.0.1', 60_000)).toEqual({ current: 2, ttl: 50_000 });
  });

  it('keeps keys apart', () => {
    const counters = new RateLimitCounters(() => 0);

    counters.increment('a', 60_000);
    expect(counters.increment('b', 60_000).current).toBe(1);
  });

  it('starts a new window when one ends', () => {
    let now = 0;
    const counters = new RateLimitCounters(() => now);

    counters.increment('a', 60_000);
    counters.increment('a', 60_000);
    now = 60_000;
    expect(counters.increment('a', 60_000)).toEqual({ current: 1, ttl: 60_000 });
  });
});
