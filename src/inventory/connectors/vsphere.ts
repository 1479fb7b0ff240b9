import { z } from 'zod';

import {
  commonSourceFields,
  defineConnector,
  httpUrl,
  requireSecrets,
  resolveSecret,
  secretFields,
} from './connector.js';
import { VsphereInventorySource } from './vsphere/vsphere-source.js';

/**
 * VMware vSphere connector: reads the VMs of a vCenter through the vSphere
 * Automation REST API, in its `/api` form (vCenter 7.0U2 and later) or its
 * older `/rest` form (6.5 to 7.0U1), chosen by `api` or probed (`auto`).
 */

export const vsphereSchema = z
  .object({
    type: z.literal('vsphere'),
    ...commonSourceFields,
    url: httpUrl,
    username: z.string({ error: 'must be a text value' }).min(1, 'must not be empty'),
    ...secretFields('password'),
    api: z
      .enum(['auto', 'api', 'rest'], {
        error: 'must be api (vCenter 7.0U2 and later), rest (6.5 to 7.0U1) or auto (try api, then rest)',
      })
      .default('auto'),
    tag_category: z
      .string({ error: 'must be the name of a vSphere tag category' })
      .min(1, 'must not be empty')
      .optional(),
    concurrency: z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(64, 'must be at most 64')
      .default(8),
    page_size: z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10_000, 'must be at most 10000')
      .default(500),
  })
  .strict()
  .superRefine(requireSecrets(['password']));

export type VsphereConfig = z.infer<typeof vsphereSchema>;

export const vsphereConnector = defineConnector<VsphereConfig>({
  type: 'vsphere',
  schema: vsphereSchema,
  secretFields: ['password'],
  create: (config, context) =>
    new VsphereInventorySource(config, resolveSecret(config, 'password', context), context.logger),
});
