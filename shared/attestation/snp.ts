/**
 * AMD SEV-SNP attestation reports (SEV-SNP ABI spec 56860, Table 22 "ATTESTATION_REPORT"): 1,184 bytes, ECDSA
 * P-384 / SHA-384 over bytes 0x000-0x29F by the chip's VCEK; VCEK → ASK → ARK, ASK and VCEK signed with RSA-PSS
 * (SHA-384, MGF1-SHA-384, salt 48), the ARK pinned by fingerprint.
 *
 * Certificate signatures are checked with node:crypto `X509Certificate.verify` (OpenSSL reads the RSA-PSS
 * parameters from the certificate; `@peculiar/x509` would need a reflect polyfill and adds nothing here); the
 * PSS parameters themselves are checked in x509.ts so that no weaker PSS variant passes.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { AttestationError } from './errors.js';
import type { EvidenceVerifier, VerifiedEvidence, VerifierContext } from './types.js';
import { extensionValue, parseCert, verifyChain, type ParsedCert } from './x509.js';

/**
 * SHA-256 of the DER of AMD's ARK for Milan (CN=ARK-Milan, self-signed, valid 2020-10-22 to 2045-10-22), from
 * https://kdsintf.amd.com/vcek/v1/Milan/cert_chain. The fixture's ARK has this digest (snp.test.ts).
 */
export const AMD_ARK_MILAN_SHA256 = '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd';

/** Size of an attestation report (versions 2 and 3). */
export const SNP_REPORT_SIZE = 0x4a0;
/** The signed part of the report: bytes 0x000-0x29F. */
const SIGNED_LENGTH = 0x2a0;
/** Guest policy bit 19: the guest allows the hypervisor to debug it (read and write its memory). */
const POLICY_DEBUG_BIT = 1n << 19n;
const SIG_ALGO_ECDSA_P384_SHA384 = 1;

/** AMD's VCEK extensions (KDS spec 57230, "VCEK certificate extensions"). */
const OID = {
  blSPL: '1.3.6.1.4.1.3704.1.3.1',
  teeSPL: '1.3.6.1.4.1.3704.1.3.2',
  snpSPL: '1.3.6.1.4.1.3704.1.3.3',
  ucodeSPL: '1.3.6.1.4.1.3704.1.3.8',
  hwid: '1.3.6.1.4.1.3704.1.4',
} as const;

/** A TCB version as Milan/Genoa encode it in 8 bytes (little-endian fields). */
export interface SnpTcb {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

/** The fields of an attestation report this code uses. Binary fields are Buffers. */
export interface SnpReport {
  version: number;
  guestSvn: number;
  policy: bigint;
  familyId: Buffer;
  imageId: Buffer;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: SnpTcb;
  platformInfo: bigint;
  /** Bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 2-4 SIGNING_KEY (0 = VCEK, 1 = VLEK). */
  flags: number;
  reportData: Buffer;
  measurement: Buffer;
  hostData: Buffer;
  idKeyDigest: Buffer;
  authorKeyDigest: Buffer;
  reportId: Buffer;
  reportedTcb: SnpTcb;
  chipId: Buffer;
  committedTcb: SnpTcb;
  launchTcb: SnpTcb;
  /** Signature r and s, each 48 bytes big-endian (converted from the report's 72-byte little-endian fields). */
  r: Buffer;
  s: Buffer;
}

function tcbAt(b: Buffer, off: number): SnpTcb {
  return { bootloader: b[off]!, tee: b[off + 1]!, snp: b[off + 6]!, microcode: b[off + 7]! };
}

/** A 72-byte little-endian signature component as 48 bytes big-endian; the 24 high bytes must be zero. */
function sigComponent(b: Buffer, off: number): Buffer {
  const le = b.subarray(off, off + 72);
  if (!le.subarray(48).every((x) => x === 0)) throw new AttestationError('ATTESTATION_SIGNATURE_INVALID', 'signature component exceeds 384 bits');
  return Buffer.from(le.subarray(0, 48)).reverse();
}

/** Parses an attestation report. Errors: ATTESTATION_MALFORMED. */
export function parseSnpReport(bytes: Uint8Array): SnpReport {
  const b = Buffer.from(bytes);
  if (b.length !== SNP_REPORT_SIZE) throw new AttestationError('ATTESTATION_MALFORMED', `SEV-SNP report is ${b.length} bytes, expected ${SNP_REPORT_SIZE}`);
  const version = b.readUInt32LE(0x00);
  if (version !== 2 && version !== 3) throw new AttestationError('ATTESTATION_MALFORMED', `SEV-SNP report version ${version} is not 2 or 3`);
  return {
    version,
    guestSvn: b.readUInt32LE(0x04),
    policy: b.readBigUInt64LE(0x08),
    familyId: b.subarray(0x10, 0x20),
    imageId: b.subarray(0x20, 0x30),
    vmpl: b.readUInt32LE(0x30),
    signatureAlgo: b.readUInt32LE(0x34),
    currentTcb: tcbAt(b, 0x38),
    platformInfo: b.readBigUInt64LE(0x40),
    flags: b.readUInt32LE(0x48),
    reportData: b.subarray(0x50, 0x90),
    measurement: b.subarray(0x90, 0xc0),
    hostData: b.subarray(0xc0, 0xe0),
    idKeyDigest: b.subarray(0xe0, 0x110),
    authorKeyDigest: b.subarray(0x110, 0x140),
    reportId: b.subarray(0x140, 0x160),
    reportedTcb: tcbAt(b, 0x180),
    chipId: b.subarray(0x1a0, 0x1e0),
    committedTcb: tcbAt(b, 0x1e0),
    launchTcb: tcbAt(b, 0x1f0),
    r: sigComponent(b, 0x2a0),
    s: sigComponent(b, 0x2a0 + 72),
  };
}

/** Splits PEM text into DER certificates. */
export function pemCertificates(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((blk) => Buffer.from(blk.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64'));
}

/** A small DER INTEGER (the VCEK's SPL extensions) as a number. */
function derSmallInt(v: Buffer | undefined, what: string): number {
  if (v === undefined || v.length < 3 || v[0] !== 0x02 || v[1] !== v.length - 2 || v.length > 4) {
    throw new AttestationError('ATTESTATION_MALFORMED', `VCEK extension ${what} is missing or not a small INTEGER`);
  }
  return v.subarray(2).reduce((n, x) => n * 256 + x, 0);
}

function vcekTcb(vcek: ParsedCert): SnpTcb {
  return {
    bootloader: derSmallInt(extensionValue(vcek, OID.blSPL), 'blSPL'),
    tee: derSmallInt(extensionValue(vcek, OID.teeSPL), 'teeSPL'),
    snp: derSmallInt(extensionValue(vcek, OID.snpSPL), 'snpSPL'),
    microcode: derSmallInt(extensionValue(vcek, OID.ucodeSPL), 'ucodeSPL'),
  };
}

const tcbText = (t: SnpTcb): string => `bl=${t.bootloader} tee=${t.tee} snp=${t.snp} ucode=${t.microcode}`;

/**
 * Verifies an SEV-SNP report at `ctx.now`: report shape, VCEK → ASK → a root in `ctx.trustedRoots` (RSA-PSS
 * SHA-384, validity, CA constraints), the report's ECDSA P-384 signature under the VCEK, the VCEK's hardware id
 * against the report's chip id (unless masked), and the reported TCB against the TCB the VCEK was issued for (a
 * VCEK certifies exactly one TCB; a report claiming another was not signed by a key for that TCB).
 *
 * Errors: ATTESTATION_MALFORMED, ATTESTATION_ALGORITHM_UNSUPPORTED, ATTESTATION_ROOT_UNTRUSTED,
 * ATTESTATION_CHAIN_INVALID, ATTESTATION_CERT_EXPIRED, ATTESTATION_CERT_NOT_YET_VALID, ATTESTATION_SIGNATURE_INVALID,
 * ATTESTATION_TCB_REFUSED.
 */
export function verifySnpReport(input: { report: Uint8Array; vcek: Uint8Array; chain: readonly Uint8Array[] }, ctx: VerifierContext): VerifiedEvidence {
  const rawReport = Buffer.from(input.report);
  const report = parseSnpReport(rawReport);
  if (report.signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384) {
    throw new AttestationError('ATTESTATION_ALGORITHM_UNSUPPORTED', `SEV-SNP signature algorithm ${report.signatureAlgo} is not ECDSA P-384 SHA-384`);
  }
  const signingKey = (report.flags >> 2) & 0b111;
  if (signingKey !== 0) throw new AttestationError('ATTESTATION_ALGORITHM_UNSUPPORTED', 'report is signed by a VLEK; only VCEK-signed reports are supported');

  const vcek = parseCert(input.vcek, 'VCEK');
  const chain = [vcek, ...input.chain.map((c, i) => parseCert(c, `certificate ${i + 1}`))];
  if (chain.length !== 3) throw new AttestationError('ATTESTATION_CHAIN_INVALID', 'SEV-SNP chain must be VCEK, ASK, ARK');
  const rootFingerprint = verifyChain(chain, { trustedRoots: ctx.trustedRoots, now: ctx.now, algorithm: 'rsa-pss-sha384' });

  const key = vcek.node.publicKey;
  if (key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') throw new AttestationError('ATTESTATION_ALGORITHM_UNSUPPORTED', 'VCEK key is not P-384');
  const ok = cryptoVerify('sha384', rawReport.subarray(0, SIGNED_LENGTH), { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([report.r, report.s]));
  if (!ok) throw new AttestationError('ATTESTATION_SIGNATURE_INVALID', 'SEV-SNP report signature does not verify under the VCEK');

  const maskChipId = (report.flags & 0b10) !== 0;
  const hwid = extensionValue(vcek, OID.hwid);
  if (!maskChipId && (hwid === undefined || !hwid.equals(report.chipId))) {
    throw new AttestationError('ATTESTATION_CHAIN_INVALID', "the VCEK's hardware id is not the report's chip id");
  }
  const certified = vcekTcb(vcek);
  if (tcbText(certified) !== tcbText(report.reportedTcb)) {
    throw new AttestationError('ATTESTATION_TCB_REFUSED', `reported TCB (${tcbText(report.reportedTcb)}) is not the VCEK's (${tcbText(certified)})`);
  }

  return {
    kind: 'sev-snp',
    measurements: {
      MEASUREMENT: report.measurement.toString('hex'),
      HOST_DATA: report.hostData.toString('hex'),
      ID_KEY_DIGEST: report.idKeyDigest.toString('hex'),
      AUTHOR_KEY_DIGEST: report.authorKeyDigest.toString('hex'),
    },
    debug: (report.policy & POLICY_DEBUG_BIT) !== 0n,
    bindings: { reportData: report.reportData.toString('hex') },
    rootFingerprint,
    details: {
      version: report.version,
      policy: `0x${report.policy.toString(16)}`,
      vmpl: report.vmpl,
      guestSvn: report.guestSvn,
      reportedTcb: report.reportedTcb,
      chipId: report.chipId.toString('hex'),
    },
  };
}

/** The {@link EvidenceVerifier} for `sev-snp` bundles: documents `{report, vcek, chain}` (chain: PEM, ASK then ARK). */
export const snpVerifier: EvidenceVerifier = (documents, ctx) => {
  const { report, vcek, chain } = documents;
  if (report === undefined || vcek === undefined || chain === undefined) {
    throw new AttestationError('ATTESTATION_MALFORMED', 'sev-snp evidence needs "report", "vcek" and "chain"');
  }
  return verifySnpReport({ report, vcek, chain: pemCertificates(Buffer.from(chain).toString('utf8')) }, ctx);
};
