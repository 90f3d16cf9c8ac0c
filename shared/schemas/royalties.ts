/**
 * Royalties of one recipient: what `GET /v1/royalties/{address}` answers, the EIP-712 `Claim` a recipient signs for
 * a gasless claim, and the claim's body and result. Every figure is read from the LicenseManager's views at request
 * time (`claimable`, `positionOf`), never from a ledger of the API's own. Amounts are token base units as decimal
 * strings.
 */
import { z } from 'zod';
import { Address, DatasetId, TokenAmount } from './common.js';
import { ChainDatasetId } from './dataset.js';

/** Path parameters of `/v1/royalties/{address}`. */
export const RecipientParams = z.object({ address: Address });
export type RecipientParams = z.output<typeof RecipientParams>;

/**
 * One dataset the recipient is paid from.
 *
 * `accrued` = `claimed` + `claimable` (the pool's `floor(units × accPerUnit / 1e18)` for this recipient).
 *
 * No streaming rate is given: the contracts settle discrete usage reports into the pool (there is no per-second
 * stream on chain), and no view lists a dataset's running jobs or their rates (`maxRatePerSecond` is a job's cap
 * over all of its datasets, not a rate). The rate needs the chain indexer's record of jobs and reports.
 */
export const RoyaltyDataset = z.object({
  /** The listing id. */
  datasetId: DatasetId,
  /** The DatasetRegistry id the pools are keyed by. */
  chainDatasetId: ChainDatasetId,
  title: z.string(),
  /** The recipient's units in the pool (its bps for an explicit split). */
  units: TokenAmount,
  /** Royalties this recipient earned in this dataset so far, claimed or not. */
  accrued: TokenAmount,
  /** What it has claimed (`positionOf(dataset, recipient).claimed`). */
  claimed: TokenAmount,
  /** What a claim would pay now (`claimable(dataset, recipient)`). */
  claimable: TokenAmount,
});
export type RoyaltyDataset = z.output<typeof RoyaltyDataset>;

/** `GET /v1/royalties/{address}`: per dataset and in total, read from the chain at block `blockNumber`. */
export const RoyaltiesReport = z.object({
  recipient: Address,
  chainId: z.number().int(),
  /** The block every figure was read at (one block for all of them). */
  blockNumber: z.number().int().nonnegative(),
  datasets: z.array(RoyaltyDataset),
  totals: z.object({ accrued: TokenAmount, claimed: TokenAmount, claimable: TokenAmount }),
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
