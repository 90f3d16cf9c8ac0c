import { createHash } from 'node:crypto';
import { ConflictError, hasCode, type AuthError, type DependencyError, type ValidationError } from '../errors.js';
import type { Dataset, DatasetInput } from '../schemas/dataset.js';
import { datasetId, type ListingDeps } from './deps.js';
import { writeListingManifest } from './manifest.js';
import { storeMerkleSplit } from './merkleSplit.js';

export interface CreateListingParameters {
  /** The authenticated caller; becomes the owner. */
  owner: string;
  input: DatasetInput;
  /**
   * Client-chosen key that makes retries safe: the same owner and key always map to the same dataset id, so a
   * retried create returns the first result (version 1 as created, even after later updates) instead of listing
   * twice.
   */
  idempotencyKey?: string;
}

export interface CreateListingReturnType {
  dataset: Dataset;
  /** True when this call replayed an earlier create with the same idempotency key. */
  replayed: boolean;
}

export type CreateListingErrorType = ValidationError | ConflictError | DependencyError | AuthError;

/**
 * Lists a dataset: writes version 1's manifest to IPFS, then the listing, in one conditional write. A Merkle split
 * (`merkleShares`) is built into a tree whose dump is stored on IPFS first; the listing records its root, total
 * units and CID (content addressing keeps a retry's listing identical). A retry with the same idempotency key is
 * told apart by that write's condition and answered from the stored listing; the manifest it wrote before (a small
 * content-addressed block, its own creation time in it) stays unreferenced.
 *
 * @example
 * ```ts
 * const { dataset } = await createListing(deps, { owner: caller.address, input, idempotencyKey });
 * ```
 */
export async function createListing(deps: ListingDeps, params: CreateListingParameters): Promise<CreateListingReturnType> {
  return commitListing(deps, await prepareListing(deps, params));
}

/** A listing's version 1, built and its content stored, not yet listed (see {@link prepareListing}). */
export interface PreparedListing {
  params: CreateListingParameters;
  dataset: Dataset;
  /** sha256 of the input, stored with an idempotency key so that a retry can be told from a reuse. */
  requestHash: string;
}

/**
 * The first half of {@link createListing}: picks the id and stores version 1's content (Merkle split, manifest),
 * content-addressed, so it may run before the request's nonce is spent (a replay writes nothing it could use).
 */
export async function prepareListing(deps: ListingDeps, params: CreateListingParameters): Promise<PreparedListing> {
  const { owner, input, idempotencyKey } = params;
  const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
  const id = idempotencyKey
    ? datasetId(createHash('sha256').update(`${owner.toLowerCase()}\n${idempotencyKey}`).digest())
    : datasetId();
  return { params, requestHash, dataset: await firstVersion(deps, id, owner, input, deps.now().toISOString()) };
}

/**
 * The second half of {@link createListing}: lists the prepared version 1 in one conditional write. No read
 * first: the write's condition (no listing with this id) tells a retry apart, so a first create (nearly all of
 * them; the SDK sends a key with every create) is one DynamoDB round trip, not two.
 */
export async function commitListing(deps: ListingDeps, prepared: PreparedListing): Promise<CreateListingReturnType> {
  const { params, requestHash, dataset } = prepared;
  const { idempotencyKey } = params;
  try {
    await deps.datasets.create(dataset, idempotencyKey ? { idempotencyHash: requestHash } : {});
  } catch (err) {
    // A retry of an earlier create, or one racing this one: answer as the first did.
    if (idempotencyKey && hasCode(err, 'CONFLICT')) {
      const existing = await deps.datasets.get(dataset.id);
      if (existing) return replay(deps, existing, params, requestHash);
    }
    throw err;
  }
  return { dataset, replayed: false };
}

/** Version 1 of a listing: a pure function of its id, owner, input and creation time (its manifest is content-addressed). */
async function firstVersion(deps: ListingDeps, id: string, owner: string, input: DatasetInput, createdAt: string): Promise<Dataset> {
  const { royaltySplit, merkleShares, ...fields } = input;
  const merkleSplit = merkleShares ? await storeMerkleSplit(deps.content, merkleShares) : undefined;
  const draft: Omit<Dataset, 'manifestCid'> = { id, owner, version: 1, status: 'active', createdAt, updatedAt: createdAt, ...fields, royaltySplit: royaltySplit ?? [], ...(merkleSplit ? { merkleSplit } : {}) };
  return { ...draft, manifestCid: await writeListingManifest(deps.content, draft) };
}

/**
 * A retry answers with the first result (version 1, as created), not the listing's current state: the request
 * hash proves the input is the one stored, and the id and `createdAt` come from the stored listing, so version 1
 * (its manifest CID included) is rebuilt exactly. Nothing is stored for it, and the manifest write is idempotent.
 */
async function replay(deps: ListingDeps, existing: { dataset: Dataset; idempotencyHash?: string }, params: CreateListingParameters, requestHash: string): Promise<CreateListingReturnType> {
  if (existing.idempotencyHash !== requestHash) {
    throw new ConflictError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${params.idempotencyKey ?? ''}" was already used for a different request`);
  }
  const { id, owner, createdAt } = existing.dataset;
  return { dataset: await firstVersion(deps, id, owner, params.input, createdAt), replayed: true };
}
