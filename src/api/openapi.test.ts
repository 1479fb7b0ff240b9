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

  it('describes /metrics as Prometheus text', async () => {
    const document = (await world.request('anonymous', 'GET', '/api/schema/')).json();
    const operation = document.paths['/metrics'].get;

    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/plain']);
    expect(operation.security).toEqual([{ session: [] }, { token: [] }, { metricsToken: [] }]);
  });
});
