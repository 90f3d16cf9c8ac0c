/**
 * Taking delivery of a trained model in a browser: the same checks as `openModel` (model.ts, Node), with the
 * WebCrypto opener of shared/crypto/webArtifact.ts. The sealed key opens with the lab's private key, every chunk
 * authenticates, and the plaintext's SHA-256 and size equal the job's model record and the verified receipt's.
 */
import { decryptArtifactWeb, openSealedBoxWeb, sha256HexWeb } from '../crypto/webArtifact.js';
import { ProvenaError } from '../errors.js';
import type { JobModelDownload, ReceiptBody } from '../schemas/job.js';

export interface OpenModelWebParameters {
  download: JobModelDownload;
  /** The ciphertext fetched from `download.downloadUrl`. */
  ciphertext: Uint8Array;
  /** The private key of the job's model key (0x-hex, 32 bytes). */
  privateKey: string;
  /** The verified receipt's body: its model hash and size must match too. */
  receipt?: ReceiptBody;
}
export interface OpenModelWebReturnType {
  model: Uint8Array<ArrayBuffer>;
  sha256: string;
}
/** `KEY_UNWRAP_FAILED`, `CHUNK_*`/`MANIFEST_MISMATCH`/`DATA_KEY_MISMATCH`, `MODEL_HASH_MISMATCH`. */
export type OpenModelWebErrorType = ProvenaError;

/**
 * Opens an encrypted model in the browser. Throws with the code of the first check that failed.
 *
 * @example
 * ```ts
 * const { model } = await openModelWeb({ download, ciphertext, privateKey, receipt: verified.receipt?.body });
 * ```
 */
export async function openModelWeb(p: OpenModelWebParameters): Promise<OpenModelWebReturnType> {
  const { download } = p;
  if (p.ciphertext.length !== download.model.encryptedBytes) {
    throw new ProvenaError('MODEL_HASH_MISMATCH', `the model download is ${p.ciphertext.length} bytes, the job records ${download.model.encryptedBytes}`);
  }
  const key = await openSealedBoxWeb(p.privateKey, download.sealedKey);
  try {
    const model = await decryptArtifactWeb(p.ciphertext, key, { kind: 'model', jobId: download.jobId });
    const sha256 = await sha256HexWeb(model);
    const expected = [
      { what: "the job's model record", sha256: download.model.sha256, bytes: download.model.bytes },
      ...(p.receipt ? [{ what: 'the receipt', sha256: p.receipt.model.sha256, bytes: p.receipt.model.bytes }] : []),
    ];
    for (const e of expected) {
      if (e.sha256 !== sha256 || e.bytes !== model.length) {
        throw new ProvenaError('MODEL_HASH_MISMATCH', `the decrypted model (sha256 ${sha256}, ${model.length} bytes) is not the one ${e.what} names (sha256 ${e.sha256}, ${e.bytes} bytes)`);
      }
    }
    return { model, sha256 };
  } finally {
    key.fill(0);
  }
}
