/** The client's side of a key release: open the sealed data key and check it is the release asked for. */
import { openSealedBox } from './ecies.js';
import { IntegrityError } from './errors.js';
import type { EncryptedKeyForRequester } from '../schemas/keyRelease.js';

/**
 * Client side: opens a sealed release with the requester's private key and checks it is the release asked for.
 * Throws `KEY_UNWRAP_FAILED` for a wrong private key, an altered box, or a release for something else.
 *
 * @example
 * ```ts
 * const dataKey = decryptReleasedKey(wallet.privateKey, released, { datasetId, version });
 * ```
 */
export function decryptReleasedKey(privateKey: string | Uint8Array, released: EncryptedKeyForRequester, expect?: { datasetId: string; version: number }): Buffer {
  if (released.kind !== 'sealed') {
    throw new IntegrityError('KEY_UNWRAP_FAILED', 'a KMS recipient release opens only inside the attested enclave');
  }
  const ctx = JSON.parse(released.sealed.context) as { datasetId?: unknown; version?: unknown };
  if (ctx.datasetId !== released.datasetId || ctx.version !== released.version || (expect !== undefined && (ctx.datasetId !== expect.datasetId || ctx.version !== expect.version))) {
    throw new IntegrityError('KEY_UNWRAP_FAILED', 'released key is bound to another dataset version');
  }
  return openSealedBox(privateKey, released.sealed);
}
