import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld } from '../../test/support/api.js';

describe('OpenAPI document', () => {
  let world: ApiWorld;

  beforeAll(async () => {
    world = await createApiWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('validates as OpenAPI 3', async () => {
    const document = (await world.request('anonymous', 'GET', '/api/schema/')).json();

    const result = await new Validator().validate(document);

    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every API route with trailing slashes', async () => {
    const document = (await world.request('anonymous', 'GET', '/api/schema/')).json();
    const paths = Object.keys(document.paths);

    expect(paths.filter((path) => path.startsWith('/api/') && !path.endsWith('/'))).toEqual([]);
    expect(paths.filter((path) => !path.startsWith('/api/'))).toEqual(['/metrics']);
    for (const path of [
      '/api/tenants/',
      '/api/information-systems/{id}/billing_records/',
      '/api/auth/login/',
    ]) {
      expect(paths).toContain(path);
    }
  });

  it('documents 413 and 415 for routes with a body', async () => {
    const document = (await world.request('anonymous', 'GET', '/api/schema/')).json();
    const tenants = document.paths['/api/tenants/'];

    expect(Object.keys(tenants.post.responses)).toEqual(expect.arrayContaining(['400', '413', '415']));
    expect(Object.keys(tenants.get.responses)).not.toContain('415');
  });

  it('describes /metrics as Prometheus text', async () => {
    const document = (await world.request('anonymous', 'GET', '/api/schema/')).json();
    const operation = document.paths['/metrics'].get;

    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/plain']);
    expect(operation.security).toEqual([{ session: [] }, { token: [] }, { metricsToken: [] }]);
  });
});
