import { ConflictError, ForbiddenError, NotFoundError, ProvenaError, type DependencyError } from '../errors.js';
import type { BlobStore } from '../ports/BlobStore.js';
import type { ContentStore } from '../ports/ContentStore.js';
import type { EncryptedKeyForRequester, KeyGate, KeyGrant } from '../ports/KeyGate.js';
import { EncryptedManifest } from '../schemas/encryptedManifest.js';
import type { KeyReleaseInput } from '../schemas/keyRelease.js';
import type { ListingDeps } from './deps.js';
import { assertGrantAllowed } from './accessRules.js';
import { getListing } from './getListing.js';

/** What a key release needs. */
export interface ReleaseKeyDeps extends Pick<ListingDeps, 'datasets'> {
  content: ContentStore;
  gate: KeyGate;
  blobs: BlobStore;
  downloadUrlTtlSeconds: number;
}

export interface ReleaseKeyParameters {
  datasetId: string;
  input: KeyReleaseInput;
}

export interface ReleaseKeyReturnType {
  /** The data key sealed to the requester's public key. */
  key: EncryptedKeyForRequester;
  /** CID of the encrypted manifest the key belongs to; the client checks the manifest against it. */
  manifestCid: string;
  manifest: EncryptedManifest;
  /** A presigned GET of the ciphertext, issued only after the gate said yes. */
  downloadUrl: string;
}
export type ReleaseKeyErrorType = NotFoundError | ConflictError | ForbiddenError | DependencyError | ProvenaError;

/**
 * Asks the gate for the data key of a dataset's current data version. The gate checks the requester's signed
 * key request (fresh, single-use) and the dataset's access conditions against the chain at this moment; every
 * refusal is logged by the gate and answered with its code (`KEY_ACCESS_DENIED`, `LICENSE_EXPIRED`, ...).
 */
export async function releaseKey(deps: ReleaseKeyDeps, params: ReleaseKeyParameters): Promise<ReleaseKeyReturnType> {
  const listing = await getListing(deps, { id: params.datasetId });
  const data = listing.data;
  if (!data) throw new NotFoundError('NOT_FOUND', `Dataset ${listing.id} has no uploaded data yet`);
  if (params.input.version !== undefined && params.input.version !== data.version) {
    throw new ConflictError('VERSION_CONFLICT', `Dataset ${listing.id} serves data version ${data.version}, not ${params.input.version}`);
  }
  const { grant, requester, proof } = params.input;
  // The key's conditions name a registry dataset id. If the listing no longer has that id (the embedded chain was
  // reset, or the listing was registered again), the id may now belong to another dataset: release nothing.
  if (!listing.chainDatasetId || listing.chainDatasetId !== data.chainDatasetId) {
    throw new ConflictError('DATASET_NOT_REGISTERED', `Dataset ${listing.id}'s data was sealed for registry dataset ${data.chainDatasetId ?? '?'}, but the listing is now ${listing.chainDatasetId ? `registry dataset ${listing.chainDatasetId}` : 'unregistered'}: register and upload again`);
  }
  assertGrantAllowed(listing, grant);
  const manifest = EncryptedManifest.parse(await deps.content.getJson(data.manifestCid));
  if (manifest.datasetId !== listing.id || manifest.version !== data.version) {
    throw new ProvenaError('MANIFEST_MISMATCH', `Manifest ${data.manifestCid} is not dataset ${listing.id} version ${data.version}`);
  }
  const key = await deps.gate.releaseDataKey({
    wrapped: manifest.wrappedKey,
    datasetId: listing.id,
    version: data.version,
    conditions: manifest.accessConditions,
    grant: grant as KeyGrant,
    requester,
    proof: { nonce: proof.nonce, issuedAt: proof.issuedAt, signature: proof.signature, ...(proof.litSessionSigs ? { litSessionSigs: proof.litSessionSigs } : {}) },
  });
  const downloadUrl = await deps.blobs.presignGet(data.objectKey, deps.downloadUrlTtlSeconds);
  return { key, manifestCid: data.manifestCid, manifest, downloadUrl };
}
