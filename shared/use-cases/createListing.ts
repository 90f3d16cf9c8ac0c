import { createHash } from 'node:crypto';
import { ConflictError, hasCode, type AuthError, type DependencyError, type ValidationError } from '../errors.js';
import type { Dataset, DatasetInput } from '../schemas/dataset.js';
import { datasetId, type ListingDeps } from './deps.js';
import { writeListingManifest } from './manifest.js';

export interface CreateListingParameters {
  /** The authenticated caller; becomes the owner. */
  owner: string;
  input: DatasetInput;
  /**
   * Client-chosen key that makes retries safe: the same owner and key always map to the same dataset id, so a
   * retried create returns the first result instead of listing twice.
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
 * Lists a dataset: writes version 1's manifest to IPFS, then the listing, in one conditional write.
 *
 * @example
 * ```ts
 * const { dataset } = await createListing(deps, { owner: caller.address, input, idempotencyKey });
 * ```
 */
export async function createListing(deps: ListingDeps, params: CreateListingParameters): Promise<CreateListingReturnType> {
  const { owner, input, idempotencyKey } = params;
  const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
  const id = idempotencyKey
    ? datasetId(createHash('sha256').update(`${owner.toLowerCase()}\n${idempotencyKey}`).digest())
    : datasetId();

  if (idempotencyKey) {
    const existing = await deps.datasets.get(id);
    if (existing) return replay(existing, requestHash, idempotencyKey);
  }

  const now = deps.now().toISOString();
  const draft: Omit<Dataset, 'manifestCid'> = { id, owner, version: 1, status: 'active', createdAt: now, updatedAt: now, ...input };
  const manifestCid = await writeListingManifest(deps.content, draft);
  const dataset: Dataset = { ...draft, manifestCid };
  try {
    await deps.datasets.create(dataset, idempotencyKey ? { idempotencyHash: requestHash } : {});
  } catch (err) {
    // Lost a race with a concurrent retry of the same request: answer as that one did.
    if (idempotencyKey && hasCode(err, 'CONFLICT')) {
      const existing = await deps.datasets.get(id);
      if (existing) return replay(existing, requestHash, idempotencyKey);
    }
    throw err;
  }
  return { dataset, replayed: false };
}

function replay(existing: { dataset: Dataset; idempotencyHash?: string }, requestHash: string, key: string): CreateListingReturnType {
  if (existing.idempotencyHash !== requestHash) {
    throw new ConflictError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${key}" was already used for a different request`);
  }
  return { dataset: existing.dataset, replayed: true };
}
