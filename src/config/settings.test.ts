import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadSettings, SettingsError } from './settings.js';

function settingsErrorOf(environment: Record<string, string>): SettingsError {
  try {
    loadSettings(environment);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error('expected loadSettings to throw');
}

/** Returns the English message of the SettingsError that `environment` causes. */
function errorOf(environment: Record<string, string>): string {
  return settingsErrorOf(environment).message;
}

describe('loadSettings', () => {
  it('applies the defaults', () => {
    const settings = loadSettings({});
    expect(settings.billingTimezone).toBe('Asia/Shanghai');
    expect(settings.billingCatchUpDays).toBe(31);
    expect(settings.databaseUrl).toBeUndefined();
    expect(settings.dataDir).toBe(path.resolve('./data'));
    expect(settings.apiWorkers).toBe(1);
    expect(settings.databasePoolSize).toBe(10);
    expect(settings.schedules).toEqual({
      create_daily_billing_records: '10 0 * * *',
      detect_resource_changes: '0 * * * *',
      sync_vm_status: '*/5 * * * *',
    });
  });

  it.each([
    [{ BILLING_TIMEZONE: 'Beijing' }, 'BILLING_TIMEZONE=Beijing is invalid: expected an IANA time zone name'],
    [
      { BILLING_CATCH_UP_DAYS: '0' },
      'BILLING_CATCH_UP_DAYS=0 is invalid: expected an integer from 1 to 3660',
    ],
    [
      { BILLING_CATCH_UP_DAYS: 'ten' },
      'BILLING_CATCH_UP_DAYS=ten is invalid: expected an integer from 1 to 3660',
    ],
    [
      { BILLING_CHUNK_SIZE: '1.5' },
      'BILLING_CHUNK_SIZE=1.5 is invalid: expected an integer from 1 to 1000000',
    ],
    [
      { SCHEDULE_SYNC_VM_STATUS: '*/5 * *' },
      'SCHEDULE_SYNC_VM_STATUS="*/5 * *" is invalid: expected a cron pattern such as "10 0 * * *"',
    ],
    [
      { DATABASE_URL: 'mysql://x' },
      'DATABASE_URL=mysql://x is invalid: expected a URL starting with postgres:// or postgresql://',
    ],
    [
      { REDIS_URL: 'localhost:6379', DATABASE_URL: 'postgres://h/db' },
      'REDIS_URL=localhost:6379 is invalid: expected a URL starting with redis:// or rediss://',
    ],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, 'REDIS_URL is set but DATABASE_URL is not'],
    [{ REDIS_PREFIX: 'a b' }, 'REDIS_PREFIX="a b" is invalid: expected 1 to 64 letters'],
    [{ TASK_ATTEMPTS: '0' }, 'TASK_ATTEMPTS=0 is invalid: expected an integer from 1 to 100'],
    [
      { WORKER_LOCK_DURATION_MS: '10' },
      'WORKER_LOCK_DURATION_MS=10 is invalid: expected an integer from 1000 to 3600000',
    ],
    [
      { INVENTORY_FILE: 'vms.csv' },
      'INVENTORY_FILE=vms.csv is invalid: expected a file name ending in .json, .yaml or .yml',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL=loud is invalid: expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [{ INVENTORY_FILE_PROVIDER: 'local' }, 'INVENTORY_FILE_PROVIDER=local is invalid: local is reserved'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN is invalid: expected at least 16 characters'],
    [{ METRICS_TOKEN: 'sixteen chars and spaces' }, 'METRICS_TOKEN is invalid: it must not contain spaces'],
    [{ API_WORKERS: '0' }, 'API_WORKERS=0 is invalid: expected an integer from 1 to 64'],
    [{ API_WORKERS: 'two' }, 'API_WORKERS=two is invalid: expected an integer from 1 to 64'],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE=0 is invalid: expected an integer from 1 to 1000'],
    [{ DATABASE_POOL_SIZE: '2.5' }, 'DATABASE_POOL_SIZE=2.5 is invalid: expected an integer from 1 to 1000'],
    [{ PORT: 'abc' }, 'PORT=abc is invalid: expected an integer from 1 to 65535'],
    [{ SECURE_COOKIES: 'yes' }, 'SECURE_COOKIES=yes is invalid: expected one of true, false'],
  ])('rejects %j', (environment, message) => {
    expect(errorOf(environment)).toContain(message);
  });

  it('starts the message with a summary line', () => {
    expect(errorOf({ PORT: 'abc' })).toBe(
      'invalid settings:\n  PORT=abc is invalid: expected an integer from 1 to 65535',
    );
  });

  it('words every problem in Chinese', () => {
    const error = settingsErrorOf({ PORT: 'abc', BILLING_TIMEZONE: 'Beijing', ADMIN_PASSWORD: 'short' });

    expect(error.format('zh-CN')).toBe(
      [
        '配置无效：',
        '  BILLING_TIMEZONE=Beijing 无效：应为 IANA 时区名，例如 Asia/Shanghai',
        '  PORT=abc 无效：应为 1 到 65535 之间的整数',
        '  ADMIN_PASSWORD 无效：至少需要 8 个字符（不显示其值）',
      ].join('\n'),
    );
  });

  it('hides the password of a URL', () => {
    const error = settingsErrorOf({ DATABASE_URL: 'mysql://billing:hunter2@db/cloud' });

    expect(error.message).toContain('DATABASE_URL=mysql://billing:***@db/cloud is invalid');
    expect(error.format('zh-CN')).toContain('DATABASE_URL=mysql://billing:***@db/cloud 无效');
    expect(error.message).not.toContain('hunter2');
    expect(error.format('zh-CN')).not.toContain('hunter2');
  });

  it('hides the password of a URL without a scheme', () => {
    const message = errorOf({ REDIS_URL: 'default:hunter2@127.0.0.1:6379', DATABASE_URL: 'postgres://h/db' });

    expect(message).toContain('REDIS_URL=default:***@127.0.0.1:6379 is invalid');
    expect(message).not.toContain('hunter2');
  });

  it('keeps ADMIN_PASSWORD out of its error messages', () => {
    const error = settingsErrorOf({ ADMIN_PASSWORD: 'pw-123' });

    expect(error.message).not.toContain('pw-123');
    expect(error.format('zh-CN')).not.toContain('pw-123');
  });

  it('names REDIS_URL without DATABASE_URL in Chinese', () => {
    const error = settingsErrorOf({ REDIS_URL: 'redis://127.0.0.1:6379' });

    expect(error.format('zh-CN')).toContain('设置了 REDIS_URL 但未设置 DATABASE_URL');
  });

  it('keeps METRICS_TOKEN out of its error messages', () => {
    const error = settingsErrorOf({ METRICS_TOKEN: 'secret-value' });

    expect(error.message).not.toContain('secret-value');
    expect(error.format('zh-CN')).not.toContain('secret-value');
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
    expect(settingsErrorOf({ CONFIG_FILE: file }).format('zh-CN')).toContain(
      `CONFIG_FILE=${file} 中的配置项 "billing_timezon" 未知；可用的配置项：DATA_DIR,`,
    );
  });

  it('names a file that is not YAML in both languages', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-settings-'));
    const file = path.join(folder, 'config.yaml');
    writeFileSync(file, 'port: [8000\n');

    const error = settingsErrorOf({ CONFIG_FILE: file });

    expect(error.message).toMatch(
      new RegExp(
        `^CONFIG_FILE=${file} is not valid YAML: .* at line 2, column 1; correct it at the line and column shown$`,
      ),
    );
    expect(error.format('zh-CN')).toMatch(
      new RegExp(`^CONFIG_FILE=${file} 不是有效的 YAML：.* at line 2, column 1；请按所示的行列改正$`),
    );
  });

  it('names a file that cannot be read in both languages', () => {
    const file = path.join(tmpdir(), 'cloud-platform-settings-absent', 'config.yaml');

    const error = settingsErrorOf({ CONFIG_FILE: file });

    expect(error.message).toContain(`CONFIG_FILE=${file} cannot be read: ENOENT`);
    expect(error.message).toContain('; check the path and the file permissions');
    expect(error.format('zh-CN')).toContain(`CONFIG_FILE=${file} 无法读取：ENOENT`);
    expect(error.format('zh-CN')).toContain('；请检查路径与文件权限');
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

  it('lists invalid sources in Chinese', () => {
    const file = configFile(`
sources:
  - name: pve
    type: proxmox
    url: https://pve.example.com:8006
    token_id: sync-at-pve
    token_secret: do-not-print-me
    token_secret_env: PVE_SECRET
    retries: 20
  - name: Prod
    type: vmware
`);

    const message = settingsErrorOf({ CONFIG_FILE: file }).format('zh-CN');

    expect(message).toBe(
      [
        `CONFIG_FILE=${file} 中的资源清单数据源无效：`,
        '  sources[0] (pve): retries: 不能大于 10',
        '  sources[0] (pve): token_id: 格式应为 用户@域!令牌ID，例如 billing@pve!sync',
        '  sources[0] (pve): token_secret: token_secret 与 token_secret_env 只能给出一个',
        '  sources[1] (Prod): type: "vmware" 不是已知类型：应为 openstack, proxmox, rvtools, vsphere 之一',
      ].join('\n'),
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
    const chinese = settingsErrorOf({ CONFIG_FILE: file }).format('zh-CN');
    expect(chinese).toContain('sources[1] (pve): name: 已被 sources[0] 使用');
    expect(chinese).toContain('sources[2] (local): name: local 保留给产品数据库中的虚拟机');
  });

  it('rejects sources that are not a list', () => {
    const file = configFile('sources:\n  name: pve\n');

    expect(errorOf({ CONFIG_FILE: file })).toContain('sources must be a list of sources');
    expect(settingsErrorOf({ CONFIG_FILE: file }).format('zh-CN')).toContain(
      `CONFIG_FILE=${file} 中的 sources 无效：应为数据源列表`,
    );
  });
});
