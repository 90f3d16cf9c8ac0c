/**
 * The DynamoDB table layouts: the one definition that the adapters (and the embedded stack's CreateTable calls,
 * `tables.ts`) and the CDK construct (`infra/lib/constructs/DataTables.ts`) both read. Plain data, no SDK.
 */

/** A global secondary index: string partition and sort keys, all attributes projected. */
export interface IndexLayout {
  readonly name: string;
  readonly pk: string;
  readonly sk: string;
  /** The sort key's type. @default 'S' */
  readonly skType?: 'S' | 'N';
}

/** One table's keys, indexes and TTL attribute. */
export interface TableLayout {
  /** String partition key. */
  readonly pk: string;
  readonly indexes: readonly IndexLayout[];
  /** Attribute holding an expiry (unix seconds) that DynamoDB TTL deletes by; readers also filter on it. */
  readonly ttl?: string;
  /**
   * `data`: losing it loses users' state (deletion protection and RETAIN outside dev);
   * `replay`: short-lived records whose loss would reopen replay windows (RETAIN outside dev too).
   */
  readonly kind: 'data' | 'replay';
  readonly summary: string;
}

/** Indexes of the datasets table. `createdAtId` = ISO createdAt + '#' + id: time order, unique for cursors. */
export const DATASET_INDEXES = {
  byStatus: { name: 'byStatus', pk: 'status', sk: 'createdAtId' },
  byOwner: { name: 'byOwner', pk: 'owner', sk: 'createdAtId' },
} as const satisfies Record<string, IndexLayout>;

/**
 * Indexes of the upload sessions: sparse, only open sessions carry `openOwner` (completing removes it), so an
 * owner's uploads in progress are one query. `createdAtId` = ISO createdAt + '#' + uploadId.
 */
export const UPLOAD_INDEXES = {
  openByOwner: { name: 'openByOwner', pk: 'openOwner', sk: 'createdAtId' },
} as const satisfies Record<string, IndexLayout>;

/** Indexes of the relayer's journal: sparse, only calls not yet mined carry `pendingRelayer`. */
export const RELAY_JOURNAL_INDEXES = {
  pendingByNonce: { name: 'pendingByNonce', pk: 'pendingRelayer', sk: 'nonce', skType: 'N' },
} as const satisfies Record<string, IndexLayout>;

/**
 * Indexes of the chain index (licenses and jobs as the indexer recorded them). `licenseKey`/`jobKey` are the ids
 * zero-padded to 78 digits (string order = numeric order); `byBlock` (constant `chainPart`) finds what a reorg
 * rolls back: every record carries the block number of the event that wrote it.
 */
export const CHAIN_INDEX_INDEXES = {
  byHolder: { name: 'byHolder', pk: 'holder', sk: 'licenseKey' },
  byLicense: { name: 'byLicense', pk: 'jobLicense', sk: 'jobKey' },
  byBlock: { name: 'byBlock', pk: 'chainPart', sk: 'blockNumber', skType: 'N' },
} as const satisfies Record<string, IndexLayout>;

/**
 * Indexes of the jobs table: a holder's jobs newest first (`submittedKey` = ISO submit time + job id), and jobs by
 * status (`statusPart` = status, `updatedAt`) for the queue's repair sweep and the console.
 */
export const JOB_INDEXES = {
  byHolder: { name: 'byHolder', pk: 'holder', sk: 'submittedKey' },
  byStatus: { name: 'byStatus', pk: 'status', sk: 'updatedAt' },
} as const satisfies Record<string, IndexLayout>;

/** Every table, by logical name. Its physical name comes from configuration (`PROVENA_TABLE_<NAME>`). */
export const TABLES = {
  datasets: { pk: 'id', indexes: [DATASET_INDEXES.byStatus, DATASET_INDEXES.byOwner], kind: 'data', summary: 'listings, one item per listing (latest version)' },
  nonces: { pk: 'pk', indexes: [], ttl: 'expiresAt', kind: 'replay', summary: 'single-use nonces of signed requests and key requests, and worker attestation nonces (`attestation#` keys)' },
  uploads: { pk: 'uploadId', indexes: [UPLOAD_INDEXES.openByOwner], kind: 'data', summary: 'encrypted upload sessions: S3 multipart upload to dataset and data version' },
  relayJournal: { pk: 'id', indexes: [RELAY_JOURNAL_INDEXES.pendingByNonce], kind: 'data', summary: "the relayer's journal: each relayed call, its signed transactions and state, by idempotency key" },
  licenses: { pk: 'rid', indexes: [CHAIN_INDEX_INDEXES.byHolder, CHAIN_INDEX_INDEXES.byLicense, CHAIN_INDEX_INDEXES.byBlock], kind: 'data', summary: 'the chain index: licenses and their jobs from LicenseManager events (rebuildable from the chain)' },
  indexer: { pk: 'name', indexes: [], kind: 'data', summary: "the chain indexer's cursors: last indexed block, its hash, recent checkpoints" },
  jobs: { pk: 'jobId', indexes: [JOB_INDEXES.byHolder, JOB_INDEXES.byStatus], kind: 'data', summary: 'training jobs: recipe, model key, lease and fencing token, committed checkpoints, relayed reports, metrics, receipt' },
  relayQuota: { pk: 'quotaKey', indexes: [], ttl: 'expiresAt', kind: 'replay', summary: "relayed-call counters: each address's sliding window and each period's relayer budget spent (losing them reopens the limits)" },
} as const satisfies Record<string, TableLayout>;

/** A logical table name. */
export type TableName = keyof typeof TABLES;
