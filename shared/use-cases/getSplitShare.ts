import { verifyRoyaltyProof } from '../domain/royaltyTree.js';
import { ConflictError, NotFoundError, ProvenaError, type DependencyError } from '../errors.js';
import type { ContentStore } from '../ports/ContentStore.js';
import type { DatasetRepo } from '../ports/DatasetRepo.js';
import type { RoyaltyChain } from '../ports/RoyaltyChain.js';
import type { Dataset } from '../schemas/dataset.js';
import type { SplitShare } from '../schemas/royalties.js';
import { getListing } from './getListing.js';
import { loadMerkleSplit } from './merkleSplit.js';

/** What the split route needs: the listings, the content store holding tree dumps, and the chain's pools. */
export interface SplitShareDeps {
  datasets: DatasetRepo;
  content: ContentStore;
  pools: RoyaltyChain;
}

export interface GetSplitShareParameters {
  /** The listing id. */
  id: string;
  /** Checksummed account. */
  address: string;
}
export type GetSplitShareReturnType = SplitShare;
/** `DATASET_NOT_FOUND`, `SPLIT_ACCOUNT_NOT_FOUND`, `SPLIT_ROOT_MISMATCH`, `SPLIT_TREE_INVALID`, `CHAIN_UNAVAILABLE`. */
export type GetSplitShareErrorType = NotFoundError | ConflictError | DependencyError;

/**
 * One account's share of a listing's split. A Merkle split's leaf and proof come from the tree dump stored beside
 * the manifest (rehashed on load); once the listing is registered, the proof is verified against the registry's
 * root before it is served, and a dump whose root is not the registered one is refused (`SPLIT_ROOT_MISMATCH`):
 * a proof the contract would reject is never handed out.
 */
export async function getSplitShare(deps: SplitShareDeps, params: GetSplitShareParameters): Promise<GetSplitShareReturnType> {
  const listing = await getListing(deps, { id: params.id });
  const registered = listing.chainDatasetId ? { chainDatasetId: listing.chainDatasetId } : {};
  if (!listing.merkleSplit) return explicitShare(listing, params.address);

  const tree = await loadMerkleSplit(deps.content, listing.merkleSplit);
  const units = tree.unitsOf(params.address);
  if (units === 0n) throw new NotFoundError('SPLIT_ACCOUNT_NOT_FOUND', `${params.address} is not in the Merkle split of dataset ${listing.id}`);
  const proof = tree.proof(params.address);
  let proven = false;
  if (listing.chainDatasetId) {
    const id = BigInt(listing.chainDatasetId);
    const head = await deps.pools.latestBlock();
    const [onChain] = await deps.pools.registrySplits([id], head.number);
    if (!onChain || onChain.merkleRoot.toLowerCase() !== tree.root.toLowerCase() || onChain.totalUnits !== tree.totalUnits) {
      throw new ConflictError('SPLIT_ROOT_MISMATCH', `The stored split of dataset ${listing.id} (root ${tree.root}) is not the one the registry records (${onChain?.merkleRoot ?? 'none'})`);
    }
    const [position] = await deps.pools.positions(params.address, [id], head.number);
    proven = (position?.units ?? 0n) !== 0n;
  }
  if (!verifyRoyaltyProof(tree.root, params.address, units, proof)) {
    throw new ProvenaError('SPLIT_TREE_INVALID', `The stored split of dataset ${listing.id} gives ${params.address} a proof that does not verify`);
  }
  return { datasetId: listing.id, ...registered, kind: 'merkle', account: params.address, units: units.toString(), proof, root: tree.root, totalUnits: tree.totalUnits.toString(), proven };
}

function explicitShare(listing: Dataset, address: string): SplitShare {
  const share = listing.royaltySplit.find((r) => r.recipient === address);
  if (!share) throw new NotFoundError('SPLIT_ACCOUNT_NOT_FOUND', `${address} is not in the split of dataset ${listing.id}`);
  return {
    datasetId: listing.id,
    ...(listing.chainDatasetId ? { chainDatasetId: listing.chainDatasetId } : {}),
    kind: 'explicit',
    account: address,
    units: String(share.bps),
    proof: [],
    totalUnits: '10000',
    proven: true,
  };
}
