import type { HealthCheck } from './Health.js';

/**
 * Single-use nonces for signed requests (and key requests). `consume` is one conditional write: it succeeds
 * once per (scope, nonce) until `expiresAt`, and never again before then.
 *
 * The embedded DynamoDB (dynalite) has no TTL, so an expired entry is treated as absent on write
 * (`attribute_not_exists(pk) OR expiresAt < :now`); on AWS the table's TTL also deletes it.
 */
export interface NonceStore extends HealthCheck {
  /**
   * Records the nonce. Returns `false` when it was already used and has not expired (a replay).
   * @param scope who the nonce belongs to, e.g. the signer address
   * @param expiresAt epoch seconds after which the nonce may be forgotten
   */
  consume(scope: string, nonce: string, expiresAt: number): Promise<boolean>;
}
