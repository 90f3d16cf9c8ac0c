/**
 * Encrypted job artifacts (checkpoints, models): one self-describing object, the project's chunked AEAD inside.
 *
 * Layout (artifactLayout.ts): `"PVA1" ‖ u32be headerLength ‖ header (UTF-8 canonical JSON) ‖ chunk ciphertexts in
 * order`, where the header is `{kind, jobId, params, chunks: [{ciphertextSize, sha256}]}`. The stream is bound (AAD and HKDF) to
 * `artifact/<kind>/<jobId>`, so a checkpoint cannot pass for a model, nor one job's artifact for another's. The
 * header is not secret and not trusted: the key commitment in `params` and every chunk's digest and GCM tag are
 * checked before any plaintext is returned; a header that lies fails those checks.
 *
 * Checkpoint key: {@link deriveCheckpointKey} (HKDF over the job's data keys: any attested worker of the job can
 * derive it, nothing new to store). Model key: a fresh data key sealed to the lab's model key (ECIES).
 */
import { createHash, hkdfSync } from 'node:crypto';
import { canonicalJson } from '../encoding/canonicalJson.js';
import { artifactBinding as binding, artifactHead, parseArtifact, type ArtifactHeader, type ArtifactKind } from './artifactLayout.js';
import { decryptToBuffer, encryptStream, type StreamParams } from './chunkedAead.js';
import { IntegrityError } from './errors.js';

export type { ArtifactKind } from './artifactLayout.js';
/** Plaintext bytes per chunk of an artifact (1 MiB). */
export const ARTIFACT_CHUNK_SIZE = 1024 * 1024;

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Encrypts `plaintext` under `key` (32 bytes) as an artifact of `kind` for `jobId`.
 *
 * @example
 * ```ts
 * const object = await encryptArtifact(ckptBytes, deriveCheckpointKey(jobId, keys), { kind: 'checkpoint', jobId });
 * ```
 */
export async function encryptArtifact(plaintext: Uint8Array, key: Uint8Array, meta: { kind: ArtifactKind; jobId: string }): Promise<Buffer> {
  const stream = encryptStream(once(plaintext), { key, chunkSize: ARTIFACT_CHUNK_SIZE, ...binding(meta.kind, meta.jobId) });
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(...c.ciphertextParts);
  const summary = stream.summary();
  const header: ArtifactHeader = { kind: meta.kind, jobId: meta.jobId, params: summary.params, chunks: summary.chunks };
  return Buffer.concat([artifactHead(Buffer.from(canonicalJson(header), 'utf8')), ...parts]);
}

/**
 * Decrypts an artifact, checking kind, job, key commitment, every chunk's digest and tag, and that nothing is
 * missing or appended. Throws `IntegrityError` (`MANIFEST_MISMATCH`, `DATA_KEY_MISMATCH`, `CHUNK_*`) otherwise.
 */
export async function decryptArtifact(object: Uint8Array, key: Uint8Array, meta: { kind: ArtifactKind; jobId: string }): Promise<Buffer> {
  const { header, body } = parseArtifact(object, meta);
  // The params are untrusted JSON: decryptToBuffer checks them (versions, chunk size, key commitment) before any
  // plaintext, and allocates no more than the body could hold.
  return decryptToBuffer(once(body), { key, params: header.params as StreamParams, chunks: header.chunks, ...binding(meta.kind, meta.jobId) }, body.length);
}

/**
 * The key of a job's checkpoints: HKDF-SHA256 over the data keys of the job's datasets (sorted by dataset id,
 * each length-prefixed with its id), salt `provena/checkpoint/v1`, info = the job id. Every worker the key gate
 * released those keys to (attested for this job) derives the same key; no one else can.
 */
export function deriveCheckpointKey(jobId: string, dataKeys: ReadonlyMap<string, Uint8Array>): Buffer {
  if (dataKeys.size === 0) throw new IntegrityError('DATA_KEY_MISMATCH', 'a checkpoint key needs at least one data key');
  const ikm = Buffer.concat(
    [...dataKeys.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([id, key]) => {
        const idBytes = Buffer.from(id, 'utf8');
        const head = Buffer.alloc(4);
        head.writeUInt16BE(idBytes.length, 0);
        head.writeUInt16BE(key.length, 2);
        return [head, idBytes, Buffer.from(key)];
      }),
  );
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.from('provena/checkpoint/v1'), Buffer.from(jobId, 'utf8'), 32));
}

/** SHA-256 hex of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
