/**
 * The one entry point the API uses to trust a worker: parse the bundle, refuse kinds the policy does not accept,
 * verify each document's signature and chain to a pinned root at `now`, apply the policy (debug, measurements, TCB,
 * age, nonce and key binding, mode), and only then consume the single-use nonce.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../encoding/canonicalJson.js';
import type { AttestationNonces } from '../ports/AttestationNonces.js';
import { AttestationError } from './errors.js';
import { applyPolicy, checkKinds, checkMode, trustedRootsFor } from './policy.js';
import { AttestationPolicy, EvidenceBundle, type EvidenceKind, type EvidenceVerifier, type VerifiedEvidence, type WorkerMode } from './types.js';

/** Parameters of {@link verifyEvidence}. */
export interface VerifyEvidenceParameters {
  /**
   * The policy, or several (one per dataset of a job): the evidence must satisfy every one. Signatures are checked
   * once per distinct set of trusted roots and the nonce is consumed once, after all of them passed.
   */
  policy: AttestationPolicy | readonly AttestationPolicy[];
  /** The instant at which certificates must be valid and evidence fresh. */
  now: Date;
  /** The nonce the API issued for this attestation (hex). */
  expectedNonce: string;
  /** The worker's public key as it registers it (hex): the bytes the binding rule hashes. */
  expectedPublicKey: string;
  /** One verifier per kind (see verifiers.ts for the built-in ones). */
  verifiers: Partial<Record<EvidenceKind, EvidenceVerifier>>;
  /** When given, the nonce is consumed after every other check passed and must belong to `jobId`. */
  nonces?: { store: AttestationNonces; jobId: string };
}

/** What {@link verifyEvidence} returns: the verified CPU evidence, the GPU evidence if any, the mode, and the hash to record. */
export interface VerifyEvidenceReturnType {
  evidence: VerifiedEvidence;
  gpu?: VerifiedEvidence;
  mode: WorkerMode;
  /** SHA-256 hex over the canonical JSON of the parsed bundle: what the approval records, so anyone can audit it. */
  evidenceHash: string;
}

/** The codes {@link verifyEvidence} can throw (all `AttestationError`). */
export type VerifyEvidenceErrorType = AttestationError;

/** SHA-256 hex of the canonical JSON (sorted keys, no whitespace) of a parsed bundle. */
export function evidenceHash(bundle: EvidenceBundle): string {
  return createHash('sha256').update(canonicalJson(bundle)).digest('hex');
}

function decodeDocuments(docs: Record<string, string>): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(docs).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

type Verified = Pick<VerifyEvidenceReturnType, 'evidence' | 'gpu'>;

async function runVerifier(kind: EvidenceKind, docs: Record<string, string>, p: VerifyEvidenceParameters, trustedRoots: readonly string[]): Promise<VerifiedEvidence> {
  const verifier = p.verifiers[kind];
  if (verifier === undefined) throw new AttestationError('ATTESTATION_VERIFIER_MISSING', `no verifier is configured for ${kind} evidence`);
  const e = await verifier(decodeDocuments(docs), { now: p.now, trustedRoots });
  // A verifier reports what it verified; the policy applies to the kind that was posted.
  return e.kind === kind ? e : { ...e, kind };
}

/** Verifies the bundle's documents under one policy's roots and applies that policy; returns the mode. */
async function underPolicy(b: EvidenceBundle, policy: AttestationPolicy, p: VerifyEvidenceParameters, verified: Map<string, Verified>): Promise<Verified & { mode: WorkerMode }> {
  checkKinds(b, policy);
  const cpuRoots = trustedRootsFor(b.kind, policy);
  const gpuRoots = b.gpu === undefined ? [] : trustedRootsFor(b.gpu.kind, policy);
  const key = JSON.stringify([cpuRoots, gpuRoots]);
  let v = verified.get(key);
  if (v === undefined) {
    const evidence = await runVerifier(b.kind, b.documents, p, cpuRoots);
    v = b.gpu === undefined ? { evidence } : { evidence, gpu: await runVerifier(b.gpu.kind, b.gpu.documents, p, gpuRoots) };
    verified.set(key, v);
  }
  const expected = { now: p.now, expectedNonce: p.expectedNonce, expectedPublicKey: p.expectedPublicKey };
  applyPolicy(v.evidence, policy, expected);
  if (v.gpu !== undefined) applyPolicy(v.gpu, policy, expected);
  return { ...v, mode: checkMode(b, policy) };
}

/**
 * Verifies a worker's evidence bundle against a policy (or every policy of a job's datasets).
 *
 * Order (the first failure is the code returned): bundle shape (`ATTESTATION_MALFORMED`) → dev evidence in
 * production (`ATTESTATION_DEV_ROOT_REFUSED`) → kinds (`ATTESTATION_KIND_REFUSED`) → CPU evidence: signature and
 * chain, then debug, measurements, TCB, age, nonce, key → GPU evidence likewise → mode
 * (`ATTESTATION_MODE_REFUSED`) → nonce consumed (`ATTESTATION_NONCE_REUSED`).
 *
 * @example
 * ```ts
 * const { evidence, evidenceHash } = await verifyEvidence(body.evidence, {
 *   policy, now: new Date(), expectedNonce: body.nonce, expectedPublicKey: body.workerPublicKey,
 *   verifiers: BUILTIN_VERIFIERS, nonces: { store: deps.attestationNonces, jobId },
 * });
 * ```
 */
export async function verifyEvidence(bundle: unknown, p: VerifyEvidenceParameters): Promise<VerifyEvidenceReturnType> {
  const parsed = EvidenceBundle.safeParse(bundle);
  if (!parsed.success) {
    throw new AttestationError('ATTESTATION_MALFORMED', 'evidence bundle does not match its schema', { details: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) });
  }
  const b = parsed.data;
  const policies: readonly AttestationPolicy[] = Array.isArray(p.policy) ? p.policy : [p.policy as AttestationPolicy];
  if (policies.length === 0) throw new AttestationError('ATTESTATION_KIND_REFUSED', 'no policy to verify against');
  const verified = new Map<string, Verified>();
  let result: (Verified & { mode: WorkerMode }) | undefined;
  for (const policy of policies) result = await underPolicy(b, policy, p, verified);
  const { evidence, gpu, mode } = result!;
  if (p.nonces !== undefined) {
    const owner = await p.nonces.store.consume(p.expectedNonce, p.now);
    if (owner === null) throw new AttestationError('ATTESTATION_NONCE_REUSED', 'the nonce was never issued, has expired or was already used');
    if (owner.jobId !== p.nonces.jobId) throw new AttestationError('ATTESTATION_NONCE_MISMATCH', 'the nonce was issued for another job');
  }
  return { evidence, ...(gpu === undefined ? {} : { gpu }), mode, evidenceHash: evidenceHash(b) };
}
