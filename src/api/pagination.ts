import type { FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';

/**
 * Page-number pagination in the Django REST Framework form: `?page=N&page_size=M`
 * answered with `{count, next, previous, results}`, where next and previous are
 * absolute URLs or null.
 */

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export const PageQuery = Type.Object({
  page: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1_000_000, description: '页码 / page number, from 1' }),
  ),
  page_size: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      description: `每页条数 / rows per page (default ${DEFAULT_PAGE_SIZE})`,
    }),
  ),
});
export type PageQuery = Static<typeof PageQuery>;

export function Paginated<T extends TSchema>(item: T) {
  return Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
    results: Type.Array(item),
  });
}

export interface Page {
  page: number;
  pageSize: number;
  offset: number;
}

export function pageOf(query: PageQuery): Page {
  const page = query.page ?? 1;
  const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE;
  return { page, pageSize, offset: (page - 1) * pageSize };
}

function pageUrl(request: FastifyRequest, page: number): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  if (page <= 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  return url.toString();
}

export function paginated<T>(request: FastifyRequest, page: Page, count: number, results: T[]) {
  const hasNext = page.offset + results.length < count;
  return {
    count,
    next: hasNext ? pageUrl(request, page.page + 1) : null,
    previous: page.page > 1 ? pageUrl(request, page.page - 1) : null,
    results,
  };
}
