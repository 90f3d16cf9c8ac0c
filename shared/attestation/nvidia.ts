/**
 * NVIDIA GPU attestation report verification (Hopper, SPDM 1.1 GET_MEASUREMENTS), pure: the clock, the device
 * certificate chain and the reference manifests are arguments.
 *
 * What is signed, as NVIDIA's local GPU verifier checks it: the report is the GET_MEASUREMENTS request (37 bytes:
 * version, code 0xE0, param1, param2, 32-byte requester nonce, slot) followed by the MEASUREMENTS response; the last
 * 96 bytes are an ECDSA P-384 signature (r||s) over SHA-384 of everything before them, by the key of the device
 * chain's leaf (the GSP FMC certificate).
 *
 * @example
 * ```ts
 * const v = verifyNvidiaGpuReport(reportBytes, { now: new Date(), certChainPem, expectedNonce: nonceHex, rims });
 * ```
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { ProvenaError } from '../errors.js';
import { NVIDIA_DEVICE_ROOT_PEM, NVIDIA_DEVICE_ROOT_SHA256 } from './nvidiaDeviceRoot.js';
import type { NvidiaRim } from './nvidiaRim.js';
import { rootsByFingerprint } from './tdx.js';
import { certFingerprint, parseCert, parsePemChain, verifyCertChain } from './tdxX509.js';
import type { EvidenceVerifier, VerifiedEvidence } from './types.js';

const NVIDIA_ROOT = parseCert(NVIDIA_DEVICE_ROOT_PEM, 'pinned NVIDIA Device Identity CA');
if (certFingerprint(NVIDIA_ROOT) !== NVIDIA_DEVICE_ROOT_SHA256) throw new Error('The embedded NVIDIA root does not match its pinned fingerprint');

const REQUEST_SIZE = 37;
const SIGNATURE_SIZE = 96;
const SPDM_GET_MEASUREMENTS = 0xe0;
const SPDM_MEASUREMENTS = 0x60;

/** Opaque-data field ids (NVIDIA's local GPU verifier numbering). */
export const NVIDIA_OPAQUE = { DRIVER_VERSION: 3, VBIOS_VERSION: 6, FEATURE_FLAG: 36 } as const;

/** Options of {@link verifyNvidiaGpuReport}. */
export interface VerifyNvidiaGpuReportOptions {
  now: Date;
  /** The device certificate chain, PEM, leaf first (from `nvmlDeviceGetConfComputeGpuCertificate`). */
  certChainPem: string;
  /** The nonce the verifier issued, hex; when given, the request's nonce must equal it. */
  expectedNonce?: string;
  /** Driver and VBIOS RIMs; when given, every active reference index must match. */
  rims?: readonly NvidiaRim[];
  /** Trusted roots (PEM or DER); defaults to the pinned NVIDIA Device Identity CA. */
  roots?: readonly (string | Uint8Array)[];
  /** Refuse (ATTESTATION_GPU_CC_OFF) a report without the signed CC feature flag. Default false: Hopper firmware before the flag existed does not carry it. */
  requireCcFeatureFlag?: boolean;
}

/** Multi-GPU CC mode from the signed feature flag: single GPU, multi-GPU passthrough, protected PCIe. */
export type NvidiaCcMode = 'spt' | 'mpt' | 'ppcie';

/** What a verified GPU report establishes. */
export interface NvidiaGpuVerification {
  kind: 'nvidia-gpu';
  /** Measurement block index (1-based, as in SPDM) → lowercase hex value. */
  measurements: Record<number, string>;
  /** The requester's nonce from the signed request, lowercase hex (32 bytes): the binding. */
  nonce: string;
  /**
   * Always false: the SPDM report carries no debug flag. A debug or development firmware shows up as measurements
   * that no production RIM lists, which `rims` refuses.
   */
  debug: boolean;
  driverVersion: string | undefined;
  vbiosVersion: string | undefined;
  /** From the signed opaque feature flag when present; undefined on firmware that does not report it. */
  ccMode: NvidiaCcMode | undefined;
  /** Whether measurements were compared with RIMs (false when `rims` was not given). */
  rimChecked: boolean;
  /** sha256 hex of the pinned root's DER. */
  rootFingerprint: string;
}

interface ParsedReport {
  nonce: Buffer;
  measurements: Map<number, Buffer>;
  opaque: Map<number, Buffer>;
  signed: Buffer;
  signature: Buffer;
}

/** Parses request + response. Throws ATTESTATION_MALFORMED. */
export function parseNvidiaReport(report: Uint8Array): ParsedReport {
  const b = Buffer.from(report.buffer, report.byteOffset, report.byteLength);
  const bad = (why: string) => new ProvenaError('ATTESTATION_MALFORMED', `GPU report: ${why}`);
  if (b.length < REQUEST_SIZE + 42 + SIGNATURE_SIZE) throw bad('too short');
  // SPDM 1.1 and 1.2 share this layout; 1.3 adds a requester context to both messages.
  if (b[0] !== 0x11 && b[0] !== 0x12) throw bad(`SPDM version 0x${b[0]!.toString(16)} is not 1.1 or 1.2`);
  if (b[1] !== SPDM_GET_MEASUREMENTS) throw bad(`request code 0x${b[1]!.toString(16)} is not GET_MEASUREMENTS`);
  if ((b[2]! & 0x01) === 0) throw bad('the request did not ask for a signature');
  const nonce = b.subarray(4, 36);
  const r = b.subarray(REQUEST_SIZE);
  if (r[1] !== SPDM_MEASUREMENTS) throw bad(`response code 0x${r[1]!.toString(16)} is not MEASUREMENTS`);
  if (r[0] !== b[0]) throw bad('request and response SPDM versions differ');
  const blocks = r[4]!;
  const recordLen = r.readUIntLE(5, 3);
  const recordEnd = 8 + recordLen;
  if (recordEnd + 32 + 2 > r.length) throw bad('measurement record overruns the response');
  const measurements = new Map<number, Buffer>();
  let p = 8;
  for (let i = 0; i < blocks; i++) {
    if (p + 4 > recordEnd) throw bad(`block ${i} header overruns the record`);
    const index = r[p]!;
    const spec = r[p + 1]!;
    const size = r.readUInt16LE(p + 2);
    if (spec !== 1) throw bad(`block ${index} is not a DMTF measurement`);
    if (p + 4 + size > recordEnd || size < 3) throw bad(`block ${index} overruns the record`);
    const valueSize = r.readUInt16LE(p + 5);
    if (3 + valueSize !== size) throw bad(`block ${index} value size ${valueSize} disagrees with block size ${size}`);
    if (measurements.has(index)) throw bad(`block ${index} appears twice`);
    measurements.set(index, r.subarray(p + 7, p + 7 + valueSize));
    p += 4 + size;
  }
  if (p !== recordEnd) throw bad('measurement record length disagrees with its blocks');
  const opaqueLen = r.readUInt16LE(recordEnd + 32);
  const opaqueStart = recordEnd + 34;
  if (opaqueStart + opaqueLen + SIGNATURE_SIZE !== r.length) throw bad('opaque data and signature do not end the report');
  const opaque = new Map<number, Buffer>();
  const od = r.subarray(opaqueStart, opaqueStart + opaqueLen);
  for (let q = 0; q < od.length; ) {
    if (q + 4 > od.length) throw bad('opaque field header overruns');
    const type = od.readUInt16LE(q);
    const size = od.readUInt16LE(q + 2);
    if (q + 4 + size > od.length) throw bad(`opaque field ${type} overruns`);
    opaque.set(type, od.subarray(q + 4, q + 4 + size));
    q += 4 + size;
  }
  return { nonce, measurements, opaque, signed: b.subarray(0, b.length - SIGNATURE_SIZE), signature: b.subarray(b.length - SIGNATURE_SIZE) };
}

/**
 * Verifies a GPU attestation report at `now`. Throws {@link ProvenaError}: ATTESTATION_MALFORMED,
 * ATTESTATION_ROOT_UNTRUSTED, ATTESTATION_CHAIN_INVALID, ATTESTATION_CERT_EXPIRED, ATTESTATION_CERT_NOT_YET_VALID,
 * ATTESTATION_ALGORITHM_UNSUPPORTED (leaf key not P-384), ATTESTATION_SIGNATURE_INVALID, ATTESTATION_NONCE_MISMATCH,
 * ATTESTATION_MEASUREMENT_UNEXPECTED (a RIM for another driver/VBIOS version, or a value no RIM allows),
 * ATTESTATION_RIM_INVALID (two RIMs claim one index), ATTESTATION_GPU_CC_OFF.
 */
export function verifyNvidiaGpuReport(report: Uint8Array, opts: VerifyNvidiaGpuReportOptions): NvidiaGpuVerification {
  const roots = opts.roots === undefined ? [NVIDIA_ROOT] : opts.roots.map((r, i) => parseCert(r, `root ${i}`));
  const parsed = parseNvidiaReport(report);
  const chain = verifyCertChain(parsePemChain(opts.certChainPem), { roots, now: opts.now, label: 'GPU device chain' });
  const leafKey = chain.certs[0]!.publicKey;
  if (leafKey.asymmetricKeyType !== 'ec' || leafKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    throw new ProvenaError('ATTESTATION_ALGORITHM_UNSUPPORTED', 'The GPU leaf key is not ECDSA P-384');
  }
  let ok = false;
  try {
    ok = cryptoVerify('sha384', parsed.signed, { key: leafKey, dsaEncoding: 'ieee-p1363' }, parsed.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new ProvenaError('ATTESTATION_SIGNATURE_INVALID', 'The GPU report signature does not verify under the device leaf');

  const nonce = parsed.nonce.toString('hex');
  if (opts.expectedNonce !== undefined && opts.expectedNonce.toLowerCase() !== nonce) {
    throw new ProvenaError('ATTESTATION_NONCE_MISMATCH', 'The GPU report answers another nonce');
  }
  const driverVersion = cString(parsed.opaque.get(NVIDIA_OPAQUE.DRIVER_VERSION));
  const vbiosVersion = formatVbiosVersion(parsed.opaque.get(NVIDIA_OPAQUE.VBIOS_VERSION));
  const flag = parsed.opaque.get(NVIDIA_OPAQUE.FEATURE_FLAG)?.[0];
  const ccMode: NvidiaCcMode | undefined = flag === 0 ? 'spt' : flag === 1 ? 'mpt' : flag === 2 ? 'ppcie' : undefined;
  if (opts.requireCcFeatureFlag === true && ccMode === undefined) {
    throw new ProvenaError('ATTESTATION_GPU_CC_OFF', 'The GPU report carries no confidential-computing feature flag');
  }
  if (opts.rims !== undefined) checkRims(parsed.measurements, opts.rims, driverVersion, vbiosVersion);

  const measurements: Record<number, string> = {};
  for (const [i, v] of parsed.measurements) measurements[i] = v.toString('hex');
  return {
    kind: 'nvidia-gpu',
    measurements,
    nonce,
    debug: false,
    driverVersion,
    vbiosVersion,
    ccMode,
    rimChecked: opts.rims !== undefined,
    rootFingerprint: chain.rootFingerprint,
  };
}

function cString(b: Buffer | undefined): string | undefined {
  if (b === undefined) return undefined;
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('latin1');
}

/** VBIOS version bytes (little-endian u64) → "96.00.9f.00.01", the form RIMs use. */
export function formatVbiosVersion(b: Buffer | undefined): string | undefined {
  if (b === undefined || b.length !== 8) return undefined;
  const h = Buffer.from(b).reverse().toString('hex');
  return [h.slice(8, 10), h.slice(10, 12), h.slice(12, 14), h.slice(14, 16), h.slice(6, 8)].join('.');
}

/**
 * As NVIDIA's verifier: the RIMs must be for this driver/VBIOS version; RIM index i is SPDM block i + 1; each active
 * index must be present and equal to one of its alternatives.
 */
function checkRims(measurements: Map<number, Buffer>, rims: readonly NvidiaRim[], driver: string | undefined, vbios: string | undefined): void {
  const reported = [driver?.toLowerCase(), vbios?.toLowerCase()];
  const wrongVersion = rims.filter((r) => !reported.includes(r.version)).map((r) => r.version);
  if (wrongVersion.length > 0) {
    throw new ProvenaError('ATTESTATION_MEASUREMENT_UNEXPECTED', `RIM version ${wrongVersion.join(', ')} is not the GPU's driver ${driver} or VBIOS ${vbios}`, {
      details: { reason: 'rim-version', rims: wrongVersion, driverVersion: driver, vbiosVersion: vbios },
    });
  }
  const golden = new Map<number, string[]>();
  for (const rim of rims) {
    for (const [i, values] of rim.golden) {
      if (golden.has(i)) throw new ProvenaError('ATTESTATION_RIM_INVALID', `Two RIMs claim measurement index ${i}`);
      golden.set(i, values);
    }
  }
  const mismatched: number[] = [];
  for (const [i, values] of golden) {
    const actual = measurements.get(i + 1)?.toString('hex');
    if (actual === undefined || !values.includes(actual)) mismatched.push(i + 1);
  }
  if (mismatched.length > 0) {
    throw new ProvenaError('ATTESTATION_MEASUREMENT_UNEXPECTED', `GPU measurements ${mismatched.join(', ')} match no reference value`, {
      details: { reason: 'measurement', indexes: mismatched },
    });
  }
}

/**
 * The {@link EvidenceVerifier} for `nvidia-gpu` reports: documents `{report, certChain}` (the SPDM request and
 * response bytes; the device chain as PEM, leaf first). Normalized: measurements as `BLOCK_<index>` (SPDM block
 * index, 1-based), the request nonce as the binding (the first 32 bytes of SHA-512(key ‖ nonce)). The policy's
 * allowed measurement sets play the RIMs' role here; driver, VBIOS and CC mode go to `details`.
 */
export const nvidiaVerifier: EvidenceVerifier = (documents, ctx) => {
  const report = documents['report'];
  const chain = documents['certChain'];
  if (report === undefined || chain === undefined) throw new ProvenaError('ATTESTATION_MALFORMED', 'nvidia-gpu evidence needs a "report" and a "certChain"');
  const certChainPem = Buffer.from(chain).toString('utf8');
  let carried: X509Certificate[] = [];
  try {
    carried = parsePemChain(certChainPem);
  } catch {
    carried = [];
  }
  const roots = rootsByFingerprint(ctx.trustedRoots, [NVIDIA_ROOT], carried);
  if (roots.length === 0) throw new ProvenaError('ATTESTATION_ROOT_UNTRUSTED', 'No root this policy trusts is pinned for nvidia-gpu evidence');
  const v = verifyNvidiaGpuReport(report, { now: ctx.now, certChainPem, roots: roots.map((r) => r.raw) });
  return {
    kind: 'nvidia-gpu',
    measurements: Object.fromEntries(Object.entries(v.measurements).map(([i, hex]) => [`BLOCK_${i}`, hex])),
    debug: v.debug,
    bindings: { nonce: v.nonce },
    rootFingerprint: v.rootFingerprint,
    details: { driverVersion: v.driverVersion, vbiosVersion: v.vbiosVersion, ccMode: v.ccMode },
  } satisfies VerifiedEvidence;
};
