/**
 * Join-key pseudonyms: HMAC-SHA256 under a per-job key. The same value gives the same pseudonym within a job
 * (joins still work) and an unrelated one under another job's key (two labs cannot link their rows).
 */
import { createHmac } from 'node:crypto';
import { ProvenaError } from '../../../shared/errors.js';

/** Length of the per-job key, in bytes. */
export const JOB_KEY_BYTES = 32;

/** Maps a join-key value to its pseudonym (64 hex digits); `null` stays `null`. */
export type Pseudonymizer = (value: string | number | boolean | null) => string | null;

/**
 * Builds a pseudonymizer holding a private copy of `key` (the caller may zero its own). The key is never
 * returned, logged or put in an error message; `dispose` zeroes the copy.
 *
 * Values are hashed as their string form, so the number 42 and the string "42" (a key read from CSV in one table
 * and from JSON in another) still join.
 *
 * @example
 * ```ts
 * const { pseudonymize } = createPseudonymizer(randomBytes(32));
 * pseudonymize('customer-17'); // '5b1f…' (64 hex digits)
 * ```
 */
export function createPseudonymizer(key: Uint8Array): { pseudonymize: Pseudonymizer; dispose: () => void } {
  if (!(key instanceof Uint8Array) || key.byteLength !== JOB_KEY_BYTES) {
    throw new ProvenaError('ANONYMIZATION_KEY_INVALID', `The per-job pseudonymization key must be ${JOB_KEY_BYTES} bytes`);
  }
  const secret = Buffer.from(key); // a copy
  let disposed = false;
  const pseudonymize: Pseudonymizer = (value) => {
    if (value === null) return null;
    if (disposed) throw new ProvenaError('ANONYMIZATION_KEY_INVALID', 'The pseudonymization key was disposed');
    return createHmac('sha256', secret).update(String(value), 'utf8').digest('hex');
  };
  return {
    pseudonymize,
    dispose: () => {
      secret.fill(0);
      disposed = true;
    },
  };
}
