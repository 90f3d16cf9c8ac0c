/**
 * Intel TDX quote verification (quote v4 and v5, ECDSA P-256 attestation key, QE report certification data with
 * an embedded PCK chain), pure: the clock and Intel PCS collateral are arguments, nothing is fetched.
 *
 * Why not `@phala/dcap-qvl` (a pure-JS port of Phala's Rust DCAP verifier, 0.x): it is not installed here; it
 * reports one verdict string where each of our refusals owes a stable error code; its convenience path fetches
 * collateral from Phala's PCCS while ours must take collateral as an argument; and it would bring a second X.509
 * and ECDSA stack into the key-release path. The parts here are small and each is tested against Intel's real quote
 * and collateral: node:crypto (OpenSSL) for every signature and certificate, a small DER reader (`tdxDer.ts`) for
 * CRLs and the PCK certificate's SGX extension (see there why not @peculiar/x509). Revisit if that package matures:
 * running both on the same fixtures would be a cheap cross-check.
 *
 * @example
 * ```ts
 * const v = await verifyTdxQuote(quoteBytes, { now: new Date(), collateral });
 * // then the policy: refuse v.debug, accept v.tcbStatus in its list, compare v.measurements.mrtd, v.reportData
 * ```
 */
import { createHash, createPublicKey, verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { ProvenaError } from '../errors.js';
import { expectedTdxModule, matchQeTcbLevel, matchTdxTcbLevel, TdxQeIdentitySchema, TdxTcbInfoSchema, verifySignedCollateral, type TdxQeIdentity, type TdxTcbInfo } from './tdxCollateral.js';
import { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from './tdxIntelRoot.js';
import { readPckPlatform } from './tdxPck.js';
import { parseTdxQuote, type ParsedTdxQuote } from './tdxQuote.js';
import { certFingerprint, checkCrl, parseCert, parsePemChain, verifyCertChain } from './tdxX509.js';
import type { EvidenceVerifier, VerifiedEvidence } from './types.js';

const INTEL_ROOT = parseCert(INTEL_SGX_ROOT_CA_PEM, 'pinned Intel SGX Root CA');
if (certFingerprint(INTEL_ROOT) !== INTEL_SGX_ROOT_CA_SHA256) throw new Error('The embedded Intel SGX Root CA does not match its pinned fingerprint');

/**
 * The `tcbStatus` reported when the platform's SVNs are below every level of the TCB info (Intel's library calls
 * it "TCB not supported"). Not an Intel status string, so no policy accepts it by accident.
 */
export const TDX_TCB_LEVEL_NOT_FOUND = 'TcbLevelNotFound';

/** Intel PCS collateral for one quote, as fetched (bodies verbatim: their signatures cover the exact bytes). */
export interface TdxCollateral {
  /** Body of `GET /tdx/certification/v4/tcb?fmspc=…`: `{"tcbInfo":{…},"signature":"…"}`. */
  tcbInfo: string;
  /** PEM of its `TCB-Info-Issuer-Chain` header (URL-decoded), signer first. */
  tcbInfoIssuerChain: string;
  /** Body of `GET /tdx/certification/v4/qe/identity`: `{"enclaveIdentity":{…},"signature":"…"}`. */
  qeIdentity: string;
  /** PEM of its `SGX-Enclave-Identity-Issuer-Chain` header. */
  qeIdentityIssuerChain: string;
  /** PCK CRL (DER or PEM) of the CA that issued the quote's PCK certificate. */
  pckCrl: Uint8Array | string;
  /** Intel SGX Root CA CRL (DER or PEM). */
  rootCaCrl: Uint8Array | string;
}

/** Options of {@link verifyTdxQuote}. */
export interface VerifyTdxQuoteOptions {
  /** The instant at which certificates, CRLs and collateral must be valid. */
  now: Date;
  collateral: TdxCollateral;
  /** Trusted roots (PEM or DER). Defaults to the pinned Intel SGX Root CA; tests pass a generated one. */
  roots?: readonly (string | Uint8Array)[];
}

/** TD measurements, lowercase hex. */
export interface TdxMeasurements {
  mrtd: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
  rtmr3: string;
  mrseam: string;
  mrsignerseam: string;
  mrconfigid: string;
  mrowner: string;
  mrownerconfig: string;
  tdattributes: string;
  xfam: string;
  /** TDX 1.5 bodies only. */
  mrservicetd?: string;
}

/** What a verified TDX quote establishes. */
export interface TdxVerification {
  kind: 'tdx';
  quoteVersion: 4 | 5;
  /** TDX 1.0 (584-byte body) or 1.5 (648-byte body). */
  tdxVersion: '1.0' | '1.5';
  measurements: TdxMeasurements;
  /** TDATTRIBUTES bit 0: the TD is debuggable (the host can read its memory). */
  debug: boolean;
  /** REPORTDATA, 64 bytes, lowercase hex: where the TD binds its key and nonce. */
  reportData: string;
  /**
   * Platform TCB status from the TCB info (UpToDate, SWHardeningNeeded, ConfigurationNeeded, OutOfDate…), or
   * {@link TDX_TCB_LEVEL_NOT_FOUND}.
   */
  tcbStatus: string;
  tcbDate: string;
  advisoryIds: string[];
  /** The Quoting Enclave's TCB status from the QE identity. */
  qeTcbStatus: string;
  /** The TDX module's own TCB status (module major version >= 1, from `tdxModuleIdentities`). */
  tdxModuleTcbStatus?: string;
  /** 6 bytes, lowercase hex, from the PCK certificate. */
  fmspc: string;
  /** TEE_TCB_SVN, lowercase hex. */
  teeTcbSvn: string;
  /** sha256 hex of the pinned root's DER the PCK chain ended at. */
  rootFingerprint: string;
}

/**
 * Verifies a TDX quote against Intel PCS collateral at `now`. Each refusal throws a {@link ProvenaError}:
 * ATTESTATION_MALFORMED, ATTESTATION_ALGORITHM_UNSUPPORTED, ATTESTATION_ROOT_UNTRUSTED, ATTESTATION_CHAIN_INVALID,
 * ATTESTATION_CERT_EXPIRED, ATTESTATION_CERT_NOT_YET_VALID, ATTESTATION_CERT_REVOKED, ATTESTATION_SIGNATURE_INVALID,
 * ATTESTATION_QE_BINDING_INVALID, ATTESTATION_COLLATERAL_INVALID, ATTESTATION_COLLATERAL_EXPIRED,
 * ATTESTATION_QE_IDENTITY_MISMATCH, ATTESTATION_MEASUREMENT_UNEXPECTED (TDX module signer), ATTESTATION_TCB_REFUSED
 * (a Revoked platform or QE level, or a QE below every level). Debug TDs and TCB statuses other than Revoked are reported, not refused:
 * that is the policy's call.
 */
export async function verifyTdxQuote(quote: Uint8Array, opts: VerifyTdxQuoteOptions): Promise<TdxVerification> {
  const { now, collateral } = opts;
  const roots = opts.roots === undefined ? [INTEL_ROOT] : opts.roots.map((r, i) => parseCert(r, `root ${i}`));
  const q = parseTdxQuote(quote);

  // 1. PCK chain to a pinned root, valid now, nothing revoked.
  const chain = verifyCertChain(parsePemChain(q.pckChainPem), { roots, now, label: 'PCK chain' });
  const pck = chain.certs[0]!;
  const pckIssuer = chain.certs[1]!;
  checkCrl(collateral.rootCaCrl, chain.root, chain.certs.slice(1, -1), now, 'root CA CRL');
  checkCrl(collateral.pckCrl, pckIssuer, [pck], now, 'PCK CRL');

  // 2. QE report signed by the PCK key, and binding the attestation key.
  verifyP256(pck.publicKey, q.qeReport.raw, q.qeReportSignature, 'QE report');
  checkQeBinding(q);

  // 3. Quote signed by the attestation key.
  verifyP256(attestationPublicKey(q.attestationKey), q.signedRegion, q.signature, 'quote');

  // 4. Collateral, signed under the same roots.
  const signedTcbInfo = verifySignedCollateral(collateral.tcbInfo, 'tcbInfo', collateral.tcbInfoIssuerChain, TdxTcbInfoSchema, { roots, now });
  const signedQeId = verifySignedCollateral(collateral.qeIdentity, 'enclaveIdentity', collateral.qeIdentityIssuerChain, TdxQeIdentitySchema, { roots, now });
  for (const s of [signedTcbInfo, signedQeId]) checkCrl(collateral.rootCaCrl, s.root, [s.signer], now, 'root CA CRL');
  const tcbInfo = signedTcbInfo.value;
  const qeId = signedQeId.value;

  // 5. The QE is Intel's TD quoting enclave, at a known TCB level.
  const qeTcbStatus = checkQeIdentity(q, qeId);

  // 6. The platform's TCB level.
  const platform = readPckPlatform(pck);
  if (platform.fmspc !== tcbInfo.fmspc.toLowerCase() || platform.pceId !== tcbInfo.pceId.toLowerCase()) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The TCB info is for FMSPC ${tcbInfo.fmspc}/PCE ${tcbInfo.pceId}, the PCK certificate says ${platform.fmspc}/${platform.pceId}`);
  }
  const tdxModuleTcbStatus = checkTdxModule(q, tcbInfo);
  // Below every level: Intel's library answers "TCB not supported"; we report it as a status no policy lists, so
  // the refusal is the policy's (with the facts still returned to the caller and its logs).
  const level = matchTdxTcbLevel(tcbInfo, platform, q.body.teeTcbSvn) ?? { tcbStatus: TDX_TCB_LEVEL_NOT_FOUND, tcbDate: '', advisoryIds: [] };
  if (level.tcbStatus === 'Revoked') throw new ProvenaError('ATTESTATION_TCB_REFUSED', 'The platform TCB level is revoked', { details: { tcbDate: level.tcbDate } });

  return {
    kind: 'tdx',
    quoteVersion: q.version,
    tdxVersion: q.body.mrServiceTd === undefined ? '1.0' : '1.5',
    measurements: measurementsOf(q),
    debug: (q.body.tdAttributes[0]! & 0x01) === 1,
    reportData: q.body.reportData.toString('hex'),
    tcbStatus: level.tcbStatus,
    tcbDate: level.tcbDate,
    advisoryIds: level.advisoryIds,
    qeTcbStatus,
    ...(tdxModuleTcbStatus === undefined ? {} : { tdxModuleTcbStatus }),
    fmspc: platform.fmspc,
    teeTcbSvn: q.body.teeTcbSvn.toString('hex'),
    rootFingerprint: chain.rootFingerprint,
  };
}

function measurementsOf(q: ParsedTdxQuote): TdxMeasurements {
  const b = q.body;
  return {
    mrtd: b.mrTd.toString('hex'),
    rtmr0: b.rtmr[0].toString('hex'),
    rtmr1: b.rtmr[1].toString('hex'),
    rtmr2: b.rtmr[2].toString('hex'),
    rtmr3: b.rtmr[3].toString('hex'),
    mrseam: b.mrSeam.toString('hex'),
    mrsignerseam: b.mrSignerSeam.toString('hex'),
    mrconfigid: b.mrConfigId.toString('hex'),
    mrowner: b.mrOwner.toString('hex'),
    mrownerconfig: b.mrOwnerConfig.toString('hex'),
    tdattributes: b.tdAttributes.toString('hex'),
    xfam: b.xfam.toString('hex'),
    ...(b.mrServiceTd === undefined ? {} : { mrservicetd: b.mrServiceTd.toString('hex') }),
  };
}

/** The attestation key is a raw P-256 point x||y; wrap it as an uncompressed-point JWK. */
function attestationPublicKey(raw: Buffer) {
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(0, 32).toString('base64url'), y: raw.subarray(32, 64).toString('base64url') }, format: 'jwk' });
}

function verifyP256(key: X509Certificate['publicKey'], data: Buffer, sig: Buffer, what: string): void {
  let ok = false;
  try {
    ok = cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) throw new ProvenaError('ATTESTATION_SIGNATURE_INVALID', `The ${what} signature does not verify`, { details: { signed: what } });
}

/** QE REPORTDATA = sha256(attestation key || QE authentication data) || 32 zero bytes. */
function checkQeBinding(q: ParsedTdxQuote): void {
  const expected = createHash('sha256').update(q.attestationKey).update(q.qeAuthData).digest();
  const rd = q.qeReport.reportData;
  if (!rd.subarray(0, 32).equals(expected) || rd.subarray(32).some((x) => x !== 0)) {
    throw new ProvenaError('ATTESTATION_QE_BINDING_INVALID', 'The QE report does not bind the attestation key');
  }
}

function maskedEqual(actual: Buffer, expectedHex: string, maskHex: string): boolean {
  const exp = Buffer.from(expectedHex, 'hex');
  const mask = Buffer.from(maskHex, 'hex');
  if (actual.length !== mask.length || exp.length !== mask.length) return false;
  return mask.every((m, i) => ((actual[i]! & m) === (exp[i]! & m)));
}

function checkQeIdentity(q: ParsedTdxQuote, id: TdxQeIdentity): string {
  const r = q.qeReport;
  const misc = Buffer.alloc(4);
  misc.writeUInt32LE(r.miscSelect);
  // Intel writes miscselect as big-endian hex of the 32-bit value.
  const miscBe = Buffer.from(misc).reverse();
  const problems: string[] = [];
  if (r.mrSigner.toString('hex') !== id.mrsigner.toLowerCase()) problems.push('MRSIGNER');
  if (r.isvProdId !== id.isvprodid) problems.push('ISVPRODID');
  if (!maskedEqual(miscBe, id.miscselect, id.miscselectMask)) problems.push('MISCSELECT');
  if (!maskedEqual(r.attributes, id.attributes, id.attributesMask)) problems.push('ATTRIBUTES');
  if (problems.length > 0) {
    throw new ProvenaError('ATTESTATION_QE_IDENTITY_MISMATCH', `The quoting enclave is not Intel's TD QE (${problems.join(', ')} differ)`, { details: { fields: problems } });
  }
  const level = matchQeTcbLevel(id, r.isvSvn);
  if (level === undefined || level.tcbStatus === 'Revoked') {
    throw new ProvenaError('ATTESTATION_TCB_REFUSED', `The quoting enclave's ISVSVN ${r.isvSvn} is ${level === undefined ? 'below every level' : 'revoked'}`);
  }
  return level.tcbStatus;
}

function checkTdxModule(q: ParsedTdxQuote, info: TdxTcbInfo): string | undefined {
  const expected = expectedTdxModule(info, q.body.teeTcbSvn);
  if (expected === undefined) {
    throw new ProvenaError('ATTESTATION_TCB_REFUSED', `No TDX module identity or level in the TCB info matches TEE_TCB_SVN ${q.body.teeTcbSvn.subarray(0, 2).toString('hex')}`);
  }
  if (q.body.mrSignerSeam.toString('hex') !== expected.mrsigner.toLowerCase() || !maskedEqual(q.body.seamAttributes, expected.attributes, expected.attributesMask)) {
    throw new ProvenaError('ATTESTATION_MEASUREMENT_UNEXPECTED', 'The TDX module signer or attributes differ from the TCB info');
  }
  if (expected.tcbStatus === 'Revoked') throw new ProvenaError('ATTESTATION_TCB_REFUSED', 'The TDX module TCB level is revoked');
  return expected.tcbStatus;
}

/** The names under which a `tdx` bundle carries its quote and Intel PCS collateral (all base64 of the bytes). */
export const TDX_DOCUMENTS = ['quote', 'tcbInfo', 'tcbInfoIssuerChain', 'qeIdentity', 'qeIdentityIssuerChain', 'pckCrl', 'rootCaCrl'] as const;

/**
 * The roots a verification may end at, as certificates: the pinned Intel root and any certificate the evidence
 * itself carries, each kept only if its DER fingerprint is in `trusted`. Trust is by fingerprint, so taking a
 * trusted root's bytes from the evidence (a test or development root in `extraRoots`) trusts nothing more.
 */
export function rootsByFingerprint(trusted: readonly string[], pinned: readonly X509Certificate[], carried: readonly X509Certificate[]): X509Certificate[] {
  const want = new Set(trusted.map((f) => f.toLowerCase()));
  const out = new Map<string, X509Certificate>();
  for (const c of [...pinned, ...carried]) {
    const f = certFingerprint(c);
    if (want.has(f)) out.set(f, c);
  }
  return [...out.values()];
}

function pemChainOrEmpty(pem: string): X509Certificate[] {
  try {
    return parsePemChain(pem);
  } catch {
    return [];
  }
}

/**
 * The {@link EvidenceVerifier} for `tdx` bundles: documents {@link TDX_DOCUMENTS}. Verifies the quote with
 * {@link verifyTdxQuote} against the collateral the worker fetched from Intel PCS (its signatures chain to the same
 * pinned root, so the worker cannot forge it; stale collateral is refused) and normalizes the result: measurements
 * in upper case (`MRTD`, `RTMR0`…), `reportData` for the binding rule, the platform TCB status for the policy.
 */
export const tdxVerifier: EvidenceVerifier = async (documents, ctx) => {
  const missing = TDX_DOCUMENTS.filter((n) => documents[n] === undefined);
  if (missing.length > 0) throw new ProvenaError('ATTESTATION_MALFORMED', `tdx evidence needs ${missing.join(', ')}`, { details: { missing } });
  const text = (n: (typeof TDX_DOCUMENTS)[number]): string => Buffer.from(documents[n]!).toString('utf8');
  const collateral: TdxCollateral = {
    tcbInfo: text('tcbInfo'),
    tcbInfoIssuerChain: text('tcbInfoIssuerChain'),
    qeIdentity: text('qeIdentity'),
    qeIdentityIssuerChain: text('qeIdentityIssuerChain'),
    pckCrl: documents['pckCrl']!,
    rootCaCrl: documents['rootCaCrl']!,
  };
  const quote = documents['quote']!;
  const carried = [...pemChainOrEmpty(parseTdxQuote(quote).pckChainPem), ...pemChainOrEmpty(collateral.tcbInfoIssuerChain), ...pemChainOrEmpty(collateral.qeIdentityIssuerChain)];
  const roots = rootsByFingerprint(ctx.trustedRoots, [INTEL_ROOT], carried);
  if (roots.length === 0) throw new ProvenaError('ATTESTATION_ROOT_UNTRUSTED', 'No root this policy trusts is pinned for tdx evidence');
  const v = await verifyTdxQuote(quote, { now: ctx.now, collateral, roots: roots.map((r) => r.raw) });
  return {
    kind: 'tdx',
    measurements: Object.fromEntries(Object.entries(v.measurements).map(([k, val]) => [k.toUpperCase(), val])),
    debug: v.debug,
    bindings: { reportData: v.reportData },
    tcbStatus: v.tcbStatus,
    rootFingerprint: v.rootFingerprint,
    details: { quoteVersion: v.quoteVersion, tdxVersion: v.tdxVersion, tcbDate: v.tcbDate, advisoryIds: v.advisoryIds, qeTcbStatus: v.qeTcbStatus, tdxModuleTcbStatus: v.tdxModuleTcbStatus, fmspc: v.fmspc, teeTcbSvn: v.teeTcbSvn },
  } satisfies VerifiedEvidence;
};
