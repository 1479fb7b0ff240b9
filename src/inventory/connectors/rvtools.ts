import path from 'node:path';

import { z } from 'zod';

import { commonSourceFields, defineConnector } from './connector.js';
import { mappingRuleSchema } from './mapping.js';
import { RvtoolsInventorySource } from './rvtools/rvtools-source.js';

/**
 * RVTools connector: VMs from the vInfo sheet of an RVTools export (XLSX, or
 * the vInfo tab saved as CSV). With `path`, sync_vm_status reads that file at
 * each run. Without it, only `cloud-platform source import` changes the
 * source's VMs, and sync leaves them as they are. The common timeout, retry
 * and TLS fields are accepted but unused, because the source reads a local file.
 */

export const rvtoolsSchema = z
  .object({
    type: z.literal('rvtools'),
    ...commonSourceFields,
    path: z
      .string({ error: 'must be the path of an RVTools export' })
      .regex(/\.(xlsx|csv)$/i, 'must end in .xlsx, or in .csv for the vInfo tab saved as CSV')
      .optional(),
    mapping: z.array(mappingRuleSchema, { error: 'must be a list of rules' }).default([]),
    page_size: z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10_000, 'must be at most 10000')
      .default(1000),
  })
  .strict();

export type RvtoolsConfig = z.infer<typeof rvtoolsSchema>;

export const rvtoolsConnector = defineConnector<RvtoolsConfig>({
  type: 'rvtools',
  schema: rvtoolsSchema,
  secretFields: [],
  create: (config) => createRvtoolsSource(config),
});

/**
 * Builds the source of an entry. `file` replaces the entry's path, as
 * `source import FILE` does. A relative path is resolved against the working
 * directory of the process.
 */
export function createRvtoolsSource(config: RvtoolsConfig, file?: string): RvtoolsInventorySource {
  const chosen = file ?? config.path;
  return new RvtoolsInventorySource({
    name: config.name,
    path: chosen === undefined ? undefined : path.resolve(chosen),
    mapping: config.mapping,
    pageSize: config.page_size,
  });
}
