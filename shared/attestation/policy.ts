/**
 * The policy checks applied to evidence after its signature and chain verified: one function per rule, each with
 * its own refusal code, and the binding rule's one implementation ({@link bindingDigest}).
 */
import { createHash } from 'node:crypto';
import { AttestationError } from './errors.js';
import { AWS_NITRO_ROOT_G1_SHA256 } from './nitro.js';
import { NVIDIA_DEVICE_ROOT_SHA256 } from './nvidiaDeviceRoot.js';
import { AMD_ARK_MILAN_SHA256 } from './snp.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from './tdxIntelRoot.js';
import type { AttestationPolicy, EvidenceBundle, EvidenceKind, VerifiedEvidence, WorkerMode } from './types.js';

/**
 * Roots pinned in code, by kind. A policy may add roots (`extraRoots`, refused in production) but never remove
 * these.
 */
export const PINNED_ROOTS: Readonly<Record<EvidenceKind, readonly string[]>> = {
  nitro: [AWS_NITRO_ROOT_G1_SHA256],
  'sev-snp': [AMD_ARK_MILAN_SHA256],
  tdx: [INTEL_SGX_ROOT_CA_SHA256],
  'nvidia-gpu': [NVIDIA_DEVICE_ROOT_SHA256],
  dev: [],
};

/** How far in the future an evidence timestamp may lie (clock skew between the TEE and the API). */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/** Roots a verification of `kind` may end at under `policy`. */
export function trustedRootsFor(kind: EvidenceKind, policy: AttestationPolicy): string[] {
  return [...PINNED_ROOTS[kind], ...(policy.extraRoots[kind] ?? [])];
}

/** Hex (optionally 0x-prefixed) to bytes; anything else is `ATTESTATION_MALFORMED`. */
export function hexBytes(hex: string, what: string): Buffer {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^([0-9a-fA-F]{2})+$/.test(h)) throw new AttestationError('ATTESTATION_MALFORMED', `${what} is not hex`);
  return Buffer.from(h, 'hex');
}

/**
 * THE binding rule (types.ts): SHA-512(publicKey ‖ nonce), 64 bytes. What TDX/SNP report data must equal, and
 * whose first 32 bytes the NVIDIA SPDM nonce must equal.
 *
 * @example
 * ```ts
 * const reportData = bindingDigest(workerPublicKeyHex, nonceHex); // put into REPORT_DATA when requesting a report
 * ```
 */
export function bindingDigest(publicKey: string, nonce: string): Buffer {
  return createHash('sha512').update(hexBytes(publicKey, 'public key')).update(hexBytes(nonce, 'nonce')).digest();
}

/** The worker mode a bundle claims: Nitro-format evidence is `nitro`; a CPU TEE quote with a GPU report is `confidential-gpu`. */
export function modeOf(bundle: EvidenceBundle): WorkerMode | undefined {
  if (bundle.kind === 'nitro' || bundle.kind === 'dev') return bundle.gpu === undefined ? 'nitro' : undefined;
  return bundle.gpu === undefined ? undefined : 'confidential-gpu';
}

/**
 * Checks done before any cryptography: development evidence under a production policy
 * (`ATTESTATION_DEV_ROOT_REFUSED`), then kinds (`ATTESTATION_KIND_REFUSED`).
 */
export function checkKinds(bundle: EvidenceBundle, policy: AttestationPolicy): void {
  if (bundle.kind === 'dev' && policy.production) {
    throw new AttestationError('ATTESTATION_DEV_ROOT_REFUSED', 'development attestations are refused by a production policy');
  }
  const kinds: EvidenceKind[] = [bundle.kind, ...(bundle.gpu === undefined ? [] : [bundle.gpu.kind])];
  for (const k of kinds) {
    if (!policy.kinds.includes(k)) throw new AttestationError('ATTESTATION_KIND_REFUSED', `evidence kind ${k} is not accepted by this policy`, { details: { kind: k, accepted: policy.kinds } });
  }
}

/** The bundle's mode must be one the policy allows; a CPU TEE quote needs its GPU report (`ATTESTATION_MODE_REFUSED`). */
export function checkMode(bundle: EvidenceBundle, policy: AttestationPolicy): WorkerMode {
  const mode = modeOf(bundle);
  if (mode === undefined) {
    throw new AttestationError(
      'ATTESTATION_MODE_REFUSED',
      bundle.gpu === undefined ? `${bundle.kind} evidence needs a GPU report (confidential-GPU mode)` : `${bundle.kind} evidence cannot carry a GPU report`,
    );
  }
  if (!policy.modes.includes(mode)) throw new AttestationError('ATTESTATION_MODE_REFUSED', `worker mode ${mode} is not allowed by this policy`, { details: { mode, allowed: policy.modes } });
  return mode;
}

/** Production refuses debug-mode evidence, whatever else it says (`ATTESTATION_DEBUG_REFUSED`). */
export function checkDebug(e: VerifiedEvidence, policy: AttestationPolicy): void {
  if (policy.production && e.debug) {
    const why = e.kind === 'nitro' ? 'the enclave runs in debug mode (PCR0 is all zeros)' : e.kind === 'sev-snp' ? 'the guest policy allows debugging (DEBUG bit 19)' : 'the TEE runs in debug mode';
    throw new AttestationError('ATTESTATION_DEBUG_REFUSED', `${e.kind} evidence refused: ${why}`, { details: { kind: e.kind } });
  }
}

/** Evidence must match one allowed measurement set of its kind, where the policy lists any (`ATTESTATION_MEASUREMENT_UNEXPECTED`). */
export function checkMeasurements(e: VerifiedEvidence, policy: AttestationPolicy): void {
  const sets = policy.measurements[e.kind];
  if (sets === undefined) return;
  const matches = (set: Record<string, string>): boolean => Object.entries(set).every(([name, value]) => e.measurements[name] === value.toLowerCase());
  if (!sets.some(matches)) {
    const names = [...new Set(sets.flatMap((s) => Object.keys(s)))];
    throw new AttestationError('ATTESTATION_MEASUREMENT_UNEXPECTED', `${e.kind} measurements match no allowed set`, {
      details: { measured: Object.fromEntries(names.map((n) => [n, e.measurements[n] ?? null])) },
    });
  }
}

/** A TCB status the evidence carries must be accepted (`ATTESTATION_TCB_REFUSED`). */
export function checkTcb(e: VerifiedEvidence, policy: AttestationPolicy): void {
  if (e.tcbStatus !== undefined && !policy.tcbStatuses.includes(e.tcbStatus)) {
    throw new AttestationError('ATTESTATION_TCB_REFUSED', `TCB status ${e.tcbStatus} is not accepted`, { details: { tcbStatus: e.tcbStatus, accepted: policy.tcbStatuses } });
  }
}

/** Evidence with a timestamp must be at most `maxAgeSeconds` old and not from the future (`ATTESTATION_STALE`). */
export function checkAge(e: VerifiedEvidence, policy: AttestationPolicy, now: Date): void {
  if (e.issuedAt === undefined) return;
  const ageSeconds = (now.getTime() - e.issuedAt.getTime()) / 1000;
  if (ageSeconds > policy.maxAgeSeconds || ageSeconds < -MAX_CLOCK_SKEW_SECONDS) {
    throw new AttestationError('ATTESTATION_STALE', `evidence issued at ${e.issuedAt.toISOString()} is ${Math.round(ageSeconds)} s old (max ${policy.maxAgeSeconds} s)`, {
      details: { issuedAt: e.issuedAt.toISOString(), maxAgeSeconds: policy.maxAgeSeconds },
    });
  }
}

/**
 * The evidence binds the API's nonce and the worker's key, by the binding rule (types.ts):
 * Nitro/dev: `nonce` = the nonce (`ATTESTATION_NONCE_MISMATCH`), and `public_key` = the key or `user_data` =
 * bindingDigest (`ATTESTATION_KEY_NOT_BOUND`); TDX/SNP: report data = bindingDigest; NVIDIA: SPDM nonce = its first
 * 32 bytes (`ATTESTATION_KEY_NOT_BOUND`: the digest covers both, so a wrong nonce and a wrong key look alike).
 */
export function checkBinding(e: VerifiedEvidence, expected: { nonce: string; publicKey: string }): void {
  const nonce = hexBytes(expected.nonce, 'expected nonce').toString('hex');
  const key = hexBytes(expected.publicKey, 'expected public key').toString('hex');
  const digest = bindingDigest(key, nonce).toString('hex');
  const b = e.bindings;
  if (e.kind === 'nitro' || e.kind === 'dev') {
    if (b.nonce !== nonce) throw new AttestationError('ATTESTATION_NONCE_MISMATCH', 'the attestation document does not carry the nonce the API issued');
    if (b.publicKey !== key && b.userData !== digest) {
      throw new AttestationError('ATTESTATION_KEY_NOT_BOUND', "the attestation document binds neither the worker's key (public_key) nor SHA-512(key ‖ nonce) (user_data)");
    }
    return;
  }
  const bound = e.kind === 'nvidia-gpu' ? b.nonce === digest.slice(0, 64) : b.reportData === digest;
  if (!bound) throw new AttestationError('ATTESTATION_KEY_NOT_BOUND', `${e.kind} report data is not SHA-512(worker key ‖ nonce)`);
}

/** Every per-evidence rule, in the order whose first failure best says why: debug, measurements, TCB, age, binding. */
export function applyPolicy(e: VerifiedEvidence, policy: AttestationPolicy, opts: { now: Date; expectedNonce: string; expectedPublicKey: string }): void {
  checkDebug(e, policy);
  checkMeasurements(e, policy);
  checkTcb(e, policy);
  checkAge(e, policy, opts.now);
  checkBinding(e, { nonce: opts.expectedNonce, publicKey: opts.expectedPublicKey });
}
