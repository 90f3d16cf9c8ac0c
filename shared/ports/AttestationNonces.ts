/**
 * Single-use nonces for worker attestation. The API issues one per job on request; the worker binds it into its
 * evidence (see the binding rule in shared/attestation/types.ts); `verifyEvidence` consumes it once the evidence has
 * passed every other check, so a refused attempt does not burn it and a replayed document finds it gone.
 *
 * Both operations are one conditional write each (DynamoDB: `attribute_not_exists(pk)` on issue;
 * `attribute_exists(pk) AND consumedAt = null AND expiresAt > :now` on consume), never a read then a write, so two
 * concurrent posts of the same evidence cannot both consume it. The embedded DynamoDB has no TTL: expired items are
 * filtered by the condition, not deleted.
 */
export interface AttestationNonces {
  /**
   * Issues a fresh nonce (32 random bytes, lowercase hex) for `jobId`, usable until `now + ttlSeconds`.
   * @returns the nonce and its expiry in epoch seconds
   */
  issue(jobId: string, opts: { now: Date; ttlSeconds: number }): Promise<IssuedAttestationNonce>;
  /**
   * Marks `nonce` used. Returns the job it was issued for, or `null` when it was never issued, has expired or
   * was already consumed (the caller refuses with `ATTESTATION_NONCE_REUSED`).
   */
  consume(nonce: string, now: Date): Promise<{ jobId: string } | null>;
}

/** A nonce as {@link AttestationNonces.issue} returns it. */
export interface IssuedAttestationNonce {
  nonce: string;
  jobId: string;
  /** Epoch seconds. */
  expiresAt: number;
}
