import { z } from 'zod';

import { sourceProblem } from '../../i18n/settings-messages.js';
import {
  commonSourceFields,
  defineConnector,
  httpUrl,
  requireSecrets,
  resolveSecret,
  secretFields,
  wholeNumberSetting,
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
    username: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty')),
    ...secretFields('password'),
    api: z
      .enum(['auto', 'api', 'rest'], {
        error: sourceProblem('source_problem_vsphere_api'),
      })
      .default('auto'),
    tag_category: z
      .string({ error: sourceProblem('source_problem_tag_category') })
      .min(1, sourceProblem('source_problem_empty'))
      .optional(),
    concurrency: wholeNumberSetting(1, 64).default(8),
    page_size: wholeNumberSetting(1, 10_000).default(500),
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
