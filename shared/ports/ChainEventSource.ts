/**
 * The chain as the indexer reads it: block headers and the contracts' decoded events, plain data (no library
 * types). Adapter: `shared/adapters/chain/EvmChainEventSource.ts`.
 */

/** A block header the indexer needs: number, hash and timestamp (unix seconds). */
export interface ChainBlock {
  number: number;
  hash: string;
  timestamp: number;
}

/** Where a log sits: (blockHash, logIndex) identifies it across reorgs; a reorged log gets another block hash. */
export interface LogPosition {
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
}

/** `LicensePurchased`, with the terms the license snapshotted (read from `termsOf` at the event's block). */
export interface LicensePurchasedEvent extends LogPosition {
  kind: 'LicensePurchased';
  licenseId: string;
  lab: string;
  budget: string;
  /** Unix seconds. */
  expiry: number;
  /** The block's timestamp (unix seconds). */
  timestamp: number;
  terms: { datasetId: string; pricePerSample: string; totalUnits: string }[];
}

/** `JobOpened`. */
export interface JobOpenedEvent extends LogPosition {
  kind: 'JobOpened';
  jobId: string;
  licenseId: string;
  budget: string;
  maxRatePerSecond: string;
}

/** `RoyaltyAccrued`: a report paid `amount` into `datasetId`'s pool for `jobId` (its new cumulative samples). */
export interface RoyaltyAccruedEvent extends LogPosition {
  kind: 'RoyaltyAccrued';
  datasetId: string;
  jobId: string;
  cumulativeSamples: string;
  amount: string;
  /** The block's timestamp (unix seconds). */
  timestamp: number;
}

/** `RoyaltiesClaimed`: `recipient` claimed `amount` in total (across the datasets of its call), sent to `to`. */
export interface RoyaltiesClaimedEvent extends LogPosition {
  kind: 'RoyaltiesClaimed';
  recipient: string;
  to: string;
  amount: string;
  timestamp: number;
}

/** Every event the indexer follows (a new projection adds its kinds here and in the adapter). */
export type IndexedEvent = LicensePurchasedEvent | JobOpenedEvent | RoyaltyAccruedEvent | RoyaltiesClaimedEvent;

/** Reads headers and events; `undefined` for a block the chain does not have (beyond its head, or reorged away). */
export interface ChainEventSource {
  head(): Promise<ChainBlock>;
  block(number: number): Promise<ChainBlock | undefined>;
  /** The followed contracts' events in blocks `from..to` (inclusive), in chain order. */
  events(from: number, to: number): Promise<IndexedEvent[]>;
}
