/**
 * Where the indexer keeps its state: the cursor (the last indexed block, its hash, recent checkpoints) and the
 * projections that turn events into records. Adapters: `shared/adapters/aws/DynamoChainIndex.ts`.
 */
import type { LicenseSummary } from '../schemas/license.js';
import type { HealthCheck } from './Health.js';
import type { IndexedEvent } from './ChainEventSource.js';

/** A block the indexer saw, kept so that a reorg's fork point can be found. */
export interface Checkpoint {
  number: number;
  hash: string;
}

/** The indexer's position. `version` guards each write (one conditional put: two ticks cannot both advance). */
export interface IndexCursor {
  /** The last block whose events are recorded. */
  block: number;
  hash: string;
  /** That block's timestamp (unix seconds). */
  timestamp: number;
  version: number;
  /** Recent indexed blocks, oldest first (bounded). */
  checkpoints: Checkpoint[];
}

/** The cursor's store. */
export interface IndexCursorStore extends HealthCheck {
  get(name: string): Promise<IndexCursor | undefined>;
  /** Writes `next` if the stored cursor is still at `expectedVersion` (0: none stored); false otherwise. */
  put(name: string, next: IndexCursor, expectedVersion: number): Promise<boolean>;
}

/**
 * Records derived from events. `apply` is idempotent per (blockHash, logIndex): applying the same event twice
 * changes nothing, and an event claiming a record another log already wrote throws `INDEXER_CONFLICT`.
 */
export interface IndexProjection {
  apply(events: readonly IndexedEvent[]): Promise<void>;
  /** Deletes every record written by events of blocks above `blockNumber`; returns how many. */
  rollbackAbove(blockNumber: number): Promise<number>;
}

/** A license as indexed (its summary) with the position of its purchase. */
export type IndexedLicense = LicenseSummary;

/** The licenses projection and its reads. */
export interface LicenseIndex extends IndexProjection, HealthCheck {
  get(licenseId: string): Promise<IndexedLicense | undefined>;
  /** A holder's licenses, newest first; `cursor` is opaque (from the previous page). */
  listByHolder(holder: string, page: { limit: number; cursor?: string }): Promise<{ items: IndexedLicense[]; nextCursor?: string }>;
}

/** A `RoyaltyAccrued` event as indexed: where it mined and what it paid into the pool. */
export interface IndexedAccrual {
  datasetId: string;
  jobId: string;
  cumulativeSamples: string;
  amount: string;
  txHash: string;
  blockNumber: number;
  logIndex: number;
  /** Unix seconds. */
  timestamp: number;
}

/** A `RoyaltiesClaimed` event as indexed. */
export interface IndexedClaim {
  recipient: string;
  to: string;
  amount: string;
  txHash: string;
  blockNumber: number;
  logIndex: number;
  timestamp: number;
}

/**
 * The royalty projection: accruals per dataset and claims per recipient, one record per (blockHash, logIndex),
 * rolled back with the blocks that wrote them. Reads answer oldest first.
 */
export interface RoyaltyIndex extends IndexProjection {
  accrualsOf(datasetId: string): Promise<IndexedAccrual[]>;
  claimsOf(recipient: string): Promise<IndexedClaim[]>;
}
