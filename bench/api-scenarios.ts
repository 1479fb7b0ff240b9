import { InvalidArgumentError } from 'commander';
import { sql } from 'kysely';

import type { Db } from '../src/db/database.js';

/** The requests of the API benchmark, shared by bench/api.ts and bench/explain-api.ts. */

/** Database that bench/api.ts seeds, and keeps with --keep. */
export const DATABASE_NAME = 'cloud_platform_bench_api';

export const PAGE_SIZE = 50;
/** The global list is loaded on its first pages, 1 to FIRST_PAGES. */
const FIRST_PAGES = 5;
/** Rows of billing records and of adjustments in a detailed_info response. */
const DETAILED_INFO_LATEST = 30;

/** Id ranges that the scenarios draw from, read from the seeded database. */
export interface IdRanges {
  systems: { min: number; max: number };
  tenants: { min: number; max: number };
}

export interface Scenario {
  name: string;
  /** Returns the path of the next request, with random ids. */
  nextPath(ids: IdRanges): string;
  /** Rows of the response's main list: results, or billing_records of detailed_info. */
  expectedRows: number;
  rowsOf(body: unknown): number;
}

const randomIn = ({ min, max }: { min: number; max: number }) =>
  min + Math.floor(Math.random() * (max - min + 1));
const resultsLength = (body: unknown) => (body as { results: unknown[] }).results.length;

export const SCENARIOS: Scenario[] = [
  {
    name: 'system-billing-records',
    nextPath: (ids) =>
      `/api/information-systems/${randomIn(ids.systems)}/billing_records/?page_size=${PAGE_SIZE}`,
    expectedRows: PAGE_SIZE,
    rowsOf: resultsLength,
  },
  {
    name: 'detailed-info',
    nextPath: (ids) => `/api/information-systems/${randomIn(ids.systems)}/detailed_info/`,
    expectedRows: DETAILED_INFO_LATEST,
    rowsOf: (body) => (body as { billing_records: unknown[] }).billing_records.length,
  },
  {
    name: 'billing-records-first-pages',
    nextPath: () =>
      `/api/billing-records/?page_size=${PAGE_SIZE}&page=${randomIn({ min: 1, max: FIRST_PAGES })}`,
    expectedRows: PAGE_SIZE,
    rowsOf: resultsLength,
  },
  {
    name: 'billing-records-by-system',
    nextPath: (ids) =>
      `/api/billing-records/?page_size=${PAGE_SIZE}&information_system=${randomIn(ids.systems)}`,
    expectedRows: PAGE_SIZE,
    rowsOf: resultsLength,
  },
  {
    name: 'billing-records-by-tenant',
    nextPath: (ids) => `/api/billing-records/?page_size=${PAGE_SIZE}&tenant=${randomIn(ids.tenants)}`,
    expectedRows: PAGE_SIZE,
    rowsOf: resultsLength,
  },
];

export function databaseUrlFor(adminUrl: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${DATABASE_NAME}`;
  return url.toString();
}

export async function readIdRanges(db: Db): Promise<IdRanges> {
  const { rows } = await sql<{
    system_min: number;
    system_max: number;
    tenant_min: number;
    tenant_max: number;
  }>`
    SELECT
      (SELECT min(id) FROM information_systems) AS system_min,
      (SELECT max(id) FROM information_systems) AS system_max,
      (SELECT min(id) FROM tenants) AS tenant_min,
      (SELECT max(id) FROM tenants) AS tenant_max`.execute(db);
  const row = rows[0]!;
  if (row.system_min === null) throw new Error(`${DATABASE_NAME} has no information systems`);
  return {
    systems: { min: row.system_min, max: row.system_max },
    tenants: { min: row.tenant_min, max: row.tenant_max },
  };
}

export function parseScenarioNames(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  const known = SCENARIOS.map((scenario) => scenario.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`unknown scenario ${unknown.join(', ')}; choose from ${known.join(', ')}`);
  }
  return names;
}
