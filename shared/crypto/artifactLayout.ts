/**
 * The byte layout of an encrypted job artifact, defined once for the Node code (artifact.ts) and the browser's
 * (webArtifact.ts): `"PVA1" ‖ u32be headerLength ‖ header (UTF-8 JSON) ‖ chunk ciphertexts in order`, the header
 * `{kind, jobId, params, chunks: [{ciphertextSize, sha256}]}`, and the stream bound to `artifact/<kind>/<jobId>`,
 * version 1. Plain `Uint8Array` code: no Node builtin, no Buffer.
 */
import { IntegrityError } from './errors.js';

/** What an artifact is. */
export type ArtifactKind = 'checkpoint' | 'model';

/** The artifact header (not secret and not trusted: the decryptors check every field against the ciphertext). */
export interface ArtifactHeader {
  kind: ArtifactKind;
  jobId: string;
  params: { formatVersion: number; aadVersion: number; chunkSize: number; salt: string; keyCommitment: string };
  chunks: { ciphertextSize: number; sha256: string }[];
}

/** First four bytes of every artifact. */
export const ARTIFACT_MAGIC = new TextEncoder().encode('PVA1');
/** Largest header accepted, bytes. */
export const MAX_ARTIFACT_HEADER = 8 * 1024 * 1024;

/**
 * The chunked-AEAD binding of an artifact's stream (its `datasetId` and `version`): a checkpoint cannot pass for a
 * model, nor one job's artifact for another's.
 */
export function artifactBinding(kind: ArtifactKind, jobId: string): { datasetId: string; version: number } {
  return { datasetId: `artifact/${kind}/${jobId}`, version: 1 };
}

/** The bytes before the chunk ciphertexts: magic ‖ u32be length ‖ `headerJson` (the header's UTF-8 JSON). */
export function artifactHead(headerJson: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + headerJson.length);
  out.set(ARTIFACT_MAGIC, 0);
  new DataView(out.buffer).setUint32(4, headerJson.length);
  out.set(headerJson, 8);
  return out;
}

/**
 * Splits an artifact into its header and body, checking the magic, the header's length and JSON, that it is the
 * `meta.kind` of `meta.jobId`, and that the body is exactly as long as its chunks say; `MANIFEST_MISMATCH`
 * otherwise. The chunks' parameters and digests are left to the decryptor.
 */
export function parseArtifact(object: Uint8Array, meta: { kind: ArtifactKind; jobId: string }): { header: ArtifactHeader; body: Uint8Array } {
  if (object.length < 8 || ARTIFACT_MAGIC.some((b, i) => object[i] !== b)) throw new IntegrityError('MANIFEST_MISMATCH', 'not a Provena artifact');
  const headerLength = new DataView(object.buffer, object.byteOffset, object.byteLength).getUint32(4);
  if (headerLength > MAX_ARTIFACT_HEADER || 8 + headerLength > object.length) throw new IntegrityError('MANIFEST_MISMATCH', 'artifact header is cut or too large');
  let header: ArtifactHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(object.subarray(8, 8 + headerLength))) as ArtifactHeader;
  } catch {
    throw new IntegrityError('MANIFEST_MISMATCH', 'artifact header is not JSON');
  }
  if (header?.kind !== meta.kind || header.jobId !== meta.jobId) {
    throw new IntegrityError('MANIFEST_MISMATCH', `artifact is a ${String(header?.kind)} of job ${String(header?.jobId)}, not a ${meta.kind} of job ${meta.jobId}`);
  }
  const chunks = Array.isArray(header.chunks) ? header.chunks : [];
  const body = object.subarray(8 + headerLength);
  const total = chunks.reduce((s, c) => s + Number(c?.ciphertextSize), 0);
  if (total !== body.length) throw new IntegrityError('MANIFEST_MISMATCH', `artifact body is ${body.length} bytes, its header says ${total}`);
  return { header: { ...header, chunks }, body };
}
