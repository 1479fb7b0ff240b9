import type { FastifySchemaValidationError } from 'fastify';

/**
 * Turns TypeBox's validation errors into the issues that a 400
 * `validation_failed` lists, one per field:
 *
 * - TypeBox reports all missing or unknown properties of an object in one
 *   error. They become one issue per property, and the extra "schema is
 *   false" error that TypeBox adds for each unknown property is dropped.
 * - TypeBox reports each failed member of a union and then an `anyOf` error,
 *   all at the same instance path. They become one issue with keyword `anyOf`
 *   whose schema is the whole union, so that the message can list every
 *   alternative. Errors inside an object member of a union keep their own
 *   issues at their deeper paths.
 * - Each issue carries the subschema that it failed and the received value,
 *   which src/api/validation-messages.ts puts into the message.
 *
 * This runs only after a failed check, so it may walk schemas and values.
 */

/** A validation error as the validator compiler hands it to Fastify, which passes it to the error handler. */
export interface ValidationIssue extends FastifySchemaValidationError {
  /**
   * The subschema that describes the expected value: the property's schema of
   * a `required` issue, the object's schema of an `additionalProperties` issue,
   * the whole union of an `anyOf` issue, else the schema that contains `keyword`.
   */
  schema?: unknown;
  /** The received value at `instancePath`, after query text conversion. Absent for missing and unknown properties. */
  value?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes the segments of a JSON Pointer (RFC 6901) such as `/a~1b/0`, or `#/properties/a` as TypeBox writes schema paths. */
export function pointerSegments(pointer: string): string[] {
  return pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function escapeSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Returns what `pointer` points to in `root`, or undefined when a segment is missing. */
export function resolvePointer(root: unknown, pointer: string): unknown {
  let current = root;
  for (const segment of pointerSegments(pointer)) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isRecord(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

// A schema path that ends in one or more union members, e.g. `#/properties/role/anyOf/1`.
// The lazy prefix makes the first group the outermost union of a chain of nested unions.
const UNION_MEMBER_PATH = /^(.*?)((?:\/anyOf\/\d+)+)$/;

/**
 * Returns the schema path of the union that an error belongs to at its own
 * instance path: for the `anyOf` error itself and for a member that failed as
 * a whole. Returns undefined for other errors.
 */
function unionPathOf(error: FastifySchemaValidationError): string | undefined {
  const member = UNION_MEMBER_PATH.exec(error.schemaPath);
  if (member) return member[1];
  return error.keyword === 'anyOf' ? error.schemaPath : undefined;
}

/** Converts TypeBox's errors for `input`, checked against `schema`, into one issue per field. */
export function validationIssues(
  schema: unknown,
  input: unknown,
  errors: readonly FastifySchemaValidationError[],
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const unions = new Set<string>();

  for (const error of errors) {
    const unionPath = unionPathOf(error);
    if (unionPath !== undefined) {
      // One issue per union and instance path, at the place of its first error.
      const key = `${error.instancePath}\n${unionPath}`;
      if (unions.has(key)) continue;
      unions.add(key);
      issues.push({
        keyword: 'anyOf',
        instancePath: error.instancePath,
        schemaPath: unionPath,
        params: {},
        message: 'must match a schema in anyOf',
        schema: resolvePointer(schema, unionPath),
        value: resolvePointer(input, error.instancePath),
      });
      continue;
    }
    issues.push(...propertyIssues(schema, input, error));
  }
  return issues;
}

function propertyIssues(
  schema: unknown,
  input: unknown,
  error: FastifySchemaValidationError,
): ValidationIssue[] {
  const params = error.params as { requiredProperties?: unknown; additionalProperties?: unknown };
  const objectSchema = resolvePointer(schema, error.schemaPath);

  if (error.keyword === 'required' && Array.isArray(params.requiredProperties)) {
    const properties = isRecord(objectSchema) ? objectSchema.properties : undefined;
    // The error handler appends `missingProperty` to the field path, as with Ajv.
    return params.requiredProperties.map((property) => ({
      ...error,
      params: { missingProperty: String(property) },
      message: 'is required',
      schema: isRecord(properties) ? properties[String(property)] : undefined,
    }));
  }

  if (error.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
    return params.additionalProperties.map((property) => ({
      ...error,
      instancePath: `${error.instancePath}/${escapeSegment(String(property))}`,
      params: { additionalProperty: String(property) },
      message: 'is not an allowed property',
      schema: objectSchema,
    }));
  }

  // TypeBox reports each unknown property once more as a failed `false` schema.
  if (error.keyword === 'boolean' && error.schemaPath.endsWith('/additionalProperties')) return [];

  return [{ ...error, schema: objectSchema, value: resolvePointer(input, error.instancePath) }];
}

/**
 * Returns the values that a schema allows when it allows only a fixed list:
 * a `const`, an `enum`, `null`, or a union of these. Returns undefined for
 * any other schema.
 */
export function allowedConstants(schema: unknown): unknown[] | undefined {
  if (!isRecord(schema)) return undefined;
  if (Object.hasOwn(schema, 'const')) return [schema.const];
  if (Array.isArray(schema.enum)) return schema.enum;
  if (schema.type === 'null') return [null];
  if (!Array.isArray(schema.anyOf)) return undefined;
  const values: unknown[] = [];
  for (const member of schema.anyOf) {
    const memberValues = allowedConstants(member);
    if (memberValues === undefined) return undefined;
    values.push(...memberValues);
  }
  return values;
}
