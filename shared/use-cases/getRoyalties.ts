import type { DependencyError } from '../errors.js';
import type { DatasetRepo } from '../ports/DatasetRepo.js';
import type { PoolPosition, RoyaltyChain } from '../ports/RoyaltyChain.js';
import type { Dataset } from '../schemas/dataset.js';
import type { RoyaltiesReport, RoyaltyDataset } from '../schemas/royalties.js';

/** What the royalty use cases need. Built once per cold start (functions/_lib/runtime.ts). */
export interface RoyaltyDeps {
  datasets: DatasetRepo;
  /** The LicenseManager's pools: every figure comes from its views. */
  pools: RoyaltyChain;
  chainId: number;
  now(): Date;
}

export interface GetRoyaltiesParameters {
  /** Checksummed recipient address. */
  address: string;
}
export type GetRoyaltiesReturnType = RoyaltiesReport;
export type GetRoyaltiesErrorType = DependencyError;

/**
 * The registered listings whose royalty split names `address` (active and delisted: a delisted dataset's pools
 * still pay). Reads every listing, a page at a time: there is no index by recipient yet (the chain indexer will
 * hold one); the chain's units decide afterwards whether the address is really a recipient.
 */
export async function listingsPaying(datasets: DatasetRepo, address: string): Promise<Dataset[]> {
  const found = new Map<string, Dataset>();
  for (const status of ['active', 'delisted'] as const) {
    let cursor: string | undefined;
    do {
      const page = await datasets.list({ status, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const d of page.items) {
        if (d.chainDatasetId && d.royaltySplit.some((r) => r.recipient === address)) found.set(d.chainDatasetId, d);
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
  return [...found.values()];
}

function row(listing: Dataset & { chainDatasetId: string }, p: PoolPosition): RoyaltyDataset {
  return {
    datasetId: listing.id,
    chainDatasetId: listing.chainDatasetId,
    title: listing.title,
    units: p.units.toString(),
    accrued: (p.claimed + p.claimable).toString(),
    claimed: p.claimed.toString(),
    claimable: p.claimable.toString(),
  };
}

/**
 * A recipient's royalties per dataset and in total, read from the LicenseManager's views at one block
 * (`positionOf`, `claimable`; the registry's `explicitUnits`). Datasets where the chain gives the address no units
 * are left out (a listing's split edited after registration does not change the registry's).
 */
export async function getRoyalties(deps: RoyaltyDeps, params: GetRoyaltiesParameters): Promise<GetRoyaltiesReturnType> {
  const listings = (await listingsPaying(deps.datasets, params.address)) as (Dataset & { chainDatasetId: string })[];
  const blockNumber = (await deps.pools.latestBlock()).number;
  const positions = await deps.pools.positions(params.address, listings.map((l) => BigInt(l.chainDatasetId)), blockNumber);
  const datasets: RoyaltyDataset[] = [];
  const totals = { accrued: 0n, claimed: 0n, claimable: 0n };
  positions.forEach((p, i) => {
    if (p.units === 0n) return;
    datasets.push(row(listings[i] as Dataset & { chainDatasetId: string }, p));
    totals.accrued += p.claimed + p.claimable;
    totals.claimed += p.claimed;
    totals.claimable += p.claimable;
  });
  datasets.sort((a, b) => (BigInt(a.chainDatasetId) < BigInt(b.chainDatasetId) ? -1 : 1));
  return {
    recipient: params.address,
    chainId: deps.chainId,
    blockNumber,
    datasets,
    totals: { accrued: totals.accrued.toString(), claimed: totals.claimed.toString(), claimable: totals.claimable.toString() },
  };
}
