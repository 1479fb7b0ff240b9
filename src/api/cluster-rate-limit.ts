import type { Worker } from 'node:cluster';

import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';

/**
 * Rate limit counters shared by the worker processes of `serve --workers N`.
 * The cluster primary keeps every counter, and each worker sends it requests
 * over the cluster's IPC channel. With a store per process, a client whose requests
 * the primary spreads over N workers could make N times the allowed requests,
 * e.g. N × 10 login attempts a minute.
 *
 * Counting follows @fastify/rate-limit's in-memory store: a fixed window of
 * `timeWindow` ms that starts at a key's first request.
 */

/** A worker's request to count one more request of `key`. */
interface IncrementMessage {
  type: 'cloud-platform:rate-limit:increment';
  id: number;
  key: string;
  timeWindow: number;
}

/** The primary's reply: requests of the key in its window so far, and ms until the window ends. */
interface IncrementReply {
  type: 'cloud-platform:rate-limit:counted';
  id: number;
  current: number;
  ttl: number;
}

/** How long a worker waits for the primary before the request fails (the limit is not skipped). */
const REPLY_TIMEOUT_MS = 5000;
/** Keys kept by the primary before expired windows are swept out, at most once per SWEEP_INTERVAL_MS. */
const SWEEP_ABOVE_KEYS = 10_000;
const SWEEP_INTERVAL_MS = 1000;

function isIncrementReply(message: unknown): message is IncrementReply {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'cloud-platform:rate-limit:counted'
  );
}

function isIncrementMessage(message: unknown): message is IncrementMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'cloud-platform:rate-limit:increment'
  );
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

let nextRequestId = 1;
const pending = new Map<number, { callback: Callback; timer: NodeJS.Timeout }>();
let listening = false;

function listenForReplies(): void {
  if (listening) return;
  listening = true;
  process.on('message', (message: unknown) => {
    if (!isIncrementReply(message)) return;
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    clearTimeout(request.timer);
    request.callback(null, { current: message.current, ttl: message.ttl });
  });
}

/**
 * Store of @fastify/rate-limit for a cluster worker (pass it as `store`). Each
 * route with a limit gets a child store whose keys start with its method and URL.
 */
export class ClusterRateLimitStore implements FastifyRateLimitStore {
  private readonly prefix: string;

  constructor(_options: FastifyRateLimitOptions, prefix = '') {
    this.prefix = prefix;
  }

  incr(key: string, callback: Callback, timeWindow?: number): void {
    const send = process.send?.bind(process);
    if (!send || timeWindow === undefined) {
      callback(new Error('the rate limit store of a cluster worker needs the IPC channel to its primary'));
      return;
    }
    listenForReplies();

    const id = nextRequestId++;
    const timer = setTimeout(() => {
      pending.delete(id);
      callback(
        new Error(`the cluster primary did not count a rate-limited request within ${REPLY_TIMEOUT_MS} ms`),
      );
    }, REPLY_TIMEOUT_MS);
    pending.set(id, { callback, timer });
    const message: IncrementMessage = {
      type: 'cloud-platform:rate-limit:increment',
      id,
      key: this.prefix + key,
      timeWindow,
    };
    send(message);
  }

  child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
    // @fastify/rate-limit 10 passes the route's merged limit settings, with the route as `routeInfo`.
    const route = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
    return new ClusterRateLimitStore({}, `${String(route.method)} ${String(route.url)} `);
  }
}

/** Counters of the cluster primary, which apply the increments of every worker attached to it. */
export class RateLimitCounters {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one request of `key` and returns the count in its window and the ms left of the window. */
  increment(key: string, timeWindow: number): { current: number; ttl: number } {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      if (this.windows.size >= SWEEP_ABOVE_KEYS && now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
      window = { count: 0, endsAt: now + timeWindow };
      this.windows.set(key, window);
    }
    window.count += 1;
    return { current: window.count, ttl: window.endsAt - now };
  }

  /** Replies to the rate limit messages of `worker`. */
  attach(worker: Worker): void {
    worker.on('message', (message: unknown) => {
      if (!isIncrementMessage(message)) return;
      const { current, ttl } = this.increment(message.key, message.timeWindow);
      const reply: IncrementReply = {
        type: 'cloud-platform:rate-limit:counted',
        id: message.id,
        current,
        ttl,
      };
      if (worker.isConnected()) worker.send(reply);
    });
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, window] of this.windows) {
      if (window.endsAt <= now) this.windows.delete(key);
    }
  }
}
