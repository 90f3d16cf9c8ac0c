/**
 * Byte layout of an Intel TDX quote, versions 4 and 5 (Intel TDX DCAP Quoting Library API, appendix A), parsed
 * without judging it: the verifier in `tdx.ts` decides what is acceptable.
 */
import { ProvenaError } from '../errors.js';

/** Quote header size; the signed region starts at byte 0. */
export const TDX_HEADER_SIZE = 48;
/** TD report body size for TDX 1.0 (quote v4, or v5 body type 2). */
export const TDX_BODY_10_SIZE = 584;
/** TD report body size for TDX 1.5 (quote v5 body type 3): adds TEE_TCB_SVN_2 and MRSERVICETD. */
export const TDX_BODY_15_SIZE = 648;
/** SGX report (the QE report) size. */
export const SGX_REPORT_SIZE = 384;
/** Attestation key type 2: ECDSA-256-with-P-256. */
export const TDX_ATT_KEY_ECDSA_P256 = 2;
/** TEE type TDX. */
export const TDX_TEE_TYPE = 0x81;

/** The TD report body fields, as raw bytes. */
export interface TdReportBody {
  teeTcbSvn: Buffer;
  mrSeam: Buffer;
  mrSignerSeam: Buffer;
  seamAttributes: Buffer;
  tdAttributes: Buffer;
  xfam: Buffer;
  mrTd: Buffer;
  mrConfigId: Buffer;
  mrOwner: Buffer;
  mrOwnerConfig: Buffer;
  rtmr: [Buffer, Buffer, Buffer, Buffer];
  reportData: Buffer;
  /** TDX 1.5 only. */
  teeTcbSvn2?: Buffer;
  /** TDX 1.5 only. */
  mrServiceTd?: Buffer;
}

/** The fields of an SGX report (the QE's report) that verification reads. */
export interface SgxReportBody {
  raw: Buffer;
  cpuSvn: Buffer;
  miscSelect: number;
  attributes: Buffer;
  mrEnclave: Buffer;
  mrSigner: Buffer;
  isvProdId: number;
  isvSvn: number;
  reportData: Buffer;
}

/** A parsed TDX quote. */
export interface ParsedTdxQuote {
  version: 4 | 5;
  attestationKeyType: number;
  teeType: number;
  qeVendorId: Buffer;
  /** v5 only: 2 = TDX 1.0 body, 3 = TDX 1.5 body. */
  bodyType?: number;
  body: TdReportBody;
  /** Header and body exactly as signed by the attestation key. */
  signedRegion: Buffer;
  /** r||s, 64 bytes. */
  signature: Buffer;
  /** Raw P-256 point x||y, 64 bytes. */
  attestationKey: Buffer;
  qeReport: SgxReportBody;
  /** r||s by the PCK key over the QE report. */
  qeReportSignature: Buffer;
  qeAuthData: Buffer;
  /** PEM text of the PCK chain (certification data type 5). */
  pckChainPem: string;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly what: string) {}
  take(n: number, field: string): Buffer {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new ProvenaError('ATTESTATION_MALFORMED', `The ${this.what} is truncated at ${field} (offset ${this.pos}, need ${n})`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u16(field: string): number {
    return this.take(2, field).readUInt16LE(0);
  }
  u32(field: string): number {
    return this.take(4, field).readUInt32LE(0);
  }
}

/**
 * Parses a TDX quote v4 or v5. Throws ATTESTATION_MALFORMED on any size or layout error and
 * ATTESTATION_ALGORITHM_UNSUPPORTED on an attestation key type other than ECDSA P-256.
 *
 * Bytes after the declared signature data are ignored (they are outside every signature; Intel's sample quote
 * carries some).
 */
export function parseTdxQuote(bytes: Uint8Array): ParsedTdxQuote {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, 'TDX quote');
  const version = r.u16('version');
  const attestationKeyType = r.u16('attestation key type');
  const teeType = r.u32('TEE type');
  r.take(4, 'reserved');
  const qeVendorId = r.take(16, 'QE vendor id');
  r.take(20, 'user data');
  if (version !== 4 && version !== 5) throw new ProvenaError('ATTESTATION_MALFORMED', `TDX quote version ${version} is not 4 or 5`);
  if (attestationKeyType !== TDX_ATT_KEY_ECDSA_P256) {
    throw new ProvenaError('ATTESTATION_ALGORITHM_UNSUPPORTED', `Attestation key type ${attestationKeyType} is not 2 (ECDSA-256-with-P-256)`);
  }
  if (teeType !== TDX_TEE_TYPE) throw new ProvenaError('ATTESTATION_MALFORMED', `TEE type 0x${teeType.toString(16)} is not TDX (0x81)`);

  let bodyType: number | undefined;
  let bodySize = TDX_BODY_10_SIZE;
  if (version === 5) {
    bodyType = r.u16('body type');
    bodySize = r.u32('body size');
    const expected = bodyType === 2 ? TDX_BODY_10_SIZE : bodyType === 3 ? TDX_BODY_15_SIZE : -1;
    if (expected < 0) throw new ProvenaError('ATTESTATION_MALFORMED', `Quote v5 body type ${bodyType} is not a TD report (2 or 3)`);
    if (bodySize !== expected) throw new ProvenaError('ATTESTATION_MALFORMED', `Quote v5 body size ${bodySize} is not ${expected} for body type ${bodyType}`);
  }
  const body = parseTdReportBody(r.take(bodySize, 'TD report body'), bodySize === TDX_BODY_15_SIZE);
  const signedRegion = buf.subarray(0, r.pos);

  const sigDataLen = r.u32('signature data length');
  const s = new Reader(r.take(sigDataLen, 'signature data'), 'quote signature data');
  const signature = s.take(64, 'quote signature');
  const attestationKey = s.take(64, 'attestation key');
  const certType = s.u16('certification data type');
  const certData = new Reader(s.take(s.u32('certification data size'), 'certification data'), 'certification data');
  if (certType !== 6) throw new ProvenaError('ATTESTATION_MALFORMED', `Certification data type ${certType} is not 6 (QE report certification data)`);
  const qeReport = parseSgxReport(certData.take(SGX_REPORT_SIZE, 'QE report'));
  const qeReportSignature = certData.take(64, 'QE report signature');
  const qeAuthData = certData.take(certData.u16('QE authentication data size'), 'QE authentication data');
  const innerType = certData.u16('inner certification data type');
  const inner = certData.take(certData.u32('inner certification data size'), 'PCK certificate chain');
  if (innerType !== 5) throw new ProvenaError('ATTESTATION_MALFORMED', `Inner certification data type ${innerType} is not 5 (PCK chain)`);

  return {
    version,
    attestationKeyType,
    teeType,
    qeVendorId,
    ...(bodyType === undefined ? {} : { bodyType }),
    body,
    signedRegion,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChainPem: inner.toString('latin1'),
  };
}

function parseTdReportBody(b: Buffer, td15: boolean): TdReportBody {
  const r = new Reader(b, 'TD report body');
  const body: TdReportBody = {
    teeTcbSvn: r.take(16, 'TEE_TCB_SVN'),
    mrSeam: r.take(48, 'MRSEAM'),
    mrSignerSeam: r.take(48, 'MRSIGNERSEAM'),
    seamAttributes: r.take(8, 'SEAMATTRIBUTES'),
    tdAttributes: r.take(8, 'TDATTRIBUTES'),
    xfam: r.take(8, 'XFAM'),
    mrTd: r.take(48, 'MRTD'),
    mrConfigId: r.take(48, 'MRCONFIGID'),
    mrOwner: r.take(48, 'MROWNER'),
    mrOwnerConfig: r.take(48, 'MROWNERCONFIG'),
    rtmr: [r.take(48, 'RTMR0'), r.take(48, 'RTMR1'), r.take(48, 'RTMR2'), r.take(48, 'RTMR3')],
    reportData: r.take(64, 'REPORTDATA'),
  };
  if (td15) {
    body.teeTcbSvn2 = r.take(16, 'TEE_TCB_SVN_2');
    body.mrServiceTd = r.take(48, 'MRSERVICETD');
  }
  return body;
}

/** Parses the 384-byte SGX report body (Intel SGX SDK `sgx_report_body_t`). */
export function parseSgxReport(raw: Buffer): SgxReportBody {
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: raw.readUInt32LE(16),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    isvProdId: raw.readUInt16LE(256),
    isvSvn: raw.readUInt16LE(258),
    reportData: raw.subarray(320, 384),
  };
}
