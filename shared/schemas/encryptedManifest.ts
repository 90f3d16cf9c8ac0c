/**
 * The encrypted-data manifest of one dataset version: everything a licensee needs, besides the data key, to
 * fetch, verify and decrypt the ciphertext object. Written to IPFS at upload completion; its CID is recorded on
 * chain, so the manifest itself is tamper-evident.
 */
import * as z from 'zod';
import { AccessConditionList } from './accessConditions.js';
import { plainText } from './common.js';
import { AAD_VERSION, CIPHER_ALG, FORMAT_VERSION, MAX_CHUNK_SIZE, NONCE_SCHEME, TAG_LENGTH } from '../crypto/chunkedAeadFormat.js';
import type { EncryptSummary, ExpectedChunk } from '../crypto/chunkedAead.js';

/** The schema id written into every manifest. */
export const ENCRYPTED_MANIFEST_SCHEMA = 'provena.encrypted-manifest/v1' as const;

/** S3's minimum size of every part but the last in a multipart upload. */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's maximum part count. */
export const S3_MAX_PARTS = 10_000;

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** Accepted plaintext formats. A text folder is encrypted as one stream; `files` says where each file lies. */
export const DataFormat = z.enum(['csv', 'jsonl', 'parquet', 'text-folder']);
export type DataFormat = z.output<typeof DataFormat>;

/** Cipher parameters (see shared/crypto/chunkedAead.ts for the construction). */
export const CipherParams = z.strictObject({
  alg: z.literal(CIPHER_ALG),
  formatVersion: z.literal(FORMAT_VERSION),
  aadVersion: z.literal(AAD_VERSION),
  nonceScheme: z.literal(NONCE_SCHEME),
  chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE),
  tagLength: z.literal(TAG_LENGTH),
  /** HKDF salt of this encryption, hex (32 bytes). */
  salt: Hex32,
  /** HKDF key commitment, hex (32 bytes): a wrong data key is rejected before any chunk is read. */
  keyCommitment: Hex32,
});
export type CipherParams = z.output<typeof CipherParams>;

/** One ciphertext chunk and where it lies in the S3 object. */
export const ManifestChunk = z.strictObject({
  index: z.number().int().min(0),
  /** Ciphertext + tag bytes. */
  ciphertextSize: z.number().int().min(TAG_LENGTH),
  /** SHA-256 of ciphertext + tag, lowercase hex. */
  sha256: Hex32,
  /** Multipart upload part (1-based) the chunk belongs to. */
  partNumber: z.number().int().min(1).max(S3_MAX_PARTS),
  /** Byte offset of the chunk in the whole object. */
  offset: z.number().int().min(0),
});
export type ManifestChunk = z.output<typeof ManifestChunk>;

/** One file of a `text-folder` dataset: its path in the folder and its byte range in the plaintext stream. */
export const ManifestFile = z.strictObject({
  path: plainText({ min: 1, max: 1024 }).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a relative path without ..'),
  plaintextOffset: z.number().int().min(0),
  size: z.number().int().min(0),
});

/**
 * What the owner's client counted while encrypting (issue 8, item 7): plaintext `bytes` (the API checks them against
 * the upload's plaintext size, which the chunk list proves) and `rows` (samples: CSV records after the header, JSON
 * Lines lines, Parquet rows, text-folder files). The API cannot read the plaintext, so `rows` is the owner's
 * client's count, not verified by the API: it is bound into this manifest (whose CID the registry records) so the
 * claim is attributable, and a licensee's worker, which decrypts, can check it.
 */
export const MeasuredData = z.strictObject({
  bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  rows: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type MeasuredData = z.output<typeof MeasuredData>;

/**
 * Where the wrapped data key is and how to get it released.
 * - `embedded`: AES-256-GCM under the gate master key (`masterKeyId` = its fingerprint).
 * - `kms`: a KMS ciphertext blob (`keyId` = the KMS key ARN).
 * - `lit`: Lit ciphertext + `dataToEncryptHash` on a Lit network.
 * `conditionsHash` is `hashConditions` (shared/crypto/conditionsHash.ts) of `accessConditions`.
 */
export const WrappedKeyRef = z.discriminatedUnion('backend', [
  z.strictObject({
    backend: z.literal('embedded'),
    masterKeyId: z.string().min(1),
    /** base64 of nonce ‖ ciphertext ‖ tag. */
    ciphertext: z.base64(),
    conditionsHash: Hex32,
  }),
  z.strictObject({
    backend: z.literal('kms'),
    keyId: z.string().min(1),
    /** base64 of the KMS CiphertextBlob. */
    ciphertext: z.base64(),
    conditionsHash: Hex32,
  }),
  z.strictObject({
    backend: z.literal('lit'),
    network: z.enum(['datil', 'datil-test', 'datil-dev']),
    /** Lit's base64 ciphertext. */
    ciphertext: z.string().min(1),
    dataToEncryptHash: z.string().regex(/^[0-9a-f]{64}$/),
    conditionsHash: Hex32,
    /** The Lit Action (its CIDv0) the key is bound to, when Provena's conditions are checked by one. */
    actionIpfsCid: z.string().regex(/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/).optional(),
  }),
]);
export type WrappedKeyRef = z.output<typeof WrappedKeyRef>;

/**
 * The encrypted-data manifest.
 *
 * @example
 * ```ts
 * const manifest = EncryptedManifest.parse(JSON.parse(await contentStore.get(cid)));
 * ```
 */
export const EncryptedManifest = z
  .strictObject({
    schema: z.literal(ENCRYPTED_MANIFEST_SCHEMA),
    datasetId: z.string().min(1).max(200),
    version: z.number().int().min(1),
    dataFormat: DataFormat,
    files: z.array(ManifestFile).optional(),
    cipher: CipherParams,
    chunks: z.array(ManifestChunk).min(1),
    totalPlaintextSize: z.number().int().min(0),
    totalCiphertextSize: z.number().int().min(TAG_LENGTH),
    /** Counted by the owner's client while encrypting; absent in manifests written before it was counted. */
    measured: MeasuredData.optional(),
    wrappedKey: WrappedKeyRef,
    accessConditions: AccessConditionList,
  })
  .superRefine((m, ctx) => {
    const issue = (message: string, path: (string | number)[] = []): void => ctx.addIssue({ code: 'custom', message, path });
    const full = m.cipher.chunkSize + TAG_LENGTH;
    let offset = 0;
    let plain = 0;
    let part = 1;
    m.chunks.forEach((c, i) => {
      if (c.index !== i) issue(`chunk index must be ${i}`, ['chunks', i, 'index']);
      const last = i === m.chunks.length - 1;
      if (!last && c.ciphertextSize !== full) issue(`every chunk but the last must be ${full} bytes`, ['chunks', i, 'ciphertextSize']);
      if (last && c.ciphertextSize > full) issue(`the last chunk must be at most ${full} bytes`, ['chunks', i, 'ciphertextSize']);
      if (c.offset !== offset) issue(`chunk offset must be ${offset}`, ['chunks', i, 'offset']);
      if (c.partNumber < part || c.partNumber > part + 1) issue('part numbers must start at 1 and not decrease or skip', ['chunks', i, 'partNumber']);
      part = c.partNumber;
      offset += c.ciphertextSize;
      plain += c.ciphertextSize - TAG_LENGTH;
    });
    if (m.chunks[0] !== undefined && m.chunks[0].partNumber !== 1) issue('part numbers must start at 1', ['chunks', 0, 'partNumber']);
    if (offset !== m.totalCiphertextSize) issue(`totalCiphertextSize must be ${offset}`, ['totalCiphertextSize']);
    if (plain !== m.totalPlaintextSize) issue(`totalPlaintextSize must be ${plain}`, ['totalPlaintextSize']);
    if (m.measured !== undefined && m.measured.bytes !== m.totalPlaintextSize) issue(`measured.bytes must be ${m.totalPlaintextSize}`, ['measured', 'bytes']);
    if ((m.dataFormat === 'text-folder') !== (m.files !== undefined)) issue("'files' is required for text-folder and only for it", ['files']);
    let end = 0;
    for (const [i, f] of (m.files ?? []).entries()) {
      if (f.plaintextOffset !== end) issue(`file must start at ${end}`, ['files', i, 'plaintextOffset']);
      end = f.plaintextOffset + f.size;
    }
    if (m.files !== undefined && end !== m.totalPlaintextSize) issue('files must cover the plaintext exactly', ['files']);
  });
export type EncryptedManifest = z.output<typeof EncryptedManifest>;

/**
 * Groups chunks into S3 multipart parts of at least `minPartSize` bytes (all but the last), and gives each
 * chunk its byte offset. With the default 4 MiB chunks two chunks make one part: S3's 5 MiB minimum part size
 * is larger than one chunk.
 *
 * @example
 * ```ts
 * const chunks = layoutChunks(enc.summary().chunks); // -> ManifestChunk[]
 * ```
 */
export function layoutChunks(chunks: readonly ExpectedChunk[], minPartSize: number = S3_MIN_PART_SIZE): ManifestChunk[] {
  let part = 1;
  let partBytes = 0;
  let offset = 0;
  const out = chunks.map((c, index) => {
    if (partBytes >= minPartSize) {
      part += 1;
      partBytes = 0;
    }
    const entry: ManifestChunk = { index, ciphertextSize: c.ciphertextSize, sha256: c.sha256, partNumber: part, offset };
    partBytes += c.ciphertextSize;
    offset += c.ciphertextSize;
    return entry;
  });
  if (part > S3_MAX_PARTS) throw new RangeError(`${part} parts exceed S3's ${S3_MAX_PARTS}: use a larger chunk size or part size`);
  return out;
}

/**
 * The cipher block of a manifest from an encryption summary.
 *
 * @example
 * ```ts
 * const cipher = cipherParamsOf(enc.summary());
 * ```
 */
export function cipherParamsOf(summary: EncryptSummary): CipherParams {
  const { params } = summary;
  return {
    alg: CIPHER_ALG,
    formatVersion: params.formatVersion,
    aadVersion: params.aadVersion,
    nonceScheme: NONCE_SCHEME,
    chunkSize: params.chunkSize,
    tagLength: TAG_LENGTH,
    salt: params.salt,
    keyCommitment: params.keyCommitment,
  };
}
