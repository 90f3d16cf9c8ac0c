import { ConflictError, ForbiddenError, type DependencyError, type NotFoundError, type ValidationError } from '../errors.js';
import type { Dataset } from '../schemas/dataset.js';
import type { RegistrationTypedData, RegistryRelayer } from '../adapters/chain/RegistryRelayer.js';
import type { ListingDeps } from './deps.js';
import { getListing } from './getListing.js';
import { writeListingManifest } from './manifest.js';

/** What registration needs beyond the listing deps. */
export interface RegistrationDeps extends ListingDeps {
  registry: Pick<RegistryRelayer, 'typedData' | 'relay'>;
}

export interface RegisterListingParameters {
  caller: string;
  id: string;
  signed: { nonce: string; deadline: string; signature: string };
}
export type RegisterListingReturnType = Dataset;
export type RegisterListingErrorType = NotFoundError | ForbiddenError | ConflictError | ValidationError | DependencyError;

async function registrable(deps: ListingDeps, caller: string | undefined, id: string): Promise<Dataset> {
  const listing = await getListing(deps, { id });
  if (caller !== undefined && listing.owner !== caller) {
    throw new ForbiddenError('FORBIDDEN_NOT_OWNER', `Only the owner ${listing.owner} can register dataset ${id}`);
  }
  if (listing.status === 'delisted') throw new ConflictError('DATASET_DELISTED', `Dataset ${id} is delisted`);
  if (listing.chainDatasetId) throw new ConflictError('DATASET_ALREADY_REGISTERED', `Dataset ${id} is registry dataset ${listing.chainDatasetId}`);
  return listing;
}

/** The EIP-712 message the owner signs to register `id` on the DatasetRegistry (gasless). */
export async function registrationTypedData(deps: RegistrationDeps, params: { id: string }): Promise<RegistrationTypedData> {
  const listing = await registrable(deps, undefined, params.id);
  return deps.registry.typedData(listing, Math.floor(deps.now().getTime() / 1000));
}

/**
 * Registers a listing on chain with the owner's signature (the API pays the gas), then records the registry's
 * dataset id on the listing as a new version. The chain's per-owner nonce makes a relayed signature count once.
 */
export async function registerListing(deps: RegistrationDeps, params: RegisterListingParameters): Promise<RegisterListingReturnType> {
  const listing = await registrable(deps, params.caller, params.id);
  const chainDatasetId = await deps.registry.relay(listing, params.signed);
  const { manifestCid: previous, ...rest } = listing;
  const draft: Omit<Dataset, 'manifestCid'> = { ...rest, chainDatasetId, version: listing.version + 1, updatedAt: deps.now().toISOString() };
  const next: Dataset = { ...draft, manifestCid: await writeListingManifest(deps.content, draft, previous) };
  await deps.datasets.replace(next, listing.version);
  return next;
}
