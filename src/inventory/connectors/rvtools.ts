import path from 'node:path';

import { z } from 'zod';

import { sourceProblem } from '../../i18n/settings-messages.js';
import { commonSourceFields, defineConnector, wholeNumberSetting } from './connector.js';
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
      .string({ error: sourceProblem('source_problem_rvtools_path') })
      .regex(/\.(xlsx|csv)$/i, sourceProblem('source_problem_rvtools_extension'))
      .optional(),
    mapping: z.array(mappingRuleSchema, { error: sourceProblem('source_problem_rules_list') }).default([]),
    page_size: wholeNumberSetting(1, 10_000).default(1000),
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
