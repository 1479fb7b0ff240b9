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
    [{ REDIS_URL: 'localhost:6379', DATABASE_URL: 'postgres://h/db' }, 'REDIS_URL must start with redis://'],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, 'REDIS_URL is set but DATABASE_URL is not'],
    [{ REDIS_PREFIX: 'a b' }, 'REDIS_PREFIX must be 1 to 64 letters'],
    [{ TASK_ATTEMPTS: '0' }, 'TASK_ATTEMPTS must be at least 1'],
    [{ WORKER_LOCK_DURATION_MS: '10' }, 'WORKER_LOCK_DURATION_MS must be at least 1000'],
    [{ INVENTORY_FILE: 'vms.csv' }, 'INVENTORY_FILE="vms.csv" must end in .json, .yaml or .yml'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ INVENTORY_FILE_PROVIDER: 'local' }, 'INVENTORY_FILE_PROVIDER=local is reserved'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN must have at least 16 characters'],
    [{ METRICS_TOKEN: 'sixteen chars and spaces' }, 'METRICS_TOKEN must not contain spaces'],
    [{ API_WORKERS: '0' }, 'API_WORKERS must be at least 1'],
    [{ API_WORKERS: 'two' }, 'API_WORKERS must be a whole number between 1 and 64'],
  ])('rejects %j', (environment, message) => {
    expect(errorOf(environment)).toContain(message);
  });

  it('keeps METRICS_TOKEN out of its error messages', () => {
    const message = errorOf({ METRICS_TOKEN: 'secret-value' });

    expect(message).not.toContain('secret-value');
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

describe('loadSettings sources', () => {
  function configFile(text: string): string {
    const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-sources-'));
    const file = path.join(folder, 'config.yaml');
    writeFileSync(file, text);
    return file;
  }

  it('reads sources with their defaults', () => {
    const file = configFile(`
billing_timezone: Asia/Shanghai
sources:
  - name: openstack-prod
    type: openstack
    auth_url: https://keystone.example.com:5000/v3
    username: billing
    password_env: OPENSTACK_PASSWORD
    project_name: admin
    ca_file: certs/ca.pem
  - name: pve
    type: proxmox
    url: https://pve.example.com:8006
    token_id: sync@pve!billing
    token_secret_env: PVE_TOKEN_SECRET
    verify_tls: false
`);

    const settings = loadSettings({ CONFIG_FILE: file });

    expect(settings.billingTimezone).toBe('Asia/Shanghai');
    expect(settings.inventorySources).toEqual([
      {
        name: 'openstack-prod',
        type: 'openstack',
        auth_url: 'https://keystone.example.com:5000/v3',
        username: 'billing',
        password_env: 'OPENSTACK_PASSWORD',
        project_name: 'admin',
        ca_file: path.join(path.dirname(file), 'certs/ca.pem'),
        user_domain_name: 'Default',
        project_domain_name: 'Default',
        interface: 'public',
        page_size: 1000,
        system_metadata_key: 'cloud_platform_system',
        include_volumes: true,
        timeout_seconds: 30,
        retries: 3,
        verify_tls: true,
      },
      {
        name: 'pve',
        type: 'proxmox',
        url: 'https://pve.example.com:8006',
        token_id: 'sync@pve!billing',
        token_secret_env: 'PVE_TOKEN_SECRET',
        system_tag_prefix: 'system-',
        page_size: 1000,
        timeout_seconds: 30,
        retries: 3,
        verify_tls: false,
      },
    ]);
  });

  it('keeps flat settings working without sources', () => {
    const settings = loadSettings({ CONFIG_FILE: configFile('missing_after_syncs: 5\n') });

    expect(settings.missingAfterSyncs).toBe(5);
    expect(settings.inventorySources).toEqual([]);
  });

  it('lists every invalid source with its field and fix', () => {
    const file = configFile(`
sources:
  - name: pve
    type: proxmox
    url: https://pve.example.com:8006
    token_id: sync-at-pve
    token_secret: do-not-print-me
    extra: 1
  - name: Prod
    type: vmware
  - name: os
    type: openstack
    auth_url: https://user:pw@keystone.example.com
    username: billing
    password: x
    project_name: admin
  - name: os2
    type: openstack
    auth_url: https://keystone.example.com
    username: billing
    project_name: admin
`);

    const message = errorOf({ CONFIG_FILE: file });

    expect(message).toContain(`CONFIG_FILE=${file} has invalid inventory sources:`);
    expect(message).toContain('sources[0] (pve): token_id: must have the form USER@REALM!TOKENID');
    expect(message).toContain(
      'sources[0] (pve): extra: unknown setting(s) extra; known settings: type, name',
    );
    expect(message).toContain(
      'sources[1] (Prod): type: "vmware" is not a known type: use one of openstack, proxmox',
    );
    expect(message).toContain(
      'sources[2] (os): auth_url: must be an http:// or https:// URL without user name or password in it',
    );
    expect(message).toContain(
      'sources[3] (os2): password: missing: give password_env (the name of an environment variable that holds it) or password',
    );
    expect(message).not.toContain('do-not-print-me');
  });

  it('rejects a name used twice and the reserved name', () => {
    const entry = (name: string) => `
  - name: ${name}
    type: proxmox
    url: https://pve.example.com:8006
    token_id: sync@pve!billing
    token_secret_env: PVE_TOKEN_SECRET`;
    const file = configFile(`sources:${entry('pve')}${entry('pve')}${entry('local')}\n`);

    const message = errorOf({ CONFIG_FILE: file });

    expect(message).toContain('sources[1] (pve): name: already used by sources[0]');
    expect(message).toContain('sources[2] (local): name: local is reserved');
  });

  it('rejects sources that are not a list', () => {
    const file = configFile('sources:\n  name: pve\n');

    expect(errorOf({ CONFIG_FILE: file })).toContain('sources must be a list of sources');
  });
});
