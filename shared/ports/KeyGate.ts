/**
 * The key gate: wraps a dataset version's data key at upload, and releases it later only to a requester the
 * access conditions admit, encrypted to that requester's public key (never in plaintext over the wire).
 *
 * Adapters: shared/adapters/local/EmbeddedKeyGate.ts (default: master key on disk),
 * shared/adapters/aws/KmsKeyGate.ts (AWS KMS; enclave release via KMS Recipient),
 * shared/adapters/lit/LitKeyGate.ts (Lit Protocol network; optional dependency).
 */
import type { WrappedKeyRef } from '../schemas/encryptedManifest.js';
import type { EncryptedKeyForRequester, KeyGrant } from '../schemas/keyRelease.js';
import type { AccessConditionList } from '../schemas/accessConditions.js';
import type { HealthCheck } from './Health.js';

/** The manifest's wrapped-key reference (backend-specific). */
export type WrappedKey = WrappedKeyRef;

/** Parameters of {@link KeyGate.wrapDataKey}. */
export interface WrapDataKeyParams {
  datasetId: string;
  version: number;
  /** The 32-byte data key. The gate does not keep it. */
  dataKey: Uint8Array;
  /** The conditions a release must satisfy; their hash is bound into the wrap. */
  conditions: AccessConditionList;
}

export type { EncryptedKeyForRequester, KeyGrant };

/** Who asks: an EVM account and its secp256k1 public key (0x-hex, compressed or not). */
export interface KeyRequester {
  address: string;
  publicKey: string;
  /**
   * Nitro Enclaves attestation document (base64), for release through KMS's Recipient mechanism. Only the KMS
   * gate uses it; the others ignore it.
   */
  attestationDocument?: string;
}

/** The requester's proof of a fresh request: an EIP-712 signature (shared/crypto/keyRequest.ts) over it. */
export interface KeyRequestProof {
  /** 0x-hex 32 bytes, single-use. */
  nonce: string;
  /** Unix seconds when the request was signed. */
  issuedAt: number;
  /** 65-byte EIP-712 signature by `requester.address`. */
  signature: string;
  /**
   * Lit only: the requester's Lit session signatures (SessionSigsMap), which prove `:userAddress` to the Lit
   * nodes. Other gates ignore it.
   */
  litSessionSigs?: Record<string, unknown>;
}

/** Parameters of {@link KeyGate.releaseDataKey}. */
export interface ReleaseDataKeyParams {
  wrapped: WrappedKey;
  datasetId: string;
  version: number;
  /** The manifest's access conditions; must hash to `wrapped.conditionsHash`. */
  conditions: AccessConditionList;
  grant: KeyGrant;
  requester: KeyRequester;
  proof: KeyRequestProof;
}

/**
 * The key gate port.
 *
 * Errors of `releaseDataKey` (all ProvenaError): KEY_REQUEST_SIGNATURE_INVALID, KEY_REQUEST_EXPIRED,
 * KEY_REQUEST_REPLAYED (401); KEY_ACCESS_DENIED, LICENSE_EXPIRED, LICENSE_WRONG_DATASET, JOB_NOT_ACTIVE (403);
 * MANIFEST_MISMATCH / KEY_UNWRAP_FAILED (422: the wrapped key or conditions do not belong to this dataset
 * version); CHAIN_UNAVAILABLE / DEPENDENCY_FAILED (the chain or KMS did not answer). Every refusal is logged.
 */
export interface KeyGate extends HealthCheck {
  readonly backend: WrappedKey['backend'];
  wrapDataKey(params: WrapDataKeyParams): Promise<WrappedKey>;
  releaseDataKey(params: ReleaseDataKeyParams): Promise<EncryptedKeyForRequester>;
}
