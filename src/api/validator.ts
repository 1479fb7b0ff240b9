import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

import { validationIssues } from './validation-issues.js';

/**
 * Validator compiler of every route: TypeBox checks request bodies without
 * type coercion. Ajv with `coerceTypes` would turn `null` sent for an integer
 * into 0, `true` into 1 and `[4]` into 4, so a nullable integer could never be
 * null. Here such bodies fail with 400.
 *
 * Query strings, path parameters and headers are text, so their values are
 * first converted to the schema's types. A value is converted only when the
 * text is the canonical form of the result. So `?page=2` gives 2, while `1.5`,
 * `0x10` or an empty string stay text and fail an integer schema.
 *
 * When the check fails, validationIssues turns TypeBox's errors into one
 * issue per field, with the received value, for the error handler's message.
 * A value that passes but contains U+0000 fails with the issue `nulCharacter`.
 * TypeBox 1.4 stops after 8 errors by default (Settings `maxErrors`, global
 * to the process), and each failed member of a union counts as one. So a
 * request with many bad fields lists only the first of them.
 */
export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema);
  const kinds = httpPart === 'body' ? undefined : flatPropertyKinds(schema);
  return (input: unknown) => {
    const value = httpPart === 'body' ? input : (convertFlatText(kinds, input) ?? convertText(schema, input));
    if (!validator.Check(value)) {
      const errors = validator.Errors(value) as FastifySchemaValidationError[];
      return { error: validationIssues(schema, value, errors) };
    }
    const nulPath = pathOfNul(value, '');
    if (nulPath !== undefined) return { error: [nulIssue(nulPath)] };
    return { value };
  };
};

/**
 * Returns the JSON Pointer of the first string (value or property name) in
 * `value` that contains U+0000, or undefined when none does. PostgreSQL text
 * cannot store that character, so such a request would fail in the database.
 */
function pathOfNul(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;

  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = pathOfNul(value[index], `${path}/${index}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const itemPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key.includes('\0')) return itemPath;
    const found = pathOfNul(item, itemPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

function nulIssue(instancePath: string): FastifySchemaValidationError {
  return {
    keyword: 'nulCharacter',
    instancePath,
    schemaPath: '',
    params: {},
    message: 'must not contain U+0000',
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Conversion of a property's text: to an integer, to a boolean, or none. */
type TextKind = 'integer' | 'boolean' | 'text';

function textKindOf(schema: unknown): TextKind | undefined {
  if (!isRecord(schema)) return undefined;
  if (schema.type === 'integer') return 'integer';
  if (schema.type === 'boolean') return 'boolean';
  if (schema.type === 'string') return 'text';
  const anyOf = schema.anyOf;
  if (Array.isArray(anyOf) && anyOf.every((member) => isRecord(member) && member.type === 'string')) {
    return 'text';
  }
  return undefined;
}

/**
 * Returns the conversion of each property of an object schema, or of an
 * intersection of object schemas, when every property is an integer, a
 * boolean or text. Returns undefined for any other schema, which convertText
 * then handles.
 */
export function flatPropertyKinds(schema: TSchema): Map<string, TextKind> | undefined {
  const allOf = (schema as { allOf?: unknown }).allOf;
  const members: unknown[] = Array.isArray(allOf) ? allOf : [schema];
  const kinds = new Map<string, TextKind>();
  for (const member of members) {
    if (!isRecord(member) || member.type !== 'object' || !isRecord(member.properties)) return undefined;
    for (const [name, property] of Object.entries(member.properties)) {
      const kind = textKindOf(property);
      if (kind === undefined || (kinds.has(name) && kinds.get(name) !== kind)) return undefined;
      kinds.set(name, kind);
    }
  }
  return kinds;
}

/**
 * Converts a flat object of text values by `kinds`, with the same result as
 * convertText, but without TypeBox's generic conversion, which took about 3 %
 * of the API's CPU time under load. Returns undefined when `kinds` is
 * undefined or a value is not text (a repeated query parameter gives an
 * array), so that the caller falls back to convertText.
 */
export function convertFlatText(
  kinds: Map<string, TextKind> | undefined,
  input: unknown,
): Record<string, unknown> | undefined {
  if (kinds === undefined || !isRecord(input)) return undefined;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    const text = input[key];
    if (typeof text !== 'string') return undefined;
    const kind = kinds.get(key);
    if (kind === 'integer') {
      // Only the canonical form converts, so `1.5`, `0x10`, `01` and `` stay text and fail the check.
      const number = Number(text);
      result[key] = Number.isInteger(number) && String(number) === text ? number : text;
    } else if (kind === 'boolean' && (text === 'true' || text === 'false')) {
      result[key] = text === 'true';
    } else {
      result[key] = text;
    }
  }
  return result;
}

/** Converts the text values of a flat object (query, params, headers) whose conversion round-trips. */
export function convertText(schema: TSchema, input: unknown): unknown {
  if (!isRecord(input)) return Value.Convert(schema, input);
  // Value.Convert changes its argument in place, so convert a copy and compare with the input.
  const converted: unknown = Value.Convert(schema, { ...input });
  if (!isRecord(converted)) return converted;

  const result: Record<string, unknown> = { ...converted };
  for (const [key, original] of Object.entries(input)) {
    const value = result[key];
    // TypeBox turns "1.5" into the integer 1 and "" into 0, so keep such text for the check to reject.
    if (typeof original === 'string' && typeof value !== 'string' && String(value) !== original) {
      result[key] = original;
    }
  }
  return result;
}
