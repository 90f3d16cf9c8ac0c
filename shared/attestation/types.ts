/**
 * Attestation evidence: what a worker posts ({@link EvidenceBundle}), what a verifier proves about it
 * ({@link VerifiedEvidence}), and what a listing or deployment demands of it ({@link AttestationPolicy}).
 *
 * ## THE binding rule (how evidence is tied to the worker's key and the API's nonce)
 * `bindingDigest = SHA-512(publicKey ‖ nonce)`, where `publicKey` is the exact bytes of the worker's public key as
 * the worker registers it (hex-decoded, no re-encoding) and `nonce` the bytes of the single-use nonce the API
 * issued (hex-decoded). 64 bytes, which is exactly the size of the report-data field of both CPU TEEs:
 * - Intel TDX `REPORTDATA` and AMD SEV-SNP `REPORT_DATA` = `bindingDigest` (all 64 bytes);
 * - NVIDIA GPU SPDM nonce (32 bytes) = the first 32 bytes of `bindingDigest`;
 * - AWS Nitro: the document's `nonce` = the nonce, and either its `public_key` = the worker key or its `user_data`
 *   = `bindingDigest` (so that `public_key` can hold the RSA key that KMS `Recipient` encrypts to).
 * See {@link bindingDigest} (verifyEvidence.ts) for the one implementation.
 */
import * as z from 'zod';
import { WorkerMode as WireWorkerMode } from '../schemas/attestation.js';

/** The kinds of evidence the API understands. `dev` is the development attestor's (Nitro format, dev root). */
export const EvidenceKind = z.enum(['nitro', 'tdx', 'sev-snp', 'nvidia-gpu', 'dev']);
/** A kind of evidence. */
export type EvidenceKind = z.infer<typeof EvidenceKind>;

/**
 * Where a worker runs, which decides what the data is exposed to:
 * - `confidential-gpu`: agent and trainer inside a TDX or SEV-SNP confidential VM with a GPU in CC mode; evidence
 *   is a CPU TEE quote plus an NVIDIA GPU report, bound to the same nonce and key.
 * - `nitro`: keys, decryption and anonymization inside a Nitro enclave (no GPU); only anonymized batches reach
 *   the trainer on the parent instance. The development attestor emulates this mode.
 */
export const WorkerMode = WireWorkerMode;
/** A worker mode. */
export type WorkerMode = WireWorkerMode;

/** The CPU TEE kinds a bundle may lead with (the GPU report rides beside one). */
export const CpuEvidenceKind = z.enum(['nitro', 'tdx', 'sev-snp', 'dev']);
/** A CPU TEE evidence kind. */
export type CpuEvidenceKind = z.infer<typeof CpuEvidenceKind>;

const hex = z.string().regex(/^([0-9a-f]{2})+$/, 'lowercase hex');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256 as 64 lowercase hex digits');
const base64 = z.string().min(1).max(1_000_000).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');

/**
 * What a worker posts: the CPU TEE evidence (base64 documents, by name) and, in confidential-GPU mode, the GPU
 * report.
 * - `nitro` / `dev`: `{document}` (the COSE_Sign1 attestation document);
 * - `sev-snp`: `{report, vcek, chain}` (report 1,184 bytes; VCEK DER; ASK ‖ ARK as PEM or DER);
 * - `tdx`: `{quote, ...collateral}`; `nvidia-gpu`: as the NVIDIA verifier defines.
 *
 * @example
 * ```ts
 * const bundle = EvidenceBundle.parse({ kind: 'nitro', documents: { document: docB64 } });
 * ```
 */
export const EvidenceBundle = z.strictObject({
  kind: CpuEvidenceKind,
  documents: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/), base64),
  gpu: z.strictObject({ kind: z.literal('nvidia-gpu'), documents: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/), base64) }).optional(),
});
/** A posted evidence bundle. */
export type EvidenceBundle = z.infer<typeof EvidenceBundle>;

/** Report-data style bindings a document carries (lowercase hex). Verifiers fill what their format has. */
export interface EvidenceBindings {
  nonce?: string;
  publicKey?: string;
  userData?: string;
  reportData?: string;
}

/**
 * What a verifier established about one document, in one shape for every kind. Produced only after the signature
 * and the chain to a pinned root verified at the given instant; the policy is applied to it afterwards.
 */
export interface VerifiedEvidence {
  kind: EvidenceKind;
  /** Lowercase hex, by name: `PCR0`..`PCR15` (Nitro), `MEASUREMENT`, `HOST_DATA`... (SNP), `MRTD`, `RTMR0`.. (TDX). */
  measurements: Record<string, string>;
  /** True when the TEE runs in a mode that lets the host inspect it (Nitro debug, SNP policy DEBUG, TD DEBUG). */
  debug: boolean;
  bindings: EvidenceBindings;
  /** A vendor TCB status (`UpToDate`, `OutOfDate`...) where the format or its collateral gives one. */
  tcbStatus?: string;
  /** When the evidence was produced, where the format says (Nitro `timestamp`). */
  issuedAt?: Date;
  /** SHA-256 hex of the pinned root certificate's DER the chain ended at. */
  rootFingerprint: string;
  /** Format-specific facts worth logging (module id, chip id, TCB versions...). */
  details?: Record<string, unknown>;
}

/** What a verifier is told besides the documents. */
export interface VerifierContext {
  now: Date;
  /** Root fingerprints (SHA-256 hex of DER) this verification may end at. */
  trustedRoots: readonly string[];
}

/** One verifier per evidence kind: checks signature and chain, and normalizes. Throws `AttestationError`. */
export type EvidenceVerifier = (documents: Record<string, Uint8Array>, ctx: VerifierContext) => Promise<VerifiedEvidence> | VerifiedEvidence;

/** A named set of measurement values; evidence matches it when every named value is equal. */
const MeasurementSet = z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), hex);

/**
 * What the API demands of evidence. One per deployment (production / development), narrowed per listing.
 *
 * - `kinds`: the evidence kinds accepted (a GPU report counts as `nvidia-gpu`);
 * - `modes`: the worker modes accepted; `confidential-gpu` needs `tdx` or `sev-snp` evidence *with* a GPU report,
 *   `nitro` needs `nitro` (or `dev`) evidence;
 * - `measurements`: per kind, the allowed measurement sets; evidence of a kind listed here must match one set
 *   (absent kind: no measurement constraint, only sensible in development);
 * - `production`: debug-mode evidence is always refused; `dev` evidence and development roots are refused;
 * - `tcbStatuses`: accepted TCB statuses, applied where the evidence carries one;
 * - `maxAgeSeconds`: how old evidence (`issuedAt`) may be;
 * - `extraRoots`: extra root fingerprints per kind (the development root; refused in production).
 *
 * @example
 * ```ts
 * const policy = AttestationPolicy.parse({
 *   production: true, kinds: ['nitro'], modes: ['nitro'], maxAgeSeconds: 300,
 *   measurements: { nitro: [{ PCR0: '…', PCR1: '…', PCR2: '…' }] }, tcbStatuses: ['UpToDate'],
 * });
 * ```
 */
export const AttestationPolicy = z
  .strictObject({
    production: z.boolean(),
    kinds: z.array(EvidenceKind).min(1),
    modes: z.array(WorkerMode).min(1),
    measurements: z.partialRecord(EvidenceKind, z.array(MeasurementSet)).default({}),
    tcbStatuses: z.array(z.string().min(1)).default(['UpToDate']),
    maxAgeSeconds: z.number().int().positive().max(86_400),
    extraRoots: z.partialRecord(EvidenceKind, z.array(sha256Hex)).default({}),
  })
  .refine((p) => !p.production || (!p.kinds.includes('dev') && Object.keys(p.extraRoots).length === 0), {
    message: 'a production policy accepts neither dev evidence nor extra roots',
    path: ['production'],
  })
  .refine((p) => !p.production || p.kinds.every((k) => k === 'nvidia-gpu' || (p.measurements[k]?.length ?? 0) > 0), {
    message: 'a production policy lists allowed measurements for every CPU TEE kind it accepts',
    path: ['measurements'],
  });
/** An attestation policy (parsed). */
export type AttestationPolicy = z.infer<typeof AttestationPolicy>;

/**
 * What a worker posts to `POST /v1/jobs/{jobId}/attestations`: its evidence, the public key the evidence binds
 * (uncompressed secp256k1, 0x04…: the key that signs its key requests and usage reports; its address is what the
 * AttestationRegistry approves), and the nonce the API issued for the job.
 */
export const AttestWorkerInput = z.strictObject({
  evidence: EvidenceBundle,
  workerPublicKey: z.string().regex(/^0x04[0-9a-fA-F]{128}$/, 'must be an uncompressed secp256k1 public key (0x04 + 128 hex digits)'),
  nonce: z.string().regex(/^[0-9a-f]{64}$/, 'must be the 32-byte nonce the API issued, lowercase hex'),
});
/** An attestation request. */
export type AttestWorkerInput = z.infer<typeof AttestWorkerInput>;
