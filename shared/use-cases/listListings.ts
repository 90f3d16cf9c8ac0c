import { openCursor, sealCursor } from '../crypto/pageCursor.js';
import type { DependencyError, ProvenaError, ValidationError } from '../errors.js';
import type { DatasetListQuery, DatasetPage } from '../schemas/dataset.js';
import type { ListingDeps } from './deps.js';

export interface ListListingsDeps extends Pick<ListingDeps, 'datasets'> {
  /** HMAC key that seals page cursors (`PROVENA_CURSOR_SECRET`). */
  cursorKey: Uint8Array;
}
export type ListListingsParameters = DatasetListQuery;
export type ListListingsReturnType = DatasetPage;
/** `CURSOR_INVALID` (a {@link ProvenaError}) for a cursor this API did not issue for this very query. */
export type ListListingsErrorType = ValidationError | DependencyError | ProvenaError;

/** The filters a cursor is bound to: a cursor resumes only the query that produced it (the limit may change). */
function scopeOf(q: DatasetListQuery): string {
  return JSON.stringify(['listings', q.owner ?? null, q.status, q.tag ?? null, q.q ?? null]);
}

/**
 * Searches listings, newest first: by tag, owner and text, a page at a time. Cursors are sealed with an HMAC, so
 * an altered cursor, or one from another query, is refused (`CURSOR_INVALID`) before storage sees it.
 *
 * @example
 * ```ts
 * const page = await listListings({ datasets, cursorKey }, { limit: 20, status: 'active' });
 * ```
 */
export async function listListings(deps: ListListingsDeps, params: ListListingsParameters): Promise<ListListingsReturnType> {
  const scope = scopeOf(params);
  const { cursor, ...rest } = params;
  const page = await deps.datasets.list(cursor === undefined ? rest : { ...rest, cursor: openCursor(deps.cursorKey, scope, cursor) });
  return page.nextCursor === undefined ? { items: page.items } : { items: page.items, nextCursor: sealCursor(deps.cursorKey, scope, page.nextCursor) };
}
