import { ProvenaError } from '../errors.js';

/**
 * A ciphertext, manifest or data key failed an integrity or authenticity check. The `code` says which
 * (`CHUNK_DIGEST_MISMATCH`, `CHUNK_AUTH_FAILED`, `CIPHERTEXT_TRUNCATED`, `CIPHERTEXT_TRAILING_DATA`,
 * `MANIFEST_MISMATCH`, `DATA_KEY_MISMATCH`, `KEY_UNWRAP_FAILED`). No plaintext of the failing unit was released.
 *
 * @example
 * ```ts
 * try { for await (const p of decryptStream(src, opts)) out.write(p); }
 * catch (e) { if (hasCode(e, 'CHUNK_AUTH_FAILED')) ... }
 * ```
 */
export class IntegrityError extends ProvenaError {
  override readonly name = 'IntegrityError';
}

/** A key release was refused (no/expired/foreign license, unattested worker, replayed or unsigned request). */
export class KeyAccessError extends ProvenaError {
  override readonly name = 'KeyAccessError';
}
