import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { loadSettings } from '../config/settings.js';
import { InventorySourceRepository } from '../db/repositories/inventory-source.repository.js';
import { DomainError } from '../errors.js';
import { translate } from '../i18n/messages.js';
import { OpenStackInventorySource } from './connectors/openstack.js';
import { ProxmoxInventorySource } from './connectors/proxmox.js';
import { buildInventorySources, UnavailableSource } from './sources.js';

function settingsWith(sourcesYaml: string) {
  const folder = mkdtempSync(path.join(tmpdir(), 'cloud-platform-build-sources-'));
  const file = path.join(folder, 'config.yaml');
  writeFileSync(file, `inventory_file: ${path.join(folder, 'vms.yaml')}\nsources:\n${sourcesYaml}`);
  return loadSettings({ CONFIG_FILE: file });
}

const OPENSTACK = `
  - name: openstack-prod
    type: openstack
    auth_url: https://keystone.example.com:5000/v3
    username: billing
    password_env: BUILD_TEST_OPENSTACK_PASSWORD
    project_name: admin
`;

describe('buildInventorySources', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    await new InventorySourceRepository(database.db).create(
      {
        name: 'pve',
        type: 'proxmox',
        options: { url: 'https://pve.example.com:8006', token_id: 'sync@pve!billing' },
        secrets: { token_secret: 'stored-secret' },
      },
      new Date('2026-01-01T00:00:00Z'),
    );
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('builds the own database, file, config and database sources', async () => {
    const settings = settingsWith(OPENSTACK);

    const sources = await buildInventorySources(settings, {
      db: database.db,
      env: { BUILD_TEST_OPENSTACK_PASSWORD: 'from-env' },
    });

    expect(sources.map((source) => [source.name.replace(/:.*/, ':…'), source.provider])).toEqual([
      ['local', 'local'],
      ['file:…', 'file'],
      ['openstack-prod', 'openstack-prod'],
      ['pve', 'pve'],
    ]);
    expect(sources[2]).toBeInstanceOf(OpenStackInventorySource);
    expect(sources[3]).toBeInstanceOf(ProxmoxInventorySource);
  });

  it('fails only the source whose secret variable is unset', async () => {
    const settings = settingsWith(OPENSTACK);

    const sources = await buildInventorySources(settings, { db: database.db, env: {} });

    const openstack = sources[2]!;
    expect(openstack).toBeInstanceOf(UnavailableSource);
    expect(sources[3]).toBeInstanceOf(ProxmoxInventorySource);
    const iterator = openstack.readPages()[Symbol.asyncIterator]();
    const error = await iterator.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DomainError);
    expect(translate((error as DomainError).code, (error as DomainError).parameters, 'en')).toBe(
      'environment variable BUILD_TEST_OPENSTACK_PASSWORD, named by password_env of inventory source openstack-prod, is unset or empty; set it in the environment of the process',
    );
  });

  it('rejects a name used by the config file and the database', async () => {
    const settings = settingsWith(`
  - name: pve
    type: proxmox
    url: https://other-pve.example.com:8006
    token_id: sync@pve!billing
    token_secret_env: PVE_SECRET
`);

    const error = await buildInventorySources(settings, { db: database.db }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(DomainError);
    expect(translate((error as DomainError).code, (error as DomainError).parameters, 'en')).toBe(
      'inventory source name "pve" is used twice (CONFIG_FILE sources and database source id 1); the name is also the provider of its VMs, so give each source its own name',
    );
  });
});
