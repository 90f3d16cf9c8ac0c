/**
 * One error root with stable codes. Every failure a caller can see is a {@link ProvenaError}; the HTTP layer
 * maps `code` to a status in one place (shared/http/errors.ts) and answers `{error: {code, message, details?}}`.
 *
 * Codes are part of the public contract: never rename one, only add.
 */

/** Every stable error code, grouped by the status the HTTP layer gives it. */
export const ErrorCodes = {
  // 400
  VALIDATION_FAILED: 400,
  BODY_NOT_JSON: 400,
  BODY_TOO_LARGE: 413,
  // 401
  AUTH_MISSING: 401,
  AUTH_HEADER_INVALID: 401,
  AUTH_TIMESTAMP_OUT_OF_RANGE: 401,
  AUTH_NONCE_REUSED: 401,
  AUTH_SIGNATURE_MALFORMED: 401,
  AUTH_SIGNATURE_MALLEABLE: 401,
  AUTH_SIGNATURE_INVALID: 401,
  // 403
  FORBIDDEN_NOT_OWNER: 403,
  FORBIDDEN: 403,
  // 404
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  DATASET_NOT_FOUND: 404,
  CONTENT_NOT_FOUND: 404,
  BLOB_NOT_FOUND: 404,
  // 405
  METHOD_NOT_ALLOWED: 405,
  // 409
  CONFLICT: 409,
  VERSION_CONFLICT: 409,
  DATASET_DELISTED: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  DATASET_ALREADY_REGISTERED: 409,
  DATASET_NOT_REGISTERED: 409,
  UPLOAD_NOT_OPEN: 409,
  UPLOAD_INCOMPLETE: 422,
  UPLOAD_NOT_FOUND: 404,
  // encrypted data plane (issue 4): chunk and manifest integrity (422), key release (401/403)
  CHUNK_DIGEST_MISMATCH: 422,
  CHUNK_AUTH_FAILED: 422,
  CIPHERTEXT_TRUNCATED: 422,
  CIPHERTEXT_TRAILING_DATA: 422,
  MANIFEST_MISMATCH: 422,
  DATA_KEY_MISMATCH: 422,
  KEY_UNWRAP_FAILED: 422,
  KEY_REQUEST_REPLAYED: 401,
  KEY_REQUEST_EXPIRED: 401,
  KEY_REQUEST_SIGNATURE_INVALID: 401,
  KEY_ACCESS_DENIED: 403,
  LICENSE_EXPIRED: 403,
  LICENSE_WRONG_DATASET: 403,
  KEY_GATE_MISCONFIGURED: 500,
  // owner-side upload (SDK/CLI, shared/sdk/upload.ts): never sent by the API, shown by the CLI
  UPLOAD_SOURCE_INVALID: 400,
  UPLOAD_SOURCE_CHANGED: 409,
  UPLOAD_RESUME_MISMATCH: 409,
  UPLOAD_PART_FAILED: 502,
  // attestation evidence (issue 10): malformed or cryptographically invalid evidence (400/422), policy refusals (403)
  ATTESTATION_MALFORMED: 400,
  ATTESTATION_SIGNATURE_INVALID: 422,
  ATTESTATION_CHAIN_INVALID: 422,
  ATTESTATION_ALGORITHM_UNSUPPORTED: 422,
  ATTESTATION_ROOT_UNTRUSTED: 403,
  ATTESTATION_CERT_EXPIRED: 403,
  ATTESTATION_CERT_NOT_YET_VALID: 403,
  ATTESTATION_DEBUG_REFUSED: 403,
  ATTESTATION_MEASUREMENT_UNEXPECTED: 403,
  ATTESTATION_TCB_REFUSED: 403,
  ATTESTATION_STALE: 403,
  ATTESTATION_NONCE_MISMATCH: 403,
  ATTESTATION_NONCE_REUSED: 403,
  ATTESTATION_KEY_NOT_BOUND: 403,
  ATTESTATION_KIND_REFUSED: 403,
  ATTESTATION_DEV_ROOT_REFUSED: 403,
  ATTESTATION_MODE_REFUSED: 403,
  ATTESTATION_CERT_REVOKED: 403,
  ATTESTATION_COLLATERAL_INVALID: 422,
  ATTESTATION_VERIFIER_MISSING: 500,
  // TDX and NVIDIA specifics (shared/attestation/{tdx,nvidia}*.ts)
  ATTESTATION_COLLATERAL_EXPIRED: 403,
  ATTESTATION_QE_BINDING_INVALID: 422,
  ATTESTATION_QE_IDENTITY_MISMATCH: 403,
  ATTESTATION_GPU_CC_OFF: 403,
  ATTESTATION_RIM_INVALID: 422,
  // anonymizer (issue 11, gpu-workers/agent/anonymizer): raised in the worker, before any row reaches the trainer
  ANONYMIZATION_INFEASIBLE: 422,
  ANONYMIZATION_TOO_MANY_ROWS: 413,
  ANONYMIZATION_KEY_INVALID: 500,
  // relayer (issue 7, item 5): one writer per key, shared/adapters/chain/EvmRelayer.ts
  RELAYER_NOT_CONFIGURED: 503,
  RELAYER_INSUFFICIENT_FUNDS: 503,
  RELAYER_REVERTED: 422,
  RELAYER_REJECTED: 502,
  RELAYER_DROPPED: 502,
  RELAYER_STOPPED: 503,
  RELAYER_TIMEOUT: 504,
  RELAYER_UNKNOWN_CALL: 404,
  // key gate worker condition (issue 7, item 3): the job is not open and funded (ended, finalized, refunded,
  // expired or spent), shared/adapters/chain/provenaConditions.ts
  JOB_NOT_ACTIVE: 403,
  // royalties (issue 9, recipients): gasless claims relayed from the recipient's EIP-712 Claim
  CLAIM_SIGNATURE_INVALID: 401,
  CLAIM_EXPIRED: 401,
  ROYALTY_NOT_RECIPIENT: 403,
  ROYALTY_NOTHING_TO_CLAIM: 409,
  // API hardening (issue 8, item 5): a pagination cursor that this API did not issue for this very query
  CURSOR_INVALID: 400,
  // attested workers, trust and key release (issue 10): POST /v1/jobs/{jobId}/attestation-nonces and /attestations
  // (JOB_NOT_ACTIVE, 403, above: also answered when a nonce or attestation is asked for a job that is not active)
  ATTESTOR_NOT_CONFIGURED: 503,
  // licenses and the chain indexer (issue 9): shared/use-cases/{indexChain,getLicense,quoteDataset}.ts, the CLI's buy
  LICENSE_NOT_FOUND: 404,
  LICENSE_PRICE_ABOVE_MAX: 409,
  INDEXER_CONFLICT: 409,
  // abuse limits (issue 8, item 6): relayed-call quotas and budget (shared/use-cases/relayQuota.ts), API rate limits
  RELAYER_QUOTA_EXCEEDED: 429,
  RELAYER_BUDGET_EXHAUSTED: 503,
  RATE_LIMITED: 429,
  // training jobs, API side (issue 9 labs, issue 10 job loop): shared/use-cases/{submitJob,leaseJob,fencedJob,...}.ts
  JOB_NOT_FOUND: 404,
  JOB_UNKNOWN_ON_CHAIN: 404,
  JOB_NOT_LICENSE_HOLDER: 403,
  JOB_DATASET_NOT_LISTED: 409,
  JOB_ALREADY_FINISHED: 409,
  JOB_SUBMIT_CONFLICT: 409,
  WORKER_NOT_OPERATOR: 403,
  JOB_LEASE_NOT_HOLDER: 403,
  JOB_LEASE_STALE: 409,
  JOB_LEASE_EXPIRED: 409,
  JOB_ARTIFACT_KEY_INVALID: 400,
  JOB_ARTIFACT_MISSING: 422,
  JOB_ARTIFACT_SIZE_MISMATCH: 422,
  JOB_REPORT_MISMATCH: 422,
  JOB_REPORT_BEYOND_CHECKPOINT: 409,
  JOB_WORKER_NOT_APPROVED: 403,
  JOB_REPORT_SIGNATURE_INVALID: 401,
  JOB_REPORT_AMOUNT_MISMATCH: 422,
  JOB_REPORT_RATE_CAPPED: 409,
  JOB_REPORT_BUDGET_EXCEEDED: 409,
  JOB_REPORT_WINDOW_CLOSED: 409,
  JOB_RECEIPT_INVALID: 422,
  JOB_RECEIPT_SIGNATURE_INVALID: 422,
  JOB_RECEIPT_CID_MISMATCH: 422,
  JOB_MODEL_NOT_READY: 409,
  JOB_QUEUE_HANDLE_INVALID: 409,
  // worker agent (issue 10, job loop): gpu-workers/agent (codes it releases a lease with, or exits with)
  WORKER_TRAINER_UNAVAILABLE: 500,
  WORKER_TRAINER_FAILED: 500,
  WORKER_BUDGET_EXCEEDED: 409,
  WORKER_DATA_FORMAT_UNSUPPORTED: 422,
  WORKER_DATA_INVALID: 422,
  WORKER_DATA_TOO_LARGE: 413,
  WORKER_ATTESTOR_UNAVAILABLE: 500,
  // labs and recipients (issue 9, lab lane): reclaim/refund from the holder's key (shared/sdk/license.ts), permits,
  // receipt verification and model delivery (shared/sdk/receipt.ts, shared/sdk/model.ts)
  NOTHING_TO_RECLAIM: 409,
  JOB_REFUND_NOT_YET: 409,
  JOB_ALREADY_REFUNDED: 409,
  PERMIT_UNSUPPORTED: 400,
  RECEIPT_TOO_LARGE: 413,
  RECEIPT_MALFORMED: 422,
  RECEIPT_CID_MISMATCH: 422,
  RECEIPT_SIGNATURE_INVALID: 422,
  RECEIPT_NOT_ANCHORED: 422,
  RECEIPT_WORKER_NOT_APPROVED: 422,
  RECEIPT_EVIDENCE_MISMATCH: 422,
  RECEIPT_MANIFEST_UNKNOWN: 422,
  MODEL_HASH_MISMATCH: 422,
  MODEL_KEY_MISMATCH: 422,
  // Privacy budgets (DP-SGD per listing): refused at job submit, nothing reserved.
  PRIVACY_DP_REQUIRED: 422,
  PRIVACY_EPSILON_CEILING_REQUIRED: 422,
  PRIVACY_BUDGET_EXCEEDED: 409,
  // Nitro mode (issue 10, nitro lane): gpu-workers/agent/nitro (enclave ↔ parent channel) and the NSM attestor
  WORKER_CHANNEL_INVALID: 502,
  WORKER_CHANNEL_CLOSED: 502,
  WORKER_NSM_UNAVAILABLE: 500,
  WORKER_NSM_ERROR: 502,
  WORKER_NSM_RESPONSE_INVALID: 502,
  // Merkle royalty splits (issue 9): split proofs served from the stored tree dump.
  SPLIT_ACCOUNT_NOT_FOUND: 404,
  SPLIT_ROOT_MISMATCH: 409,
  SPLIT_KIND_FIXED: 409,
  SPLIT_TREE_INVALID: 502,
  // Lit Actions key gate (issue 12, lit lane): shared/adapters/lit/LitKeyGate.ts, actions/provenaRelease.js
  LIT_ACTION_MISMATCH: 422,
  // Nitro worker instances (issue 12, nitro lane): the enclave's boot from its parent and the operator key's
  // KMS-Recipient provisioning (gpu-workers/agent/nitro/boot*.ts)
  WORKER_BOOT_INVALID: 502,
  WORKER_OPERATOR_KEY_UNAVAILABLE: 502,
  // configfs-tsm attestor (issue 12, tsm lane): TDX/SEV-SNP quote + NVIDIA GPU report (gpu-workers/agent/tsm/)
  WORKER_TSM_UNAVAILABLE: 500,
  WORKER_TSM_PROVIDER_REFUSED: 500,
  WORKER_TSM_REPORT_INVALID: 502,
  WORKER_TSM_BUSY: 503,
  WORKER_TSM_BINDING_MISMATCH: 502,
  WORKER_TSM_COLLATERAL_UNAVAILABLE: 502,
  WORKER_GPU_REPORT_UNAVAILABLE: 500,
  // 500/502/503
  CONFIG_INVALID: 500,
  INTERNAL: 500,
  DEPENDENCY_FAILED: 502,
  RESPONSE_INVALID: 502,
  CHAIN_UNAVAILABLE: 503,
  CONTENT_STORE_UNAVAILABLE: 503,
} as const;

/** A stable, documented error code. */
export type ErrorCode = keyof typeof ErrorCodes;

/** One field-level problem: where (`path`, as in zod) and what. */
export interface FieldIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The root of every Provena error.
 *
 * @example
 * ```ts
 * throw new ProvenaError('DATASET_NOT_FOUND', `No dataset ${id}`);
 * ```
 */
export class ProvenaError extends Error {
  override readonly name: string = 'ProvenaError';
  readonly code: ErrorCode;
  readonly details: FieldIssue[] | Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: FieldIssue[] | Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  /** The HTTP status this error maps to. */
  get status(): number {
    return ErrorCodes[this.code];
  }

  /** The wire form: `{error: {code, message, details?}}`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** A request body, header, query, event or file failed its zod schema. `details` lists each field path. */
export class ValidationError extends ProvenaError {
  override readonly name = 'ValidationError';
  constructor(message: string, issues: FieldIssue[], cause?: unknown) {
    super('VALIDATION_FAILED', message, { details: issues, cause });
  }
}

/** The signed-request check failed: the caller is not authenticated. Nothing was changed. */
export class AuthError extends ProvenaError {
  override readonly name = 'AuthError';
}

/** The caller is authenticated but may not do this. */
export class ForbiddenError extends ProvenaError {
  override readonly name = 'ForbiddenError';
}

/** The thing asked for does not exist. */
export class NotFoundError extends ProvenaError {
  override readonly name = 'NotFoundError';
}

/** A conditional write lost a race or a state rule forbids the change. */
export class ConflictError extends ProvenaError {
  override readonly name = 'ConflictError';
}

/** Configuration failed validation at start. The message names each bad variable. */
export class ConfigError extends ProvenaError {
  override readonly name = 'ConfigError';
  constructor(message: string, issues: FieldIssue[]) {
    super('CONFIG_INVALID', message, { details: issues });
  }
}

/** An external system (chain, DynamoDB, S3, IPFS) failed in a way the caller may retry. */
export class DependencyError extends ProvenaError {
  override readonly name = 'DependencyError';
}

/**
 * Turns zod issues into {@link FieldIssue}s with plain paths.
 *
 * @example
 * ```ts
 * const r = schema.safeParse(x);
 * if (!r.success) throw new ValidationError('bad body', toFieldIssues(r.error.issues));
 * ```
 */
export function toFieldIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): FieldIssue[] {
  return issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: i.message,
  }));
}

/** True when `err` is a {@link ProvenaError} with one of `codes`. */
export function hasCode(err: unknown, ...codes: ErrorCode[]): err is ProvenaError {
  return err instanceof ProvenaError && codes.includes(err.code);
}
