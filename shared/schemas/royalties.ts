/**
 * Royalties of one recipient: what `GET /v1/royalties/{address}` answers, the EIP-712 `Claim` a recipient signs for
 * a gasless claim, and the claim's body and result. Every figure is read from the LicenseManager's views at request
 * time (`claimable`, `positionOf`), never from a ledger of the API's own. Amounts are token base units as decimal
 * strings.
 */
import * as z from 'zod';
import { Address, DatasetId, TokenAmount } from './common.js';
import { ChainDatasetId } from './dataset.js';

/** Path parameters of `/v1/royalties/{address}`. */
export const RecipientParams = z.object({ address: Address });
export type RecipientParams = z.output<typeof RecipientParams>;

/**
 * One job's payments into a dataset's pool, from the chain index's `RoyaltyAccrued` events, and this recipient's
 * share of them (`paidIn × units / totalUnits`, rounded down: the dataset's `accrued`, read from the views, is the
 * exact figure; shares can sum to a few base units less).
 */
export const RoyaltyJob = z.object({
  jobId: z.string(),
  /** The job's cumulative samples of this dataset after its last report. */
  samples: TokenAmount,
  /** Everything the job paid into the pool. */
  paidIn: TokenAmount,
  /** This recipient's share of `paidIn`. */
  share: TokenAmount,
  /** Whether the job is open and funded now (`isJobActive`). */
  running: z.boolean(),
  /**
   * This recipient's royalties per second from this job: its share of the last report's amount over the seconds
   * since the report before it. 0 when the job is not running or has fewer than two reports.
   */
  ratePerSecond: TokenAmount,
  lastReport: z.object({ txHash: z.string(), blockNumber: z.number().int(), at: z.string() }),
});
export type RoyaltyJob = z.output<typeof RoyaltyJob>;

/**
 * One dataset the recipient is paid from.
 *
 * `accrued` = `claimed` + `claimable` (the pool's `floor(units × accPerUnit / 1e18)` for this recipient), read from
 * the views; `jobs` and `ratePerSecond` come from the chain index's events (the contracts settle discrete usage
 * reports: the rate is the last report's payment over the time since the one before, per running job).
 */
export const RoyaltyDataset = z.object({
  /** The listing id. */
  datasetId: DatasetId,
  /** The DatasetRegistry id the pools are keyed by. */
  chainDatasetId: ChainDatasetId,
  title: z.string(),
  /** The recipient's units in the pool (its bps for an explicit split). */
  units: TokenAmount,
  /** The pool's total units (10,000 for an explicit split). */
  totalUnits: TokenAmount,
  /** Royalties this recipient earned in this dataset so far, claimed or not. */
  accrued: TokenAmount,
  /** What it has claimed (`positionOf(dataset, recipient).claimed`). */
  claimed: TokenAmount,
  /** What a claim would pay now (`claimable(dataset, recipient)`; for an unproven Merkle recipient, from its tree units). */
  claimable: TokenAmount,
  /**
   * True for a Merkle recipient whose units the chain does not hold yet: its next claim must carry the proof from
   * `GET /v1/datasets/{id}/split/{address}` (a gasless claim through the API carries it automatically).
   */
  proofRequired: z.boolean().optional(),
  /** This recipient's current royalties per second from the dataset's running jobs. */
  ratePerSecond: TokenAmount,
  jobs: z.array(RoyaltyJob),
});
export type RoyaltyDataset = z.output<typeof RoyaltyDataset>;

/** One line of a recipient's history: an accrual into one of its pools, or one of its claims. */
export const RoyaltyHistoryEntry = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('accrual'),
    datasetId: DatasetId,
    chainDatasetId: ChainDatasetId,
    jobId: z.string(),
    /** What the report paid into the pool. */
    poolAmount: TokenAmount,
    /** This recipient's share of it (rounded down). */
    share: TokenAmount,
    txHash: z.string(),
    blockNumber: z.number().int(),
    at: z.string(),
  }),
  z.object({
    kind: z.literal('claim'),
    /** The total claimed (across the datasets of that call). */
    amount: TokenAmount,
    to: Address,
    txHash: z.string(),
    blockNumber: z.number().int(),
    at: z.string(),
  }),
]);
export type RoyaltyHistoryEntry = z.output<typeof RoyaltyHistoryEntry>;

/** `GET /v1/royalties/{address}`: per dataset and in total, read from the chain at block `blockNumber`. */
export const RoyaltiesReport = z.object({
  recipient: Address,
  chainId: z.number().int(),
  /** The block every figure was read at (one block for all of them). */
  blockNumber: z.number().int().nonnegative(),
  datasets: z.array(RoyaltyDataset),
  totals: z.object({ accrued: TokenAmount, claimed: TokenAmount, claimable: TokenAmount, ratePerSecond: TokenAmount }),
  /**
   * Accruals into the recipient's pools (its share) and its claims, newest first, with their transactions: from
   * the chain index, up to `blockNumber` (the index may lag the views by a few blocks: `indexedThrough` says where).
   */
  history: z.array(RoyaltyHistoryEntry),
  /** The last block the history covers (the chain index's cursor, at most `blockNumber`); absent without an index. */
  indexedThrough: z.number().int().nonnegative().optional(),
});
export type RoyaltiesReport = z.output<typeof RoyaltiesReport>;

/** A dataset reference in a claim request: a listing id (`ds_…`) or a registry id (decimal). */
export const DatasetRef = z.union([DatasetId, ChainDatasetId]);

/**
 * Query of `GET /v1/royalties/{address}/claim-typed-data`: `datasets`, comma-separated listing or registry ids
 * (default: every dataset with something claimable now), and `to`, where the funds go (default: the recipient).
 */
export const ClaimTypedDataQuery = z.object({
  datasets: z
    .string()
    .max(4000)
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(DatasetRef).min(1).max(32))
    .optional()
    .meta({ description: 'Comma-separated listing (ds_…) or registry ids; default: every dataset with something claimable', example: 'ds_0123456789abcdefghjkmnpqrs,7' }),
  to: Address.optional().meta({ description: 'Where the claimed funds go (default: the recipient)' }),
});
export type ClaimTypedDataQuery = z.output<typeof ClaimTypedDataQuery>;

/** The `Claim` message (EIP-712, LicenseManager domain), with uint256 fields as decimal strings. */
export const ClaimMessage = z.object({
  recipient: Address,
  datasetIds: z.array(ChainDatasetId).min(1).max(32),
  to: Address,
  nonce: z.string().regex(/^[0-9]{1,78}$/),
  deadline: z.string().regex(/^[0-9]{1,20}$/),
});
export type ClaimMessage = z.output<typeof ClaimMessage>;

/** `GET /v1/royalties/{address}/claim-typed-data`: what the recipient signs (nonce from `claimNonces`). */
export const ClaimTypedData = z.object({
  domain: z.object({ name: z.string(), version: z.string(), chainId: z.number().int(), verifyingContract: Address }),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.literal('Claim'),
  message: ClaimMessage,
  /** What the listed datasets would pay now (it may grow before the claim mines). */
  claimable: TokenAmount,
});
export type ClaimTypedData = z.output<typeof ClaimTypedData>;

/** Body of `POST /v1/royalties/{address}/claims`: the signed `Claim` (recipient from the path) and its signature. */
export const ClaimBody = z.strictObject({
  datasetIds: z.array(ChainDatasetId).min(1).max(32),
  to: Address,
  nonce: z.string().regex(/^[0-9]{1,78}$/, 'must be the nonce from the typed data'),
  deadline: z.string().regex(/^[0-9]{1,20}$/, 'must be the deadline from the typed data'),
  signature: z
    .string()
    .max(4000)
    .regex(/^0x([0-9a-fA-F]{2})+$/, 'must be 0x-prefixed hex'),
});
export type ClaimBody = z.output<typeof ClaimBody>;

/** A mined claim. A replay of the same signature answers the same result (one transaction). */
export const ClaimResult = z.object({
  recipient: Address,
  to: Address,
  datasetIds: z.array(ChainDatasetId),
  /** What the claim paid in total (its `RoyaltiesClaimed` event). */
  amount: TokenAmount,
  txHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  blockNumber: z.number().int().nonnegative(),
});
export type ClaimResult = z.output<typeof ClaimResult>;

/** Path parameters of `/v1/datasets/{id}/split/{address}`. */
export const SplitShareParams = z.object({ id: DatasetId, address: Address });
export type SplitShareParams = z.output<typeof SplitShareParams>;

/**
 * `GET /v1/datasets/{id}/split/{address}`: one recipient's share of a listing's split. For a Merkle split, its leaf
 * `(account, units)` and the proof a first claim carries (`claimWithProofs` / `claimWithSig`), checked against the
 * root the registry records; for an explicit split, its basis points (no proof needed).
 */
export const SplitShare = z.object({
  datasetId: DatasetId,
  /** The registry id, once registered. */
  chainDatasetId: ChainDatasetId.optional(),
  kind: z.enum(['explicit', 'merkle']),
  account: Address,
  /** The account's units (its bps for an explicit split). */
  units: TokenAmount,
  /** Sibling hashes from the leaf to the root (empty for an explicit split). */
  proof: z.array(z.string().regex(/^0x[0-9a-f]{64}$/)).max(64),
  /** The Merkle root (the registry's, once registered); absent for an explicit split. */
  root: z.string().regex(/^0x[0-9a-f]{64}$/).optional(),
  /** The split's total units (10,000 for an explicit split). */
  totalUnits: TokenAmount,
  /** Whether the chain already stores the account's units (explicit splits always; Merkle after a first proof). */
  proven: z.boolean(),
});
export type SplitShare = z.output<typeof SplitShare>;
