/**
 * Licenses and quotes on the wire: what `GET /v1/licenses`, `GET /v1/licenses/{id}` and
 * `GET /v1/datasets/{id}/quote` answer. Amounts are decimal strings of the payment token's base units; times are
 * ISO-8601 (the chain's block timestamps).
 */
import * as z from 'zod';
import { Address, Bytes32, IsoDate, TokenAmount } from './common.js';
import { AllowedUse, ChainDatasetId } from './dataset.js';

/** A license id (the license NFT's token id) as a decimal string. */
export const LicenseId = z.string().regex(/^[1-9][0-9]{0,77}$/, 'must be a positive integer as a decimal string');

/** A job id as a decimal string. */
export const JobId = LicenseId;

/** `{id}` of `/v1/licenses/{id}`. */
export const LicenseIdParams = z.object({ id: LicenseId });

/** `GET /v1/licenses?holder=&cursor=&limit=`. */
export const LicenseListQuery = z.object({
  holder: Address,
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type LicenseListQuery = z.output<typeof LicenseListQuery>;

/** The terms a license snapshotted for one dataset at purchase (they never change afterwards). */
export const LicenseDatasetTerms = z.object({
  datasetId: ChainDatasetId,
  pricePerSample: TokenAmount,
  totalUnits: TokenAmount,
});
export type LicenseDatasetTerms = z.output<typeof LicenseDatasetTerms>;

/** Where on the chain the purchase was seen. */
export const ChainPosition = z.object({
  blockNumber: z.number().int().min(0),
  blockHash: Bytes32,
  txHash: Bytes32,
});

/** A license as the indexer recorded it from `LicensePurchased` (and its jobs from `JobOpened`). */
export const LicenseSummary = z.object({
  id: LicenseId,
  /** The buyer (the holder at purchase; the NFT is non-transferable unless the admin enables transfers). */
  holder: Address,
  datasets: z.array(LicenseDatasetTerms),
  budget: TokenAmount,
  expiry: IsoDate,
  purchasedAt: IsoDate,
  jobs: z.array(JobId),
  purchase: ChainPosition,
});
export type LicenseSummary = z.output<typeof LicenseSummary>;

/** One page of a holder's licenses, newest first. */
export const LicensePage = z.object({ items: z.array(LicenseSummary), nextCursor: z.string().optional() });
export type LicensePage = z.output<typeof LicensePage>;

/** A job drawing on a license, its figures read from `getJob` at request time. */
export const LicenseJob = z.object({
  id: JobId,
  budget: TokenAmount,
  spent: TokenAmount,
  maxRatePerSecond: TokenAmount,
  startedAt: IsoDate,
  endedAt: IsoDate.optional(),
  refunded: z.boolean(),
  finalized: z.boolean(),
});
export type LicenseJob = z.output<typeof LicenseJob>;

/**
 * `GET /v1/licenses/{id}`. Terms as snapshotted; every money figure read from the LicenseManager's views when
 * the request is served (never from a ledger that could disagree with the chain):
 * `allocated = budget - unallocated`; `spent` = the jobs' spent sum; `remaining` = what the escrow still holds for
 * the license (unallocated plus the unspent budget of jobs not refunded).
 */
export const LicenseDetail = LicenseSummary.omit({ jobs: true }).extend({
  /** The license NFT's owner now. */
  holder: Address,
  active: z.boolean(),
  unallocated: TokenAmount,
  allocated: TokenAmount,
  spent: TokenAmount,
  remaining: TokenAmount,
  jobs: z.array(LicenseJob),
});
export type LicenseDetail = z.output<typeof LicenseDetail>;

/** `GET /v1/datasets/{id}/quote?samples=N`. */
export const QuoteQuery = z.object({ samples: TokenAmount.default('1') });

/** What N samples of a registered dataset cost now, at the registry's current price. */
export const Quote = z.object({
  datasetId: z.string(),
  chainDatasetId: ChainDatasetId,
  /** The registry's version of the dataset (bumped by each price or manifest change). */
  version: z.number().int().min(1),
  listed: z.boolean(),
  paymentToken: Address,
  pricePerSample: TokenAmount,
  samples: TokenAmount,
  cost: TokenAmount,
  allowedUses: z.array(AllowedUse),
  expiryOptionsDays: z.array(z.number().int()),
  quotedAt: IsoDate,
});
export type Quote = z.output<typeof Quote>;
