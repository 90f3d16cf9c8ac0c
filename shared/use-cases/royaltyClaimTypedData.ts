import { CLAIM_TYPES } from '../eip712.js';
import { ConflictError, ForbiddenError, type DependencyError, type NotFoundError } from '../errors.js';
import type { ClaimTypedData, ClaimTypedDataQuery } from '../schemas/royalties.js';
import { getListing } from './getListing.js';
import { getRoyalties, positionsWithLeaves, type RoyaltyDeps } from './getRoyalties.js';

/** How long a claim's typed data stays valid (its `deadline`). */
export const CLAIM_TTL_SECONDS = 3600;

export interface RoyaltyClaimTypedDataParameters extends ClaimTypedDataQuery {
  /** Checksummed recipient address. */
  address: string;
}
export type RoyaltyClaimTypedDataReturnType = ClaimTypedData;
export type RoyaltyClaimTypedDataErrorType = NotFoundError | ForbiddenError | ConflictError | DependencyError;

/** Registry ids of `refs` (listing ids are looked up; they must be registered). */
async function chainIds(deps: RoyaltyDeps, refs: readonly string[]): Promise<bigint[]> {
  const ids = await Promise.all(
    refs.map(async (ref) => {
      if (!ref.startsWith('ds_')) return BigInt(ref);
      const listing = await getListing(deps, { id: ref });
      if (!listing.chainDatasetId) throw new ConflictError('DATASET_NOT_REGISTERED', `Dataset ${ref} is not on the registry: it has no pool`);
      return BigInt(listing.chainDatasetId);
    }),
  );
  return [...new Set(ids)];
}

/**
 * The EIP-712 `Claim` the recipient signs for a gasless claim of `datasets` (default: every dataset with something
 * claimable now) paid to `to` (default: the recipient), with its current nonce (`claimNonces`) and a deadline
 * {@link CLAIM_TTL_SECONDS} ahead. Refuses datasets the chain gives the address no units in
 * (`ROYALTY_NOT_RECIPIENT`) and a claim that would pay nothing (`ROYALTY_NOTHING_TO_CLAIM`).
 */
export async function royaltyClaimTypedData(deps: RoyaltyDeps, params: RoyaltyClaimTypedDataParameters): Promise<RoyaltyClaimTypedDataReturnType> {
  let datasetIds: bigint[];
  if (params.datasets) {
    datasetIds = await chainIds(deps, params.datasets);
  } else {
    const report = await getRoyalties(deps, { address: params.address });
    datasetIds = report.datasets.filter((d) => d.claimable !== '0').map((d) => BigInt(d.chainDatasetId));
    if (datasetIds.length === 0) throw new ConflictError('ROYALTY_NOTHING_TO_CLAIM', `${params.address} has nothing to claim now`);
  }
  const head = await deps.pools.latestBlock();
  const { positions } = await positionsWithLeaves(deps, params.address, datasetIds, head.number);
  const stranger = positions.find((p) => p.units === 0n);
  if (stranger) throw new ForbiddenError('ROYALTY_NOT_RECIPIENT', `${params.address} is not a recipient of registry dataset ${stranger.datasetId}`);
  const claimable = positions.reduce((s, p) => s + p.claimable, 0n);
  if (claimable === 0n) throw new ConflictError('ROYALTY_NOTHING_TO_CLAIM', `${params.address} has nothing to claim now in these datasets`);
  const nonce = await deps.pools.claimNonce(params.address, head.number);
  return {
    domain: deps.pools.claimDomain(),
    types: { Claim: [...CLAIM_TYPES.Claim] },
    primaryType: 'Claim',
    message: {
      recipient: params.address,
      datasetIds: datasetIds.map(String),
      to: params.to ?? params.address,
      nonce: nonce.toString(),
      // The chain's clock decides expiry; it may run ahead of ours (a dev chain whose time was advanced).
      deadline: String(Math.max(head.timestamp, Math.floor(deps.now().getTime() / 1000)) + CLAIM_TTL_SECONDS),
    },
    claimable: claimable.toString(),
  };
}
