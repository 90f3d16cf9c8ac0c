import type { Dataset, DatasetListQuery, DatasetPage } from '../schemas/dataset.js';
import type { HealthCheck } from './Health.js';

/** A stored listing with the bookkeeping the API needs but never returns. */
export interface StoredDataset {
  dataset: Dataset;
  /** sha256 of the create request that made it, when it was made with an Idempotency-Key. */
  idempotencyHash?: string;
  /** Epsilon spent and reserved by jobs over a listing with a privacy policy (the PrivacyLedger port). */
  privacyLedger?: { epsilonSpent: number; epsilonReserved: number };
}

/**
 * Listings storage. Every write is a single conditional write, so a failed or raced request changes nothing.
 * Adapter: `DynamoDatasetRepo` (AWS DynamoDB and the embedded dynalite alike).
 */
export interface DatasetRepo extends HealthCheck {
  get(id: string): Promise<StoredDataset | undefined>;
  /** Inserts a new listing; throws `CONFLICT` when the id exists. */
  create(dataset: Dataset, options?: { idempotencyHash?: string }): Promise<void>;
  /** Replaces a listing only if its stored version is `expectedVersion`; throws `VERSION_CONFLICT` otherwise. */
  replace(dataset: Dataset, expectedVersion: number): Promise<void>;
  /** Filters and pages. The cursor is opaque to callers. */
  list(query: DatasetListQuery): Promise<DatasetPage>;
}
