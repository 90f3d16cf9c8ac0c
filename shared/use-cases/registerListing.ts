import { ConflictError, ForbiddenError, type DependencyError, type NotFoundError, type ValidationError } from '../errors.js';
import type { Dataset } from '../schemas/dataset.js';
import type { RegistrySubmitter, RegistryTypedData, SignedRegistryMessage } from '../ports/RegistrySubmitter.js';
import type { ListingDeps } from './deps.js';
import { getListing } from './getListing.js';
import { withinRelayQuota, type RelayQuotaDeps, type WithinRelayQuotaErrorType } from './relayQuota.js';

/** What registry syncing needs beyond the listing deps. */
export interface RegistrationDeps extends Pick<ListingDeps, 'datasets' | 'now'>, RelayQuotaDeps {
  registry: RegistrySubmitter;
}

export interface RegisterListingParameters {
  caller: string;
  id: string;
  signed: SignedRegistryMessage;
}
export type RegisterListingReturnType = Dataset;
export type RegisterListingErrorType = NotFoundError | ForbiddenError | ConflictError | ValidationError | DependencyError | WithinRelayQuotaErrorType;

async function syncable(deps: Pick<ListingDeps, 'datasets' | 'now'>, id: string): Promise<Dataset> {
  const listing = await getListing(deps, { id });
  if (listing.status === 'delisted') throw new ConflictError('DATASET_DELISTED', `Dataset ${id} is delisted`);
  if (listing.chainDatasetId && listing.chainManifestCid === listing.manifestCid) {
    throw new ConflictError('DATASET_ALREADY_REGISTERED', `Dataset ${id} is registry dataset ${listing.chainDatasetId}, already at manifest ${listing.manifestCid}`);
  }
  return listing;
}

/**
 * The EIP-712 message the owner signs to put the listing on the DatasetRegistry (`Registration`), or, once it
 * is there, to record its current manifest CID and price (`Update`). Gasless for the owner.
 */
export async function registrationTypedData(deps: RegistrationDeps, params: { id: string }): Promise<RegistryTypedData> {
  return deps.registry.typedData(await syncable(deps, params.id), Math.floor(deps.now().getTime() / 1000));
}

/**
 * Relays the owner's signed registration or update, then records on the listing what the registry now holds
 * (`chainDatasetId`, `chainManifestCid`). That write keeps the listing's version and manifest: recording the
 * chain's state is not a new version of the listing (else the registry's CID would be stale at once).
 */
export async function registerListing(deps: RegistrationDeps, params: RegisterListingParameters): Promise<RegisterListingReturnType> {
  const listing = await syncable(deps, params.id);
  if (listing.owner !== params.caller) {
    throw new ForbiddenError('FORBIDDEN_NOT_OWNER', `Only the owner ${listing.owner} can register dataset ${params.id}`);
  }
  // Gasless for the owner, paid by the platform: within the caller's quota and the relayer budget, or not at all.
  const registered = listing.chainDatasetId;
  const chainDatasetId = await withinRelayQuota(deps, { caller: params.caller }, async () => {
    if (!registered) return deps.registry.relay(listing, params.signed);
    await deps.registry.relayUpdate({ ...listing, chainDatasetId: registered }, params.signed);
    return registered;
  });
  const next: Dataset = { ...listing, chainDatasetId, chainManifestCid: listing.manifestCid };
  await deps.datasets.replace(next, listing.version);
  return next;
}
