import type pg from 'pg';

/** Turns one row that pg returned as an array into an object keyed by column name. */
export type RowBuilder = (values: unknown[]) => Record<string, unknown>;

/**
 * Compiles a function that turns an array row of `columns` into an object
 * equal to pg's own object row. It has one property per column, in order, and
 * the last of several columns with the same name wins.
 * The function is one object literal, which V8 builds with its final shape at
 * once. pg copies an empty row and then stores each column by name, which
 * took about 200 ns more per row of 24 columns (`npm run bench:pg-rows`).
 * Computed keys keep a column named `__proto__` an own property.
 */
export function compileRowBuilder(columns: readonly string[]): RowBuilder {
  const properties = columns.map((column, index) => `[${JSON.stringify(column)}]: values[${index}]`);
  return new Function('values', `return { ${properties.join(', ')} };`) as RowBuilder;
}

/** The row builder of each named statement, with the columns it was compiled for. */
const builders = new Map<string, { columns: string[]; build: RowBuilder }>();

/** Returns the row builder of the statement `name`, compiled again if its columns changed. */
export function rowBuilderFor(name: string, fields: readonly pg.FieldDef[]): RowBuilder {
  const cached = builders.get(name);
  if (
    cached &&
    cached.columns.length === fields.length &&
    fields.every((field, index) => field.name === cached.columns[index])
  ) {
    return cached.build;
  }

  const columns = fields.map((field) => field.name);
  const build = compileRowBuilder(columns);
  builders.set(name, { columns, build });
  return build;
}
