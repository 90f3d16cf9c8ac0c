import type { DependencyError, ValidationError } from '../errors.js';
import type { LicenseIndex } from '../ports/ChainIndex.js';
import type { LicenseListQuery, LicensePage } from '../schemas/license.js';

export type ListLicensesParameters = LicenseListQuery;
export type ListLicensesReturnType = LicensePage;
export type ListLicensesErrorType = ValidationError | DependencyError;

/** A holder's licenses from the index, newest first, cursor-paginated. */
export async function listLicenses(deps: { licenses: Pick<LicenseIndex, 'listByHolder'> }, params: ListLicensesParameters): Promise<ListLicensesReturnType> {
  const page = await deps.licenses.listByHolder(params.holder, { limit: params.limit, ...(params.cursor ? { cursor: params.cursor } : {}) });
  return { items: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}
