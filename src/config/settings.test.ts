import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadSettings, SettingsError } from './settings.js';

function errorOf(environment: Record<string, string>): string {
  try {
    loadSettings(environment);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error('expected loadSettings to throw');
}

describe('loadSettings', () => {
  it('applies the defaults', () => {
    const settings = loadSettings({});
    expect(settings.billingTimezone).toBe('Asia/Shanghai');
    expect(settings.billingCatchUpDays).toBe(31);
    expect(settings.databaseUrl).toBeUndefined();
    expect(settings.dataDir).toBe(path.resolve('./data'));
    expect(settings.apiWorkers).toBe(1);
    expect(settings.schedules).toEqual({
      create_daily_billing_records: '10 0 * * *',
      detect_resource_changes: '0 * * * *',
      sync_vm_status: '*/5 * * * *',
    });
  });

  it.each([
    [{ BILLING_TIMEZONE: 'Beijing' }, 'BILLING_TIMEZONE="Beijing" is not an IANA time zone'],
    [{ BILLING_CATCH_UP_DAYS: '0' }, 'BILLING_CATCH_UP_DAYS must be at least 1'],
    [{ BILLING_CATCH_UP_DAYS: 'ten' }, 'BILLING_CATCH_UP_DAYS must be a whole number'],
    [{ BILLING_CHUNK_SIZE: '1.5' }, 'BILLING_CHUNK_SIZE must be a whole number'],
    [{ SCHEDULE_SYNC_VM_STATUS: '*/5 * *' }, 'SCHEDULE_SYNC_VM_STATUS="*/5 * *" is not a valid cron pattern'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must start with postgres://'],
    [{ INVENTORY_FILE: 'vms.csv' }, 'INVENTORY_FILE="vms.csv" must end in .json, .yaml or .yml'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ INVENTORY_FILE_PROVIDER: 'local' }, 'INVENTORY_FILE_PROVIDER=local is reserved'],
    [{ API_WORKERS: '0' }, 'API_WORKERS must be at least 1'],
    [{ API_WORKERS: 'two' }, 'API_WORKERS must be a whole number between 1 and 64'],
  ])('rejects %j', (environment, message) => {
    expect(errorOf(environment)).toContain(message);
  });

  it('reads a YAML file and lets the environment win', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-settings-'));
    const file = path.join(folder, 'config.yaml');
    writeFileSync(file, 'billing_timezone: America/New_York\nbilling_catch_up_days: 7\n');

    const settings = loadSettings({ CONFIG_FILE: file, BILLING_CATCH_UP_DAYS: '9' });

    expect(settings.billingTimezone).toBe('America/New_York');
    expect(settings.billingCatchUpDays).toBe(9);
  });

  it('rejects an unknown key in the file', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-settings-'));
    const file = path.join(folder, 'config.yaml');
    writeFileSync(file, 'billing_timezon: UTC\n');

    expect(errorOf({ CONFIG_FILE: file })).toContain('unknown setting "billing_timezon"');
  });
});
