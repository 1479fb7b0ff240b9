import type { z } from 'zod';

import { DomainError } from '../../errors.js';
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
  problem: string;
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
    return { source: label, issues: [{ field: '(entry)', problem: 'must be a mapping of settings' }] };
  }
  const raw = entry as Record<string, unknown>;
  const source = typeof raw.name === 'string' && raw.name !== '' ? raw.name : label;

  let connector: Connector;
  try {
    connector = getConnector(raw.type, source);
  } catch {
    const problem =
      raw.type === undefined
        ? `missing: use one of ${connectorTypes().join(', ')}`
        : `"${String(raw.type)}" is not a known type: use one of ${connectorTypes().join(', ')}`;
    return { source, issues: [{ field: 'type', problem }] };
  }

  const result = (connector.schema as z.ZodType<SourceConfig>).safeParse(entry);
  if (result.success) return { config: result.data, connector };
  return {
    source,
    issues: result.error.issues.map((issue) => ({
      field: issueField(issue),
      problem: describeIssue(issue, connector),
    })),
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
    { source: result.source, field: first!.field, problem: first!.problem },
    first!.field,
  );
}

function issueField(issue: z.core.$ZodIssue): string {
  if (issue.path.length > 0) return issue.path.join('.');
  if (issue.code === 'unrecognized_keys') return issue.keys.join(', ');
  return '(entry)';
}

/** Words an issue for an operator. Never quotes the value, because it may be a secret. */
function describeIssue(issue: z.core.$ZodIssue, connector: Connector): string {
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys((connector.schema as unknown as { shape?: object }).shape ?? {});
    return `unknown setting(s) ${issue.keys.join(', ')}; known settings: ${known.join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'missing: this setting is required';
  return issue.message;
}
