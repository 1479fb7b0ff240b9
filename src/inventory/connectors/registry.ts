import type { z } from 'zod';

import { DomainError } from '../../errors.js';
import { translate, type MessageParameters } from '../../i18n/messages.js';
import { isSourceProblemCode, type SourceProblemCode } from '../../i18n/settings-messages.js';
import type { Connector, SourceConfig } from './connector.js';
import { openstackConnector } from './openstack.js';
import { proxmoxConnector } from './proxmox.js';
import { rvtoolsConnector } from './rvtools.js';
import { vsphereConnector } from './vsphere.js';

/** Every connector; adding one takes its file and one line here. */
export const CONNECTORS: readonly Connector[] = [
  openstackConnector,
  proxmoxConnector,
  rvtoolsConnector,
  vsphereConnector,
];

export function connectorTypes(): string[] {
  return CONNECTORS.map((connector) => connector.type);
}

/** Returns the connector of `type`; throws DomainError listing the known types. */
export function getConnector(type: unknown, source: string): Connector {
  const connector = CONNECTORS.find((candidate) => candidate.type === type);
  if (connector) return connector;
  throw new DomainError(
    'inventory_source_type_unknown',
    { source, type: String(type), types: connectorTypes().join(', ') },
    'type',
  );
}

/** One problem of a source entry: the field path and what is wrong with it. */
export interface SourceConfigIssue {
  field: string;
  /** Catalog code and parameters of the problem, for a message in the reader's language. */
  code: SourceProblemCode;
  parameters: MessageParameters;
  /** The problem in English, as the API's inventory_source_invalid error words it. */
  problem: string;
}

function sourceIssue(
  field: string,
  code: SourceProblemCode,
  parameters: MessageParameters = {},
): SourceConfigIssue {
  return { field, code, parameters, problem: translate(code, parameters, 'en') };
}

/**
 * Validates one source entry with its connector's schema. Returns the
 * validated entry, or the issues found (each names the field and the fix).
 * `label` names the entry when its name is missing or invalid.
 */
export function validateSourceConfig(
  entry: unknown,
  label: string,
): { config: SourceConfig; connector: Connector } | { issues: SourceConfigIssue[]; source: string } {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { source: label, issues: [sourceIssue('(entry)', 'source_problem_entry_mapping')] };
  }
  const raw = entry as Record<string, unknown>;
  const source = typeof raw.name === 'string' && raw.name !== '' ? raw.name : label;

  let connector: Connector;
  try {
    connector = getConnector(raw.type, source);
  } catch {
    const types = connectorTypes().join(', ');
    const issue =
      raw.type === undefined
        ? sourceIssue('type', 'source_problem_type_missing', { types })
        : sourceIssue('type', 'source_problem_type_unknown', { type: String(raw.type), types });
    return { source, issues: [issue] };
  }

  const result = (connector.schema as z.ZodType<SourceConfig>).safeParse(entry);
  if (result.success) return { config: result.data, connector };
  return {
    source,
    issues: result.error.issues.map((issue) => describeIssue(issue, connector)),
  };
}

/** Validates one entry; throws DomainError naming the source, the first bad field and the fix. */
export function parseSourceConfig(
  entry: unknown,
  label: string,
): { config: SourceConfig; connector: Connector } {
  const result = validateSourceConfig(entry, label);
  if ('config' in result) return result;
  const [first] = result.issues;
  throw new DomainError(
    'inventory_source_invalid',
    {
      source: result.source,
      field: first!.field,
      problem: first!.problem,
      problem_zh: translate(first!.code, first!.parameters, 'zh-CN'),
    },
    first!.field,
  );
}

function issueField(issue: z.core.$ZodIssue): string {
  if (issue.path.length > 0) return issue.path.join('.');
  if (issue.code === 'unrecognized_keys') return issue.keys.join(', ');
  return '(entry)';
}

/** Words an issue for an operator. Never quotes the value, because it may be a secret. */
function describeIssue(issue: z.core.$ZodIssue, connector: Connector): SourceConfigIssue {
  const field = issueField(issue);
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys((connector.schema as unknown as { shape?: object }).shape ?? {});
    return sourceIssue(field, 'source_problem_unknown_keys', {
      keys: issue.keys.join(', '),
      known: known.join(', '),
    });
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return sourceIssue(field, 'source_problem_required');
  }
  if (isSourceProblemCode(issue.message)) {
    // Bounds come from the issue, so a schema states each limit once.
    const parameters: MessageParameters = {
      ...(issue.code === 'too_small' ? { min: String(issue.minimum) } : {}),
      ...(issue.code === 'too_big' ? { max: String(issue.maximum) } : {}),
      ...(issue.code === 'custom' ? issue.params : {}),
    };
    return sourceIssue(field, issue.message, parameters);
  }
  // NOTE: a zod message that no schema sets (a default one) stays in English.
  return sourceIssue(field, 'source_problem_other', { detail: issue.message });
}
