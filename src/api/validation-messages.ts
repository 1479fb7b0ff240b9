import type { FastifySchemaValidationError } from 'fastify';

import { messageTemplate, type Locale, type MessageCode } from '../i18n/messages.js';
import type { FieldError } from './errors.js';
import { allowedConstants, pointerSegments, type ValidationIssue } from './validation-issues.js';

/**
 * Field messages of a 400 `validation_failed` in zh-CN or English. Each
 * message names what the field expects, described from its schema (type,
 * bounds, length, pattern, format, allowed values), and the value received,
 * e.g. `must be an integer from 1 to 1000, got 0`.
 *
 * TypeBox 1.x ships translated messages (typebox/system Locale), but its
 * locale is global to the process and its messages name only the failed
 * keyword (`必须 >= 1`), neither the whole expectation nor the value.
 */

/** Maximum length in characters of a received value in a message; longer values end in an ellipsis. */
const MAX_VALUE_LENGTH = 60;

/**
 * Field names whose values a message never shows: passwords, API tokens, the
 * secret fields of inventory source connectors (`password`, `token_secret`)
 * and credentials in headers.
 */
const SECRET_NAME =
  /password|passwd|passphrase|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Cuts `text` to MAX_VALUE_LENGTH characters, with an ellipsis when it was longer. */
export function shortenText(text: string): string {
  const characters = Array.from(text);
  return characters.length > MAX_VALUE_LENGTH ? `${characters.slice(0, MAX_VALUE_LENGTH).join('')}…` : text;
}

/**
 * Renders a received value for a message: text in double quotes, objects and
 * arrays as compact JSON with the values of secret-named keys replaced by
 * `***`, everything cut to MAX_VALUE_LENGTH characters.
 */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(shortenText(value));
  if (typeof value !== 'object' || value === null) return String(value);
  const json = JSON.stringify(value, (key, nested: unknown) =>
    key !== '' && isSecretName(key) ? '***' : nested,
  );
  return shortenText(json);
}

/** Renders an allowed value: plain when it is a simple word such as `7x24`, else as JSON. */
function renderConstant(value: unknown): string {
  if (typeof value === 'string' && /^[\w.:@+-]+$/u.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
}

// Han characters, and ASCII letters, digits and symbols: zh-CN text puts a space between the two.
const HAN = /[\u3400-\u9fff\uf900-\ufaff]/u;
const ASCII_VISIBLE = /[!-~]/;

function needsSpace(before: string | undefined, after: string | undefined): boolean {
  if (before === undefined || after === undefined) return false;
  return (HAN.test(before) && ASCII_VISIBLE.test(after)) || (ASCII_VISIBLE.test(before) && HAN.test(after));
}

/**
 * Fills the catalog template of `code`. In zh-CN a space goes between a Han
 * character and a Latin letter or digit where a template and a parameter
 * meet, as the catalog writes `应为 1 到 100`, while `应为整数` stays closed.
 */
function fill(code: MessageCode, parameters: Record<string, string | number>, locale: Locale): string {
  const template = messageTemplate(code, locale);
  let result = '';
  let rest = 0;
  const append = (piece: string) => {
    if (piece === '') return;
    if (locale === 'zh-CN' && needsSpace(result.at(-1), piece[0])) result += ' ';
    result += piece;
  };
  for (const match of template.matchAll(/\{(\w+)\}/g)) {
    append(template.slice(rest, match.index));
    const value = parameters[match[1]!];
    append(value === undefined ? match[0] : String(value));
    rest = match.index + match[0].length;
  }
  append(template.slice(rest));
  return result;
}

/** Joins alternatives as "a, b or c" in English and "a、b 或 c" in Chinese. */
function joinAlternatives(alternatives: string[], locale: Locale): string {
  const unique = [...new Set(alternatives)];
  if (unique.length <= 1) return unique[0] ?? fill('validation_expected_any', {}, locale);
  const separator = fill('validation_list_separator', {}, locale);
  return fill('validation_or', { first: unique.slice(0, -1).join(separator), last: unique.at(-1)! }, locale);
}

function joinConstraints(constraints: string[], locale: Locale): string {
  return constraints.reduce((first, second) => fill('validation_constraint_join', { first, second }, locale));
}

function constrained(noun: string, constraints: string[], locale: Locale): string {
  if (constraints.length === 0) return noun;
  return fill('validation_constrained', { noun, constraints: joinConstraints(constraints, locale) }, locale);
}

function describeNumber(schema: Record<string, unknown>, noun: MessageCode, locale: Locale): string {
  const constraints: string[] = [];
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
  const lowerIsExclusive = isNumber(exclusiveMinimum) && !(isNumber(minimum) && minimum > exclusiveMinimum);
  const upperIsExclusive = isNumber(exclusiveMaximum) && !(isNumber(maximum) && maximum < exclusiveMaximum);

  let lower: string | undefined;
  if (lowerIsExclusive) {
    lower = fill('validation_constraint_exclusive_minimum', { limit: exclusiveMinimum }, locale);
  } else if (isNumber(minimum)) {
    lower = fill('validation_constraint_minimum', { limit: minimum }, locale);
  }
  let upper: string | undefined;
  if (upperIsExclusive) {
    upper = fill('validation_constraint_exclusive_maximum', { limit: exclusiveMaximum }, locale);
  } else if (isNumber(maximum)) {
    upper = fill('validation_constraint_maximum', { limit: maximum }, locale);
  }

  if (isNumber(minimum) && isNumber(maximum) && !lowerIsExclusive && !upperIsExclusive) {
    constraints.push(fill('validation_constraint_range', { min: minimum, max: maximum }, locale));
  } else if (lower !== undefined && upper !== undefined) {
    constraints.push(fill('validation_constraint_bounds', { lower, upper }, locale));
  } else {
    const bound = lower ?? upper;
    if (bound !== undefined) constraints.push(bound);
  }
  if (isNumber(multipleOf)) {
    constraints.push(fill('validation_constraint_multiple_of', { step: multipleOf }, locale));
  }
  return constrained(fill(noun, {}, locale), constraints, locale);
}

function describeText(schema: Record<string, unknown>, locale: Locale): string {
  const { minLength, maxLength, pattern, format } = schema;
  const minimum = isNumber(minLength) && minLength > 0 ? minLength : undefined;
  const maximum = isNumber(maxLength) ? maxLength : undefined;

  let noun: string;
  let lengthMinimum = minimum;
  if (format === 'date') noun = fill('validation_expected_date', {}, locale);
  else if (format === 'date-time') noun = fill('validation_expected_date_time', {}, locale);
  else if (typeof format === 'string') noun = fill('validation_expected_format', { format }, locale);
  else if (minimum === 1 && maximum === undefined) {
    noun = fill('validation_expected_non_empty_text', {}, locale);
    lengthMinimum = undefined;
  } else noun = fill('validation_expected_text', {}, locale);

  const constraints: string[] = [];
  if (lengthMinimum !== undefined && lengthMinimum === maximum) {
    constraints.push(fill('validation_constraint_length', { limit: maximum }, locale));
  } else if (lengthMinimum !== undefined && maximum !== undefined) {
    constraints.push(
      fill('validation_constraint_length_range', { min: lengthMinimum, max: maximum }, locale),
    );
  } else if (lengthMinimum !== undefined) {
    constraints.push(fill('validation_constraint_min_length', { limit: lengthMinimum }, locale));
  } else if (maximum !== undefined) {
    constraints.push(fill('validation_constraint_max_length', { limit: maximum }, locale));
  }
  if (typeof pattern === 'string') {
    constraints.push(fill('validation_constraint_pattern', { pattern }, locale));
  }
  return constrained(noun, constraints, locale);
}

function describeList(schema: Record<string, unknown>, locale: Locale): string {
  const { minItems, maxItems, uniqueItems } = schema;
  const minimum = isNumber(minItems) && minItems > 0 ? minItems : undefined;
  const maximum = isNumber(maxItems) ? maxItems : undefined;

  const nonEmpty = minimum === 1 && maximum === undefined;
  const noun = fill(nonEmpty ? 'validation_expected_non_empty_list' : 'validation_expected_list', {}, locale);
  const constraints: string[] = [];
  if (!nonEmpty && minimum !== undefined && maximum !== undefined) {
    constraints.push(fill('validation_constraint_items_range', { min: minimum, max: maximum }, locale));
  } else if (!nonEmpty && minimum !== undefined) {
    constraints.push(fill('validation_constraint_min_items', { limit: minimum }, locale));
  } else if (maximum !== undefined) {
    constraints.push(fill('validation_constraint_max_items', { limit: maximum }, locale));
  }
  if (uniqueItems === true) constraints.push(fill('validation_constraint_unique_items', {}, locale));
  return constrained(noun, constraints, locale);
}

/** Describes the values that `schema` accepts, e.g. "an integer from 1 to 100" or "7x24 or 5x8". */
export function describeExpected(schema: unknown, locale: Locale): string {
  if (!isRecord(schema)) return fill('validation_expected_any', {}, locale);

  const constants = allowedConstants(schema);
  if (constants !== undefined) return joinAlternatives(constants.map(renderConstant), locale);
  if (Array.isArray(schema.anyOf)) {
    return joinAlternatives(
      schema.anyOf.map((member) => describeExpected(member, locale)),
      locale,
    );
  }
  if (Array.isArray(schema.type)) {
    return joinAlternatives(
      schema.type.map((type) => describeExpected({ ...schema, type }, locale)),
      locale,
    );
  }
  // TypeBox writes an intersection of objects as allOf.
  if (
    Array.isArray(schema.allOf) &&
    schema.allOf.every((member) => isRecord(member) && member.type === 'object')
  ) {
    return fill('validation_expected_object', {}, locale);
  }

  switch (schema.type) {
    case 'integer':
      return describeNumber(schema, 'validation_expected_integer', locale);
    case 'number':
      return describeNumber(schema, 'validation_expected_number', locale);
    case 'string':
      return describeText(schema, locale);
    case 'boolean':
      return fill('validation_expected_boolean', {}, locale);
    case 'object':
      return fill('validation_expected_object', {}, locale);
    case 'array':
      return describeList(schema, locale);
    default:
      return fill('validation_expected_any', {}, locale);
  }
}

/** Returns the names of the properties that an object schema, or an intersection of object schemas, defines. */
function propertyNames(schema: unknown): string[] {
  if (!isRecord(schema)) return [];
  const members: unknown[] = Array.isArray(schema.allOf) ? schema.allOf : [schema];
  return members.flatMap((member) =>
    isRecord(member) && isRecord(member.properties) ? Object.keys(member.properties) : [],
  );
}

function messageOf(issue: ValidationIssue, secret: boolean, absent: boolean, locale: Locale): string {
  if (absent) {
    return fill('validation_required', { expected: describeExpected(issue.schema, locale) }, locale);
  }
  switch (issue.keyword) {
    case 'required':
      return fill('validation_required', { expected: describeExpected(issue.schema, locale) }, locale);
    case 'additionalProperties': {
      const allowed = propertyNames(issue.schema);
      if (allowed.length === 0) return fill('validation_no_fields', {}, locale);
      const separator = fill('validation_list_separator', {}, locale);
      return fill('validation_unknown_field', { allowed: allowed.join(separator) }, locale);
    }
    case 'boolean':
      return fill('validation_not_allowed', {}, locale);
    case 'nulCharacter':
      return fill('validation_nul_character', {}, locale);
  }

  const expected = describeExpected(issue.schema, locale);
  if (secret || !Object.hasOwn(issue, 'value') || issue.value === undefined) {
    return fill('validation_expected', { expected }, locale);
  }
  return fill('validation_got', { expected, value: renderValue(issue.value) }, locale);
}

/**
 * Returns one detail per issue of a failed request part (`context` is body,
 * querystring, params or headers). A field is the part followed by the
 * property path, joined with dots, e.g. `body.cpu` or `querystring.page`.
 * `bodySent` is false for a request without a body, which Fastify
 * validates as null, just like a body of `null`.
 */
export function validationDetails(
  issues: readonly FastifySchemaValidationError[],
  context: string | undefined,
  locale: Locale,
  bodySent = true,
): FieldError[] {
  return issues.map((issue) => {
    const missing = (issue.params as { missingProperty?: string } | undefined)?.missingProperty;
    const segments = [...pointerSegments(issue.instancePath), ...(missing === undefined ? [] : [missing])];
    const secret = segments.some(isSecretName);
    const bodyAbsent = context === 'body' && issue.instancePath === '' && !bodySent;
    return {
      field: [context, ...segments].filter((segment) => segment !== undefined && segment !== '').join('.'),
      code: issue.keyword,
      message: messageOf(issue, secret, bodyAbsent, locale),
    };
  });
}

/** Joins the details into the summary that the top-level message of validation_failed contains. */
export function validationSummary(details: readonly FieldError[], locale: Locale): string {
  return details
    .map((detail) => fill('validation_issue', { field: detail.field, message: detail.message }, locale))
    .join(fill('validation_separator', {}, locale));
}
