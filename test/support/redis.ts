import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import { loadSettings, type Settings } from '../../src/config/settings.js';

/**
 * The local Redis for distributed-mode tests (TEST_REDIS_URL, default
 * redis://127.0.0.1:6379). When it is unreachable, its tests are skipped,
 * unless CLOUD_PLATFORM_REQUIRE_SERVICES=1 (set by CI), which turns that into
 * a failure. Each test suite uses its own key prefix, so suites running at
 * once never see each other's queues.
 */

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const requireServices = process.env.CLOUD_PLATFORM_REQUIRE_SERVICES === '1';

let redisReachable: boolean | undefined;

export async function isRedisReachable(): Promise<boolean> {
  if (redisReachable !== undefined) return redisReachable;
  const client = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    redisReachable = (await client.ping()) === 'PONG';
  } catch (error) {
    if (requireServices) {
      throw new Error(
        `Redis at ${TEST_REDIS_URL} is required (CLOUD_PLATFORM_REQUIRE_SERVICES=1) but failed: ${String(error)}`,
      );
    }
    redisReachable = false;
  } finally {
    client.disconnect();
  }
  return redisReachable;
}

/** Returns a key prefix that no other test uses. */
export function uniqueRedisPrefix(): string {
  return `cp-test-${randomBytes(5).toString('hex')}`;
}

/** Settings of distributed mode for a test database and prefix, with fast retries and lock expiry. */
export function distributedSettings(
  databaseUrl: string,
  prefix: string,
  overrides: Record<string, string> = {},
): Settings {
  return loadSettings({
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    BILLING_TIMEZONE: 'Asia/Shanghai',
    TASK_BACKOFF_MS: '200',
    WORKER_LOCK_DURATION_MS: '2000',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

/** Deletes every key under `prefix`, so that a suite leaves Redis as it found it. */
export async function deleteRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
