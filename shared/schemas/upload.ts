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
import { z } from 'zod';
import { TAG_LENGTH } from '../crypto/chunkedAead.js';
import { CidString, DatasetIdParams, IsoDate } from './common.js';
import { CipherParams, DataFormat, ManifestFile, S3_MAX_PARTS, S3_MIN_PART_SIZE, layoutChunks } from './encryptedManifest.js';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const HexBytes = z.string().regex(/^0x([0-9a-fA-F]{2})+$/, 'must be 0x-prefixed hex bytes');

/** Plaintext bytes per encrypted chunk: 64 KiB to 64 MiB (default 4 MiB). */
export const ChunkSize = z.number().int().min(64 * 1024).max(64 * 1024 * 1024);
export const DEFAULT_UPLOAD_CHUNK_SIZE = 4 * 1024 * 1024;

/** Largest upload accepted: 10,000 parts of the default layout is far above it; 1 TiB is a product limit. */
export const MAX_UPLOAD_BYTES = 2 ** 40;

/** Body of `POST /v1/datasets/{id}/uploads`. */
export const UploadStartInput = z.strictObject({
  format: DataFormat,
  plaintextSize: z.number().int().min(0).max(MAX_UPLOAD_BYTES),
  chunkSize: ChunkSize.default(DEFAULT_UPLOAD_CHUNK_SIZE),
  /** For `text-folder`: where each file lies in the concatenated plaintext. */
  files: z.array(ManifestFile).max(100_000).optional(),
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
  scheme: z.literal('ecies-secp256k1-hkdf-sha256-aes256gcm-v1'),
  ephemeralPublicKey: HexBytes,
  nonce: HexBytes,
  ciphertext: HexBytes,
  context: z.string().max(1000),
});

/** Body of `POST /v1/datasets/{id}/uploads/{uploadId}/complete`. */
export const UploadCompleteInput = z.strictObject({
  parts: z.array(z.strictObject({ partNumber: z.number().int().min(1).max(S3_MAX_PARTS), etag: z.string().min(1).max(200) })).min(1).max(S3_MAX_PARTS),
  cipher: CipherParams,
  /** Every encrypted chunk, in order: its ciphertext size and SHA-256 (lowercase hex). */
  chunks: z.array(z.strictObject({ ciphertextSize: z.number().int().min(TAG_LENGTH), sha256: Hex64 })).min(1),
  /** The data key sealed to the gate's public key, with `context` = the session's `keyContext`. */
  sealedDataKey: SealedBoxSchema,
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
});
export type DatasetData = z.output<typeof DatasetData>;

/** The plan of an upload: ciphertext size of each chunk and how chunks group into S3 parts (≥ 5 MiB but the last). */
export interface UploadPlan {
  chunkCount: number;
  chunkSizes: number[];
  totalCiphertextSize: number;
  parts: { partNumber: number; size: number; firstChunk: number; chunkCount: number }[];
}

/**
 * Computes the plan from the plaintext size alone, so client and server agree on it without talking.
 * An empty file is one empty chunk (its tag still authenticates "final, length 0").
 */
export function planUpload(plaintextSize: number, chunkSize: number): UploadPlan {
  const chunkCount = Math.max(1, Math.ceil(plaintextSize / chunkSize));
  const chunkSizes = Array.from({ length: chunkCount }, (_, i) =>
    (i < chunkCount - 1 ? chunkSize : plaintextSize - (chunkCount - 1) * chunkSize) + TAG_LENGTH,
  );
  const laid = layoutChunks(chunkSizes.map((ciphertextSize) => ({ ciphertextSize, sha256: '0'.repeat(64) })), S3_MIN_PART_SIZE);
  const parts: UploadPlan['parts'] = [];
  for (const c of laid) {
    const last = parts[parts.length - 1];
    if (last && last.partNumber === c.partNumber) {
      last.size += c.ciphertextSize;
      last.chunkCount += 1;
    } else {
      parts.push({ partNumber: c.partNumber, size: c.ciphertextSize, firstChunk: c.index, chunkCount: 1 });
    }
  }
  return { chunkCount, chunkSizes, totalCiphertextSize: chunkSizes.reduce((a, b) => a + b, 0), parts };
}

/** The context a sealed data key must carry for one upload: binds it to the dataset, version and session. */
export function uploadKeyContext(datasetId: string, dataVersion: number, uploadId: string): string {
  return JSON.stringify({ v: 1, purpose: 'provena/upload-data-key', datasetId, dataVersion, uploadId });
}

/** What `GET /v1/keygate` answers. */
export const KeyGateInfo = z.object({
  backend: z.enum(['embedded', 'kms', 'lit']),
  /** Compressed secp256k1 public key (0x-hex) that data keys are sealed to on upload. */
  publicKey: HexBytes,
  scheme: z.literal('ecies-secp256k1-hkdf-sha256-aes256gcm-v1'),
});
export type KeyGateInfo = z.output<typeof KeyGateInfo>;

/** Path parameters of `/v1/datasets/{id}/uploads/{uploadId}`. */
export const UploadParams = DatasetIdParams.extend({
  uploadId: z.string().regex(/^up_[0-9a-z]{26}$/, 'must be an upload id (up_ + 26 base32 characters)'),
});
