import { ProvenaError } from '../errors.js';

/**
 * Attestation evidence was refused. The `code` says why, one code per reason: malformed or cryptographically
 * invalid evidence (`ATTESTATION_MALFORMED`, `ATTESTATION_SIGNATURE_INVALID`, `ATTESTATION_CHAIN_INVALID`,
 * `ATTESTATION_ALGORITHM_UNSUPPORTED`, `ATTESTATION_COLLATERAL_INVALID`), an untrusted or out-of-date chain
 * (`ATTESTATION_ROOT_UNTRUSTED`, `ATTESTATION_DEV_ROOT_REFUSED`, `ATTESTATION_CERT_EXPIRED`,
 * `ATTESTATION_CERT_NOT_YET_VALID`, `ATTESTATION_CERT_REVOKED`), or a policy refusal (`ATTESTATION_DEBUG_REFUSED`,
 * `ATTESTATION_MEASUREMENT_UNEXPECTED`, `ATTESTATION_TCB_REFUSED`, `ATTESTATION_STALE`,
 * `ATTESTATION_NONCE_MISMATCH`, `ATTESTATION_NONCE_REUSED`, `ATTESTATION_KEY_NOT_BOUND`,
 * `ATTESTATION_KIND_REFUSED`, `ATTESTATION_MODE_REFUSED`). No key is approved after any of them.
 *
 * @example
 * ```ts
 * try { await verifyEvidence(bundle, opts); }
 * catch (e) { if (hasCode(e, 'ATTESTATION_DEBUG_REFUSED')) log.warn('debug enclave', e.details); }
 * ```
 */
export class AttestationError extends ProvenaError {
  override readonly name = 'AttestationError';
}
