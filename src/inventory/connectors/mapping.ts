import { z } from 'zod';

import { sourceProblem } from '../../i18n/settings-messages.js';

/**
 * Rules that assign a VM to an information system by its cluster, folder or
 * name. Rules are tried in order and the first match wins; a VM that matches
 * none stays unassigned (system_code null).
 *
 * A pattern written as `/…/flags` is a JavaScript regular expression, searched
 * anywhere in the value unless it anchors itself. Any other pattern is a glob
 * that must match the whole value, case-insensitively: `*` matches any run of
 * characters (`/` included) and `?` one character.
 */

export const MAPPING_FIELDS = ['cluster', 'folder', 'name'] as const;
export type MappingField = (typeof MAPPING_FIELDS)[number];

const SYSTEM_CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const REGEX_LITERAL = /^\/(.+)\/([dgimsuvy]*)$/s;

/** Compiles a glob or `/regex/flags` pattern. Throws SyntaxError for an invalid regular expression. */
export function compilePattern(pattern: string): RegExp {
  const literal = REGEX_LITERAL.exec(pattern);
  if (literal) {
    // The g and y flags make test() stateful, which would make matching depend on earlier VMs.
    return new RegExp(literal[1]!, literal[2]!.replace(/[gy]/g, ''));
  }
  const source = [...pattern].map(globCharacterToRegex).join('');
  return new RegExp(`^${source}$`, 'isu');
}

export const mappingRuleSchema = z
  .object({
    cluster: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .optional(),
    folder: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .optional(),
    name: z
      .string({ error: sourceProblem('source_problem_text') })
      .min(1, sourceProblem('source_problem_empty'))
      .optional(),
    system_code: z
      .string({ error: sourceProblem('source_problem_rule_system_code') })
      .regex(SYSTEM_CODE, sourceProblem('source_problem_rule_system_code'))
      .nullable(),
  })
  .strict()
  .superRefine((rule, context) => {
    const fields = MAPPING_FIELDS.filter((field) => rule[field] !== undefined);
    if (fields.length !== 1) {
      context.addIssue({
        code: 'custom',
        message: sourceProblem('source_problem_rule_fields'),
        params: { fields: fields.join(', ') || 'none' },
      });
      return;
    }
    const field = fields[0]!;
    try {
      compilePattern(rule[field]!);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        path: [field],
        message: sourceProblem('source_problem_rule_regex'),
        params: { pattern: rule[field], error: (error as Error).message },
      });
    }
  });

export type MappingRuleConfig = z.infer<typeof mappingRuleSchema>;

/** Location of a VM as its source reports it; a missing value never matches a rule on it. */
export interface VmPlacement {
  name: string;
  cluster?: string | null;
  folder?: string | null;
}

interface CompiledRule {
  field: MappingField;
  pattern: RegExp;
  systemCode: string | null;
}

export class SystemMapping {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly MappingRuleConfig[]) {
    this.rules = rules.map((rule) => {
      const field = MAPPING_FIELDS.find((candidate) => rule[candidate] !== undefined)!;
      return { field, pattern: compilePattern(rule[field]!), systemCode: rule.system_code };
    });
  }

  /** Returns the system code of the first rule that matches, or null when none does. */
  systemFor(vm: VmPlacement): string | null {
    for (const rule of this.rules) {
      const value = vm[rule.field];
      if (value === undefined || value === null || value === '') continue;
      if (rule.pattern.test(value)) return rule.systemCode;
    }
    return null;
  }
}

/** Translates one glob character: `*` any text, `?` one character, anything else itself. */
function globCharacterToRegex(character: string): string {
  if (character === '*') return '.*';
  if (character === '?') return '.';
  return character.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}
