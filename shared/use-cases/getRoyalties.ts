import type { DependencyError } from '../errors.js';
import type { DatasetRepo } from '../ports/DatasetRepo.js';
import type { ContentStore } from '../ports/ContentStore.js';
import type { PoolPosition, RoyaltyChain, UnitsProof } from '../ports/RoyaltyChain.js';
import type { Dataset } from '../schemas/dataset.js';
import type { IndexedAccrual, RoyaltyIndex } from '../ports/ChainIndex.js';
import { loadMerkleSplit } from './merkleSplit.js';
import type { RoyaltiesReport, RoyaltyDataset, RoyaltyHistoryEntry, RoyaltyJob } from '../schemas/royalties.js';

/** What the royalty use cases need. Built once per cold start (functions/_lib/runtime.ts). */
export interface RoyaltyDeps {
  datasets: DatasetRepo;
  /** The content store holding Merkle splits' tree dumps (beside the manifests). */
  content: ContentStore;
  /** The LicenseManager's pools: every figure comes from its views. */
  pools: RoyaltyChain;
  /** The chain index's accruals and claims (jobs, rates, history); without it those come back empty. */
  history?: RoyaltyIndex;
  /** The last block the chain index covers (its cursor). */
  indexedThrough?(): Promise<number>;
  chainId: number;
  now(): Date;
}

export interface GetRoyaltiesParameters {
  /** Checksummed recipient address. */
  address: string;
}
export type GetRoyaltiesReturnType = RoyaltiesReport;
export type GetRoyaltiesErrorType = DependencyError;

/** A registered listing that names an address, and the address's Merkle leaf when the listing has a Merkle split. */
export interface PayingListing {
  listing: Dataset & { chainDatasetId: string };
  leaf?: { units: bigint; proof: string[] };
}

/**
 * The registered listings whose royalty split names `address` (active and delisted: a delisted dataset's pools
 * still pay): its explicit split, or its Merkle tree (read from the stored dump, cached by CID). Reads every
 * listing, a page at a time: there is no index by recipient yet (the chain indexer will hold one); the chain's units
 * decide afterwards whether the address is really a recipient.
 */
export async function listingsPaying(deps: Pick<RoyaltyDeps, 'datasets' | 'content'>, address: string): Promise<PayingListing[]> {
  const found = new Map<string, PayingListing>();
  for (const status of ['active', 'delisted'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.datasets.list({ status, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const d of page.items) {
        if (!d.chainDatasetId) continue;
        const listing = d as Dataset & { chainDatasetId: string };
        if (d.merkleSplit) {
          const tree = await loadMerkleSplit(deps.content, d.merkleSplit);
          const units = tree.unitsOf(address);
          if (units !== 0n) found.set(d.chainDatasetId, { listing, leaf: { units, proof: tree.proof(address) } });
        } else if (d.royaltySplit.some((r) => r.recipient === address)) {
          found.set(d.chainDatasetId, { listing });
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
  return [...found.values()];
}

/**
 * `address`'s positions in `datasetIds` at `blockNumber`, Merkle recipients not yet proven counted from their tree
 * units, and the proofs a claim of these datasets must carry (one per unproven Merkle position).
 */
export async function positionsWithLeaves(
  deps: Pick<RoyaltyDeps, 'datasets' | 'content' | 'pools'>,
  address: string,
  datasetIds: readonly bigint[],
  blockNumber: number,
): Promise<{ positions: PoolPosition[]; proofs: UnitsProof[] }> {
  const merkle = (await listingsPaying(deps, address)).filter((p) => p.leaf);
  const leaves = new Map(merkle.map((p) => [p.listing.chainDatasetId, p.leaf as NonNullable<PayingListing['leaf']>]));
  const positions = await deps.pools.positions(address, datasetIds, blockNumber, datasetIds.map((id) => leaves.get(id.toString())?.units));
  const proofs = positions.filter((p) => p.unproven).map((p) => ({ datasetId: p.datasetId, ...(leaves.get(p.datasetId.toString()) as NonNullable<PayingListing['leaf']>) }));
  return { positions, proofs };
}

const mulDiv = (a: bigint, b: bigint, c: bigint): bigint => (c === 0n ? 0n : (a * b) / c);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** One job's accruals into one pool, in chain order. */
function jobRows(accruals: readonly IndexedAccrual[], share: (amount: bigint) => bigint, running: ReadonlyMap<string, boolean>): RoyaltyJob[] {
  const byJob = new Map<string, IndexedAccrual[]>();
  for (const a of accruals) byJob.set(a.jobId, [...(byJob.get(a.jobId) ?? []), a]);
  return [...byJob.entries()]
    .map(([jobId, list]) => {
      const last = list[list.length - 1] as IndexedAccrual;
      const prev = list[list.length - 2];
      const live = running.get(jobId) === true;
      const seconds = prev ? last.timestamp - prev.timestamp : 0;
      const rate = live && seconds > 0 ? share(BigInt(last.amount)) / BigInt(seconds) : 0n;
      const paidIn = list.reduce((sum, a) => sum + BigInt(a.amount), 0n);
      return {
        jobId,
        samples: last.cumulativeSamples,
        paidIn: paidIn.toString(),
        share: share(paidIn).toString(),
        running: live,
        ratePerSecond: rate.toString(),
        lastReport: { txHash: last.txHash, blockNumber: last.blockNumber, at: iso(last.timestamp) },
      };
    })
    .sort((a, b) => (BigInt(a.jobId) < BigInt(b.jobId) ? -1 : 1));
}

/** The index's accruals of each listing at or below `blockNumber`, and whether each of their jobs runs now. */
async function indexed(deps: RoyaltyDeps, ids: readonly bigint[], blockNumber: number): Promise<{ accruals: IndexedAccrual[][]; running: Map<string, boolean> }> {
  if (!deps.history) return { accruals: ids.map(() => []), running: new Map() };
  const history = deps.history;
  const accruals = (await Promise.all(ids.map((id) => history.accrualsOf(id.toString())))).map((list) => list.filter((a) => a.blockNumber <= blockNumber));
  const jobIds = [...new Set(accruals.flat().map((a) => a.jobId))];
  const states = await deps.pools.activeJobs(jobIds.map(BigInt), blockNumber);
  return { accruals, running: new Map(jobIds.map((j, i) => [j, states[i] === true])) };
}

/**
 * A recipient's royalties per dataset and job and in total: accrued, claimed and claimable read from the
 * LicenseManager's views at one block (`positionOf`, `claimable`, `getPool`; the registry's `explicitUnits`), and,
 * from the chain index, each job's payments, the current rate of the running ones, and the history of accruals and
 * claims with their transactions. Datasets where the chain gives the address no units are left out (a listing's
 * split edited after registration does not change the registry's).
 */
export async function getRoyalties(deps: RoyaltyDeps, params: GetRoyaltiesParameters): Promise<GetRoyaltiesReturnType> {
  const all = await listingsPaying(deps, params.address);
  const blockNumber = (await deps.pools.latestBlock()).number;
  const allIds = all.map((l) => BigInt(l.listing.chainDatasetId));
  const positions = await deps.pools.positions(params.address, allIds, blockNumber, all.map((l) => l.leaf?.units));
  const paying = all.map(({ listing }, i) => ({ listing, position: positions[i] as PoolPosition })).filter((x) => x.position.units !== 0n);
  paying.sort((a, b) => (a.position.datasetId < b.position.datasetId ? -1 : 1));
  const ids = paying.map((x) => x.position.datasetId);
  const [pools, { accruals, running }] = await Promise.all([deps.pools.pools(ids, blockNumber), indexed(deps, ids, blockNumber)]);

  const datasets: RoyaltyDataset[] = [];
  const history: RoyaltyHistoryEntry[] = [];
  const totals = { accrued: 0n, claimed: 0n, claimable: 0n, ratePerSecond: 0n };
  paying.forEach(({ listing, position: p }, i) => {
    const totalUnits = pools[i]?.totalUnits ?? 0n;
    const share = (amount: bigint) => mulDiv(amount, p.units, totalUnits);
    const jobs = jobRows(accruals[i] ?? [], share, running);
    const rate = jobs.reduce((sum, j) => sum + BigInt(j.ratePerSecond), 0n);
    datasets.push({
      datasetId: listing.id,
      chainDatasetId: listing.chainDatasetId,
      title: listing.title,
      units: p.units.toString(),
      totalUnits: totalUnits.toString(),
      accrued: (p.claimed + p.claimable).toString(),
      claimed: p.claimed.toString(),
      claimable: p.claimable.toString(),
      ...(p.unproven ? { proofRequired: true } : {}),
      ratePerSecond: rate.toString(),
      jobs,
    });
    for (const a of accruals[i] ?? []) {
      history.push({ kind: 'accrual', datasetId: listing.id, chainDatasetId: listing.chainDatasetId, jobId: a.jobId, poolAmount: a.amount, share: share(BigInt(a.amount)).toString(), txHash: a.txHash, blockNumber: a.blockNumber, at: iso(a.timestamp) });
    }
    totals.accrued += p.claimed + p.claimable;
    totals.claimed += p.claimed;
    totals.claimable += p.claimable;
    totals.ratePerSecond += rate;
  });
  const claims = deps.history ? (await deps.history.claimsOf(params.address)).filter((c) => c.blockNumber <= blockNumber) : [];
  for (const c of claims) history.push({ kind: 'claim', amount: c.amount, to: c.to, txHash: c.txHash, blockNumber: c.blockNumber, at: iso(c.timestamp) });
  const position = (e: RoyaltyHistoryEntry) => e.blockNumber;
  history.sort((a, b) => position(b) - position(a));
  const indexedThrough = deps.indexedThrough ? Math.min(await deps.indexedThrough(), blockNumber) : undefined;
  return {
    recipient: params.address,
    chainId: deps.chainId,
    blockNumber,
    datasets,
    totals: { accrued: totals.accrued.toString(), claimed: totals.claimed.toString(), claimable: totals.claimable.toString(), ratePerSecond: totals.ratePerSecond.toString() },
    history,
    ...(indexedThrough === undefined ? {} : { indexedThrough }),
  };
}
