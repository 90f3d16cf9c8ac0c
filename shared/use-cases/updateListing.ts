import { ConflictError, ForbiddenError, ValidationError, toFieldIssues, type DependencyError, type NotFoundError } from '../errors.js';
import { DatasetInput, MerkleListingEdit, type Dataset, type DatasetPatch } from '../schemas/dataset.js';
import type { ListingDeps } from './deps.js';
import { getListing } from './getListing.js';
import { writeListingManifest } from './manifest.js';
import { declaredMismatch, type DeclaredFacts } from '../domain/declaredMismatch.js';

export interface UpdateListingParameters {
  caller: string;
  id: string;
  patch: DatasetPatch;
}
export type UpdateListingReturnType = Dataset;
export type UpdateListingErrorType = NotFoundError | ForbiddenError | ConflictError | ValidationError | DependencyError;

/** Fields of a listing an update may change. */
const EDITABLE = ['title', 'description', 'tags', 'dataSchema', 'sizeBytes', 'sampleCount', 'license', 'royaltySplit', 'anonymization', 'privacy'] as const;

/**
 * Changes a listing as a new version (owner only): the merged listing is validated as a whole, a new manifest
 * is written to IPFS pointing at the previous one, and the write succeeds only if nobody changed the listing
 * in between (optimistic lock on the version).
 */
export async function updateListing(deps: ListingDeps, params: UpdateListingParameters): Promise<UpdateListingReturnType> {
  const current = await getListing(deps, { id: params.id });
  if (current.owner !== params.caller) {
    throw new ForbiddenError('FORBIDDEN_NOT_OWNER', `Only the owner ${current.owner} can change dataset ${current.id}`);
  }
  if (current.status === 'delisted') throw new ConflictError('DATASET_DELISTED', `Dataset ${current.id} is delisted`);
  const { expectedVersion, ...changes } = params.patch;
  if (expectedVersion !== undefined && expectedVersion !== current.version) {
    throw new ConflictError('VERSION_CONFLICT', `Dataset ${current.id} is at version ${current.version}, not ${expectedVersion}`);
  }

  if (current.merkleSplit && changes.royaltySplit) {
    throw new ConflictError('SPLIT_KIND_FIXED', `Dataset ${current.id} pays a Merkle split: its recipients are fixed at creation`);
  }

  const merged: Record<string, unknown> = {};
  for (const k of EDITABLE) {
    const v = (changes as Record<string, unknown>)[k] ?? current[k];
    if (v !== undefined) merged[k] = v;
  }
  // Cross-field rules (e.g. anonymized columns exist in the schema) are checked on the result, not the patch.
  const parsed = (current.merkleSplit ? MerkleListingEdit : DatasetInput).safeParse(merged);
  if (!parsed.success) throw new ValidationError('The updated listing is invalid', toFieldIssues(parsed.error.issues));

  const draft: Omit<Dataset, 'manifestCid'> = {
    id: current.id,
    owner: current.owner,
    status: current.status,
    createdAt: current.createdAt,
    version: current.version + 1,
    updatedAt: deps.now().toISOString(),
    ...parsed.data,
    royaltySplit: parsed.data.royaltySplit ?? [],
    // Not editable here: set at creation, by registration and uploads.
    ...(current.merkleSplit ? { merkleSplit: current.merkleSplit } : {}),
    ...(current.chainDatasetId ? { chainDatasetId: current.chainDatasetId } : {}),
    ...(current.chainManifestCid ? { chainManifestCid: current.chainManifestCid } : {}),
    ...(current.data ? { data: withMismatch(current.data, parsed.data) } : {}),
  };
  const manifestCid = await writeListingManifest(deps.content, draft, current.manifestCid);
  const next: Dataset = { ...draft, manifestCid };
  await deps.datasets.replace(next, current.version);
  return next;
}

/** The data block with its mismatch flag recomputed against the (possibly edited) declared values. */
function withMismatch(data: NonNullable<Dataset['data']>, declared: DeclaredFacts): NonNullable<Dataset['data']> {
  if (!data.measured) return data;
  const { declaredMismatch: _old, ...rest } = data;
  const mismatch = declaredMismatch(declared, data.measured);
  return mismatch ? { ...rest, declaredMismatch: mismatch } : rest;
}
