import type { DependencyError, ValidationError } from '../errors.js';
import type { DatasetListQuery, DatasetPage } from '../schemas/dataset.js';
import type { ListingDeps } from './deps.js';

export type ListListingsParameters = DatasetListQuery;
export type ListListingsReturnType = DatasetPage;
export type ListListingsErrorType = ValidationError | DependencyError;

/** Searches listings, newest first: by tag, owner and text, a page at a time. */
export function listListings(deps: Pick<ListingDeps, 'datasets'>, params: ListListingsParameters): Promise<ListListingsReturnType> {
  return deps.datasets.list(params);
}
