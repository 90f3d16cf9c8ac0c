/**
 * Encrypted uploads (issue 4): start a session with presigned multipart URLs, report what S3 has (resume), and
 * complete: verify every part, take the sealed data key, check it matches the ciphertext's key commitment, wrap
 * it under the dataset's access conditions, publish the encrypted manifest to IPFS, then commit the listing's new
 * data version in one conditional write. Nothing is listed unless every step succeeded.
 */
import { randomBytes } from 'node:crypto';
import { deriveStreamKeys } from '../crypto/chunkedAead.js';
import { declaredMismatch } from '../domain/declaredMismatch.js';
import type { GateInbox } from '../crypto/gateInbox.js';
import { ConflictError, ForbiddenError, NotFoundError, ProvenaError, ValidationError, hasCode, type DependencyError } from '../errors.js';
import type { AccessConditionsFactory } from '../ports/AccessConditionsFactory.js';
import { listingAccessConditions } from './accessRules.js';
import type { BlobStore } from '../ports/BlobStore.js';
import type { KeyGate } from '../ports/KeyGate.js';
import type { StoredUpload, UploadRepo } from '../ports/UploadRepo.js';
import type { Dataset } from '../schemas/dataset.js';
import { ENCRYPTED_MANIFEST_SCHEMA, EncryptedManifest, layoutChunks } from '../schemas/encryptedManifest.js';
import { planUpload, plannedChunkSize, uploadKeyContext, type UploadCompleteInput, type UploadSession, type UploadStartInput } from '../schemas/upload.js';
import { base32, type ListingDeps } from './deps.js';
import { getListing } from './getListing.js';
import { writeListingManifest } from './manifest.js';

/** What the upload use cases need. */
export interface UploadDeps extends ListingDeps {
  uploads: UploadRepo;
  blobs: BlobStore;
  gate: KeyGate;
  inbox: GateInbox;
  /** Builds conditions over the deployment's contracts; the rule of which apply is {@link listingAccessConditions}. */
  conditions: AccessConditionsFactory;
  urlTtlSeconds: number;
  /** How long a session stays open. */
  sessionTtlSeconds?: number;
  /** Seals listing cursors (shared/crypto/pageCursor.ts). */
  cursorKey: Uint8Array;
}

export type UploadErrorType = NotFoundError | ForbiddenError | ConflictError | ValidationError | DependencyError;

function ownedActiveRegistered(listing: Dataset, caller: string): Dataset & { chainDatasetId: string } {
  if (listing.owner !== caller) throw new ForbiddenError('FORBIDDEN_NOT_OWNER', `Only the owner ${listing.owner} can upload data for ${listing.id}`);
  if (listing.status === 'delisted') throw new ConflictError('DATASET_DELISTED', `Dataset ${listing.id} is delisted`);
  if (!listing.chainDatasetId) {
    throw new ConflictError('DATASET_NOT_REGISTERED', `Register dataset ${listing.id} on chain first (POST /v1/datasets/${listing.id}/registration; SDK: registerDataset)`);
  }
  return listing as Dataset & { chainDatasetId: string };
}

async function ownedUpload(deps: UploadDeps, caller: string, datasetId: string, uploadId: string): Promise<StoredUpload> {
  const upload = await deps.uploads.get(uploadId);
  if (!upload || upload.datasetId !== datasetId) throw new NotFoundError('UPLOAD_NOT_FOUND', `No upload ${uploadId} for dataset ${datasetId}`);
  if (upload.owner !== caller) throw new ForbiddenError('FORBIDDEN_NOT_OWNER', `Upload ${uploadId} belongs to ${upload.owner}`);
  return upload;
}

async function session(deps: UploadDeps, upload: StoredUpload, uploaded: Map<number, { etag: string; size: number }>): Promise<UploadSession> {
  const plan = planUpload(upload.plaintextSize, upload.chunkSize);
  const parts = await Promise.all(
    plan.parts.map(async (p) => {
      const have = uploaded.get(p.partNumber);
      if (have && have.size === p.size) return { ...p, etag: have.etag };
      if (upload.status !== 'open') return p;
      return { ...p, url: await deps.blobs.presignUploadPart(upload.objectKey, upload.s3UploadId, p.partNumber, deps.urlTtlSeconds) };
    }),
  );
  return {
    uploadId: upload.uploadId,
    datasetId: upload.datasetId,
    dataVersion: upload.dataVersion,
    status: upload.status,
    format: upload.format,
    plaintextSize: upload.plaintextSize,
    chunkSize: upload.chunkSize,
    chunkCount: plan.chunkCount,
    totalCiphertextSize: plan.totalCiphertextSize,
    parts,
    keyContext: uploadKeyContext(upload.datasetId, upload.dataVersion, upload.uploadId),
    createdAt: upload.createdAt,
    expiresAt: upload.expiresAt,
  };
}

/** Starts an upload of the next data version of `datasetId` (owner only, registered listings). */
export async function startUpload(deps: UploadDeps, params: { caller: string; datasetId: string; input: UploadStartInput }): Promise<UploadSession> {
  const listing = ownedActiveRegistered(await getListing(deps, { id: params.datasetId }), params.caller);
  const { input } = params;
  if ((input.format === 'text-folder') !== (input.files !== undefined)) {
    throw new ValidationError("'files' is required for text-folder and only for it", [{ path: ['body', 'files'], message: 'required exactly for text-folder' }]);
  }
  // Limits are checked arithmetically (uploadLimitIssue) before the plan allocates its part list.
  const plan = planUpload(input.plaintextSize, input.chunkSize);
  const now = deps.now();
  const dataVersion = (listing.data?.version ?? 0) + 1;
  const uploadId = `up_${base32(randomBytes(16)).slice(0, 26)}`;
  const objectKey = `datasets/${listing.id}/v${dataVersion}/${uploadId}.enc`;
  const { uploadId: s3UploadId } = await deps.blobs.createMultipartUpload(objectKey, { contentType: 'application/octet-stream' });
  const upload: StoredUpload = {
    uploadId,
    datasetId: listing.id,
    owner: listing.owner,
    dataVersion,
    status: 'open',
    format: input.format,
    plaintextSize: input.plaintextSize,
    chunkSize: input.chunkSize,
    ...(input.files ? { files: input.files } : {}),
    objectKey,
    s3UploadId,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (deps.sessionTtlSeconds ?? 7 * 24 * 3600) * 1000).toISOString(),
  };
  await deps.uploads.create(upload);
  return session(deps, upload, new Map());
}

async function uploadedParts(deps: UploadDeps, upload: StoredUpload): Promise<Map<number, { etag: string; size: number }>> {
  const parts = await deps.blobs.listParts(upload.objectKey, upload.s3UploadId);
  return new Map(parts.map((p) => [p.partNumber, { etag: p.etag, size: p.size }]));
}

/** The session with the parts S3 already holds and fresh URLs for the rest: what a resumed upload needs. */
export async function getUpload(deps: UploadDeps, params: { caller: string; datasetId: string; uploadId: string }): Promise<UploadSession> {
  const upload = await ownedUpload(deps, params.caller, params.datasetId, params.uploadId);
  return session(deps, upload, upload.status === 'open' ? await uploadedParts(deps, upload) : new Map());
}

const unquote = (etag: string) => etag.replace(/^"|"$/g, '');

/** Completes an upload: see the module comment. Returns the listing with its new `data`. */
export async function completeUpload(
  deps: UploadDeps,
  params: { caller: string; datasetId: string; uploadId: string; input: UploadCompleteInput },
): Promise<Dataset> {
  const upload = await ownedUpload(deps, params.caller, params.datasetId, params.uploadId);
  if (upload.status !== 'open') throw new ConflictError('UPLOAD_NOT_OPEN', `Upload ${upload.uploadId} is already completed`);
  if (new Date(upload.expiresAt) < deps.now()) throw new ConflictError('UPLOAD_NOT_OPEN', `Upload ${upload.uploadId} expired at ${upload.expiresAt}`);
  const listing = ownedActiveRegistered(await getListing(deps, { id: params.datasetId }), params.caller);
  if ((listing.data?.version ?? 0) !== upload.dataVersion - 1) {
    throw new ConflictError('VERSION_CONFLICT', `Data version ${upload.dataVersion} was superseded; start a new upload`);
  }

  const { input } = params;
  const plan = planUpload(upload.plaintextSize, upload.chunkSize);
  const issues: { path: (string | number)[]; message: string }[] = [];
  if (input.cipher.chunkSize !== upload.chunkSize) issues.push({ path: ['body', 'cipher', 'chunkSize'], message: `must be ${upload.chunkSize}` });
  if (input.chunks.length !== plan.chunkCount) issues.push({ path: ['body', 'chunks'], message: `must list ${plan.chunkCount} chunks` });
  if (input.chunks.length === plan.chunkCount) input.chunks.forEach((c, i) => {
    const expected = plannedChunkSize(plan, i);
    if (c.ciphertextSize !== expected) issues.push({ path: ['body', 'chunks', i, 'ciphertextSize'], message: `must be ${expected}` });
  });
  // Bytes are checked (the chunk list proves the plaintext size); rows are the owner's client's count, bound into
  // the manifest: the API never sees plaintext to count them.
  if (input.measured !== undefined && input.measured.bytes !== upload.plaintextSize) {
    issues.push({ path: ['body', 'measured', 'bytes'], message: `must be the upload's plaintext size, ${upload.plaintextSize}` });
  }
  if (issues.length) throw new ValidationError('The chunk list does not match the upload plan', issues);

  // Every planned part must be in S3 with the size planned and the ETag the client saw on its PUT.
  let assembled = false;
  let have: Map<number, { etag: string; size: number }> = new Map();
  try {
    have = await uploadedParts(deps, upload);
  } catch (err) {
    // A retry after S3 already assembled the object (the listing write failed last time): check the object.
    const head = hasCode(err, 'BLOB_NOT_FOUND') ? await deps.blobs.head(upload.objectKey) : undefined;
    if (!head || head.size !== plan.totalCiphertextSize) throw err;
    assembled = true;
  }
  if (!assembled) {
    const claimed = new Map(input.parts.map((p) => [p.partNumber, unquote(p.etag)]));
    const missing = plan.parts.filter((p) => have.get(p.partNumber)?.size !== p.size).map((p) => p.partNumber);
    if (missing.length) {
      throw new ProvenaError('UPLOAD_INCOMPLETE', `Parts missing or of the wrong size: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ' …' : ''}`, { details: { missing } });
    }
    const mismatched = plan.parts.filter((p) => claimed.get(p.partNumber) !== unquote(have.get(p.partNumber)?.etag ?? '')).map((p) => p.partNumber);
    if (mismatched.length) {
      throw new ProvenaError('UPLOAD_INCOMPLETE', `Parts whose checksum (ETag) differs from what S3 stored: ${mismatched.slice(0, 20).join(', ')}`, { details: { mismatched } });
    }
  }

  // The sealed key must open, and must be the key the chunks were encrypted with (its commitment).
  const dataKey = await deps.inbox.open(input.sealedDataKey, uploadKeyContext(upload.datasetId, upload.dataVersion, upload.uploadId));
  try {
    const binding = { datasetId: upload.datasetId, version: upload.dataVersion };
    const { keyCommitment } = deriveStreamKeys(dataKey, Buffer.from(input.cipher.salt, 'hex'), binding, upload.chunkSize);
    if (keyCommitment.toString('hex') !== input.cipher.keyCommitment) {
      throw new ProvenaError('DATA_KEY_MISMATCH', 'The sealed data key is not the key these chunks were encrypted with');
    }
    const conditions = listingAccessConditions(deps.conditions, listing);
    const wrappedKey = await deps.gate.wrapDataKey({ datasetId: upload.datasetId, version: upload.dataVersion, dataKey, conditions });
    const manifest = EncryptedManifest.parse({
      schema: ENCRYPTED_MANIFEST_SCHEMA,
      datasetId: upload.datasetId,
      version: upload.dataVersion,
      dataFormat: upload.format,
      ...(upload.files ? { files: upload.files } : {}),
      cipher: input.cipher,
      chunks: layoutChunks(input.chunks),
      totalPlaintextSize: upload.plaintextSize,
      totalCiphertextSize: plan.totalCiphertextSize,
      ...(input.measured ? { measured: input.measured } : {}),
      wrappedKey,
      accessConditions: conditions,
    });
    const { cid: manifestCid } = await deps.content.addJson(manifest);

    if (!assembled) {
      const parts = plan.parts.map((p) => ({ partNumber: p.partNumber, etag: have.get(p.partNumber)?.etag as string }));
      await deps.blobs.completeMultipartUpload(upload.objectKey, upload.s3UploadId, parts);
    }
    const head = await deps.blobs.head(upload.objectKey);
    if (head?.size !== plan.totalCiphertextSize) {
      throw new ProvenaError('UPLOAD_INCOMPLETE', `Assembled object is ${head?.size ?? 0} bytes, expected ${plan.totalCiphertextSize}`);
    }

    // The commit point: one conditional write of the listing's next version.
    const now = deps.now().toISOString();
    const { manifestCid: previous, ...rest } = listing;
    const mismatch = input.measured ? declaredMismatch(listing, input.measured) : undefined;
    const draft: Omit<Dataset, 'manifestCid'> = {
      ...rest,
      version: listing.version + 1,
      updatedAt: now,
      data: {
        version: upload.dataVersion,
        manifestCid,
        format: upload.format,
        plaintextSize: upload.plaintextSize,
        ciphertextSize: plan.totalCiphertextSize,
        objectKey: upload.objectKey,
        uploadedAt: now,
        chainDatasetId: listing.chainDatasetId,
        ...(input.measured ? { measured: input.measured } : {}),
        ...(mismatch ? { declaredMismatch: mismatch } : {}),
      },
    };
    const next: Dataset = { ...draft, manifestCid: await writeListingManifest(deps.content, draft, previous) };
    await deps.datasets.replace(next, listing.version);
    await deps.uploads.markCompleted(upload.uploadId).catch(() => {
      // Bookkeeping only: the listing write above is what made the data live.
    });
    return next;
  } finally {
    dataKey.fill(0);
  }
}
