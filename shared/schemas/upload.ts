/**
 * Encrypted uploads: the owner's machine encrypts (shared/crypto/chunkedAead.ts), the API hands out presigned
 * multipart URLs, and completion verifies the parts, wraps the data key and publishes the encrypted manifest.
 *
 * Flow (all calls signed by the listing's owner):
 * 1. `GET /v1/keygate` → the gate's public key; the client seals the data key to it (never plaintext on the wire).
 * 2. `POST /v1/datasets/{id}/uploads` {@link UploadStartInput} → {@link UploadSession} with one presigned PUT URL per part.
 * 3. The client PUTs each part (parallel; each part is a run of whole encrypted chunks, see {@link planUpload}).
 * 4. `GET /v1/datasets/{id}/uploads/{uploadId}` → the parts S3 already has, and fresh URLs for the rest (resume).
 * 5. `POST /v1/datasets/{id}/uploads/{uploadId}/complete` {@link UploadCompleteInput} → the listing, now with `data`.
 */
import * as z from 'zod';
import { TAG_LENGTH } from '../crypto/chunkedAeadFormat.js';
import { ValidationError } from '../errors.js';
import { Address, CidString, DatasetIdParams, IsoDate, boundedArray, hexBytes } from './common.js';
import { CipherParams, DataFormat, ManifestFile, MeasuredData, S3_MAX_PARTS, S3_MIN_PART_SIZE } from './encryptedManifest.js';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const HexBytes = hexBytes(64 * 1024);

/** Largest plaintext chunk of an upload (the cipher itself allows more). */
export const MAX_UPLOAD_CHUNK_SIZE = 64 * 1024 * 1024;
/** Plaintext bytes per encrypted chunk: 64 KiB to 64 MiB (default 4 MiB). */
export const ChunkSize = z.number().int().min(64 * 1024).max(MAX_UPLOAD_CHUNK_SIZE);
export const DEFAULT_UPLOAD_CHUNK_SIZE = 4 * 1024 * 1024;

/** Largest upload accepted: 10,000 parts of the default layout is far above it; 1 TiB is a product limit. */
export const MAX_UPLOAD_BYTES = 2 ** 40;

/**
 * Most encrypted chunks in one upload. S3's 10,000 parts of at least 5 MiB already bound it (80 chunks of the
 * smallest size per part: 800,000); this names the bound, and the complete body's chunk list is held to it.
 */
export const MAX_UPLOAD_CHUNKS = 800_000;

/** Body of `POST /v1/datasets/{id}/uploads`. */
export const UploadStartInput = z.strictObject({
  format: DataFormat,
  plaintextSize: z.number().int().min(0).max(MAX_UPLOAD_BYTES),
  chunkSize: ChunkSize.default(DEFAULT_UPLOAD_CHUNK_SIZE),
  /** For `text-folder`: where each file lies in the concatenated plaintext. */
  files: boundedArray(ManifestFile, { max: 100_000 }).optional(),
}).superRefine((v, ctx) => {
  // Sizes are checked arithmetically here, before any use case plans (allocates) anything for them.
  const issue = uploadLimitIssue(v.plaintextSize, v.chunkSize);
  if (issue) ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
});
export type UploadStartInput = z.output<typeof UploadStartInput>;
export type UploadStartInputWire = z.input<typeof UploadStartInput>;

/** One part of the upload plan. */
export const UploadPart = z.object({
  partNumber: z.number().int().min(1).max(S3_MAX_PARTS),
  /** Ciphertext bytes in this part. */
  size: z.number().int().min(TAG_LENGTH),
  /** Index of the first encrypted chunk in this part, and how many chunks it holds. */
  firstChunk: z.number().int().min(0),
  chunkCount: z.number().int().min(1),
  /** Presigned PUT URL (absent once the part is uploaded). */
  url: z.string().optional(),
  /** Present once S3 holds the part. */
  etag: z.string().optional(),
});
export type UploadPart = z.output<typeof UploadPart>;

/** An upload session as the API returns it. */
export const UploadSession = z.object({
  uploadId: z.string(),
  datasetId: z.string(),
  /** The data version this upload will create (bound into every chunk's AAD). */
  dataVersion: z.number().int().min(1),
  status: z.enum(['open', 'completed']),
  format: DataFormat,
  plaintextSize: z.number().int().min(0),
  chunkSize: z.number().int(),
  chunkCount: z.number().int().min(1),
  totalCiphertextSize: z.number().int(),
  parts: z.array(UploadPart),
  /** The context string the sealed data key must carry (see shared/crypto/ecies.ts). */
  keyContext: z.string(),
  createdAt: IsoDate,
  expiresAt: IsoDate,
});
export type UploadSession = z.output<typeof UploadSession>;

/** A sealed box (ECIES to the gate's public key), as in shared/crypto/ecies.ts. */
export const SealedBoxSchema = z.strictObject({
  scheme: z.enum(['ecies-secp256k1-hkdf-sha256-aes256gcm-v1', 'ecies-p256-hkdf-sha256-aes256gcm-v1']),
  ephemeralPublicKey: HexBytes,
  nonce: HexBytes,
  ciphertext: HexBytes,
  context: z.string().max(1000),
});

/** Body of `POST /v1/datasets/{id}/uploads/{uploadId}/complete`. */
export const UploadCompleteInput = z.strictObject({
  parts: boundedArray(z.strictObject({ partNumber: z.number().int().min(1).max(S3_MAX_PARTS), etag: z.string().min(1).max(200) }), { min: 1, max: S3_MAX_PARTS }),
  cipher: CipherParams,
  /** Every encrypted chunk, in order: its ciphertext size and SHA-256 (lowercase hex). */
  chunks: boundedArray(z.strictObject({ ciphertextSize: z.number().int().min(TAG_LENGTH).max(MAX_UPLOAD_CHUNK_SIZE + TAG_LENGTH), sha256: Hex64 }), { min: 1, max: MAX_UPLOAD_CHUNKS }),
  /** The data key sealed to the gate's public key, with `context` = the session's `keyContext`. */
  sealedDataKey: SealedBoxSchema,
  /** Bytes and samples the owner's client counted while encrypting; `bytes` must equal the upload's plaintext size. */
  measured: MeasuredData.optional(),
});
export type UploadCompleteInput = z.output<typeof UploadCompleteInput>;

/** The encrypted data of a listing's current version. */
export const DatasetData = z.object({
  version: z.number().int().min(1),
  /** CID of the encrypted manifest on IPFS (chunk list, cipher, wrapped key, access conditions). */
  manifestCid: CidString,
  format: DataFormat,
  plaintextSize: z.number().int().min(0),
  ciphertextSize: z.number().int(),
  objectKey: z.string(),
  uploadedAt: IsoDate,
  /** The registry dataset id the key's access conditions name. A key is released only while the listing still has it. */
  chainDatasetId: z.string().regex(/^[1-9][0-9]{0,77}$/).optional(),
  /** Bytes and samples of this data version, as committed in its encrypted manifest (see {@link MeasuredData}). */
  measured: MeasuredData.optional(),
  /**
   * The owner's declared listing values (`sizeBytes`, `sampleCount`) that disagree with `measured`, each as declared.
   * A buyer pays per sample: this flag says the declaration is not what the data holds.
   */
  declaredMismatch: z.strictObject({ sizeBytes: z.number().int().min(0).optional(), sampleCount: z.number().int().min(0).optional() }).optional(),
});
export type DatasetData = z.output<typeof DatasetData>;

/** The plan of an upload: ciphertext size of each chunk and how chunks group into S3 parts (≥ 5 MiB but the last). */
export interface UploadPlan {
  chunkCount: number;
  /** Ciphertext bytes of every chunk but the last (`chunkSize + TAG_LENGTH`). */
  fullChunkCiphertextSize: number;
  /** Ciphertext bytes of the last chunk (only a tag for an empty file). */
  lastChunkCiphertextSize: number;
  totalCiphertextSize: number;
  /** At most {@link S3_MAX_PARTS} entries: the plan's only array. */
  parts: { partNumber: number; size: number; firstChunk: number; chunkCount: number }[];
}

/** Counts of an upload's layout, computed without allocating anything per chunk or part. */
export interface UploadPlanSize {
  chunkCount: number;
  /** Chunks in every part but the last: S3's minimum part size rounded up to whole chunks. */
  chunksPerPart: number;
  partCount: number;
}

/**
 * Sizes an upload arithmetically, so a request can be refused before anything is allocated for it. Every chunk
 * but the last is full, so every part but the last holds exactly `chunksPerPart` chunks (what
 * `layoutChunks` in encryptedManifest.ts does with a 5 MiB minimum part).
 */
export function uploadPlanSize(plaintextSize: number, chunkSize: number): UploadPlanSize {
  const chunkCount = Math.max(1, Math.ceil(plaintextSize / chunkSize));
  const chunksPerPart = Math.max(1, Math.ceil(S3_MIN_PART_SIZE / (chunkSize + TAG_LENGTH)));
  return { chunkCount, chunksPerPart, partCount: Math.ceil(chunkCount / chunksPerPart) };
}

/**
 * The limit an upload of `plaintextSize` bytes in `chunkSize` chunks breaks, or undefined when it fits:
 * the field to blame (a request path under the body) and why. Pure arithmetic; the schema and
 * {@link planUpload} both call it before anything is allocated.
 */
export function uploadLimitIssue(plaintextSize: number, chunkSize: number): { path: 'plaintextSize' | 'chunkSize'; message: string } | undefined {
  if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0 || plaintextSize > MAX_UPLOAD_BYTES) {
    return { path: 'plaintextSize', message: `must be an integer from 0 to ${MAX_UPLOAD_BYTES}` };
  }
  if (!ChunkSize.safeParse(chunkSize).success) return { path: 'chunkSize', message: 'must be an integer from 65536 to 67108864' };
  const { chunkCount, partCount } = uploadPlanSize(plaintextSize, chunkSize);
  if (chunkCount > MAX_UPLOAD_CHUNKS) return { path: 'chunkSize', message: `${chunkCount} chunks exceed ${MAX_UPLOAD_CHUNKS}; use a larger chunk size` };
  if (partCount > S3_MAX_PARTS) return { path: 'chunkSize', message: `${partCount} parts exceed S3's ${S3_MAX_PARTS}; use a larger chunk size` };
  return undefined;
}

/**
 * Computes the plan from the plaintext size alone, so client and server agree on it without talking.
 * An empty file is one empty chunk (its tag still authenticates "final, length 0").
 *
 * Allocates only the part list (at most {@link S3_MAX_PARTS} entries), after checking the limits: a size over
 * them throws `VALIDATION_FAILED` naming the field, never builds an array first.
 */
export function planUpload(plaintextSize: number, chunkSize: number): UploadPlan {
  const issue = uploadLimitIssue(plaintextSize, chunkSize);
  if (issue) throw new ValidationError(`Upload too large to plan: ${issue.path} ${issue.message}`, [{ path: ['body', issue.path], message: issue.message }]);
  const { chunkCount, chunksPerPart, partCount } = uploadPlanSize(plaintextSize, chunkSize);
  const fullChunkCiphertextSize = chunkSize + TAG_LENGTH;
  const lastChunkCiphertextSize = plaintextSize - (chunkCount - 1) * chunkSize + TAG_LENGTH;
  const parts: UploadPlan['parts'] = [];
  for (let i = 0; i < partCount; i++) {
    const firstChunk = i * chunksPerPart;
    const count = Math.min(chunksPerPart, chunkCount - firstChunk);
    const holdsLast = firstChunk + count === chunkCount;
    const size = holdsLast ? (count - 1) * fullChunkCiphertextSize + lastChunkCiphertextSize : count * fullChunkCiphertextSize;
    parts.push({ partNumber: i + 1, size, firstChunk, chunkCount: count });
  }
  return {
    chunkCount,
    fullChunkCiphertextSize,
    lastChunkCiphertextSize,
    totalCiphertextSize: (chunkCount - 1) * fullChunkCiphertextSize + lastChunkCiphertextSize,
    parts,
  };
}

/** Ciphertext bytes the plan expects for chunk `index` (0-based, below `plan.chunkCount`). */
export function plannedChunkSize(plan: UploadPlan, index: number): number {
  return index === plan.chunkCount - 1 ? plan.lastChunkCiphertextSize : plan.fullChunkCiphertextSize;
}

/** The context a sealed data key must carry for one upload: binds it to the dataset, version and session. */
export function uploadKeyContext(datasetId: string, dataVersion: number, uploadId: string): string {
  return JSON.stringify({ v: 1, purpose: 'provena/upload-data-key', datasetId, dataVersion, uploadId });
}

/** What `GET /v1/keygate` answers. */
export const KeyGateInfo = z.object({
  backend: z.enum(['embedded', 'kms', 'lit']),
  /** Compressed public key (0x-hex) that data keys are sealed to on upload: secp256k1, or P-256 for the KMS gate. */
  publicKey: HexBytes,
  /** How to seal to it (shared/crypto/ecies.ts). */
  scheme: z.enum(['ecies-secp256k1-hkdf-sha256-aes256gcm-v1', 'ecies-p256-hkdf-sha256-aes256gcm-v1']),
});
export type KeyGateInfo = z.output<typeof KeyGateInfo>;

/** Path parameters of `/v1/datasets/{id}/uploads/{uploadId}`. */
export const UploadParams = DatasetIdParams.extend({
  uploadId: z.string().regex(/^up_[0-9a-z]{26}$/, 'must be an upload id (up_ + 26 base32 characters)'),
});

/** Query of `GET /v1/uploads?owner=`: an owner's open upload sessions, newest first. */
export const UploadListQuery = z.object({
  owner: Address,
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export type UploadListQuery = z.output<typeof UploadListQuery>;

/** One upload in progress, as the owner's console lists it (no URLs: resuming is `GET .../uploads/{uploadId}`). */
export const UploadSummary = z.object({
  uploadId: z.string(),
  datasetId: z.string(),
  dataVersion: z.number().int().min(1),
  format: DataFormat,
  plaintextSize: z.number().int().min(0),
  /** Parts S3 holds at their planned size, of `partsTotal`. */
  partsDone: z.number().int().min(0),
  partsTotal: z.number().int().min(1),
  createdAt: IsoDate,
  expiresAt: IsoDate,
});
export type UploadSummary = z.output<typeof UploadSummary>;

/** One page of an owner's uploads in progress. */
export const UploadSummaryPage = z.object({ items: z.array(UploadSummary), nextCursor: z.string().optional() });
export type UploadSummaryPage = z.output<typeof UploadSummaryPage>;
