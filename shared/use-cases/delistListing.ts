import { ConflictError, ForbiddenError, type DependencyError, type NotFoundError } from '../errors.js';
import type { Dataset } from '../schemas/dataset.js';
import type { ListingDeps } from './deps.js';
import { getListing } from './getListing.js';
import { writeListingManifest } from './manifest.js';

export interface DelistListingParameters {
  caller: string;
  id: string;
}
export type DelistListingReturnType = Dataset;
export type DelistListingErrorType = NotFoundError | ForbiddenError | ConflictError | DependencyError;

/**
 * Delists (owner only) as a new version with its own manifest: stops new sales; the listing stays readable and
 * existing licenses stay valid. The version bump makes a concurrent update that read the old version fail.
 */
export async function delistListing(deps: ListingDeps, params: DelistListingParameters): Promise<DelistListingReturnType> {
  const current = await getListing(deps, { id: params.id });
  if (current.owner !== params.caller) {
    throw new ForbiddenError('FORBIDDEN_NOT_OWNER', `Only the owner ${current.owner} can delist dataset ${current.id}`);
  }
  if (current.status === 'delisted') throw new ConflictError('DATASET_DELISTED', `Dataset ${current.id} is already delisted`);
  const { manifestCid: previous, ...rest } = current;
  const draft: Omit<Dataset, 'manifestCid'> = { ...rest, status: 'delisted', version: current.version + 1, updatedAt: deps.now().toISOString() };
  const next: Dataset = { ...draft, manifestCid: await writeListingManifest(deps.content, draft, previous) };
  await deps.datasets.replace(next, current.version);
  return next;
}
