/**
 * Inventory sources added through the API. `options` holds the connector's
 * settings without secrets; `secrets` holds the inline secret fields (e.g.
 * `password`), which the API never returns.
 */
export const statements = [
  `CREATE TABLE inventory_sources (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{0,31}$' AND name <> 'local'),
    type text NOT NULL,
    options jsonb NOT NULL DEFAULT '{}'::jsonb,
    secrets jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
];
