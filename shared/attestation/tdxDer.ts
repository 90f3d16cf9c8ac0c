/**
 * A minimal DER reader for the few X.509 structures node:crypto does not expose: certificate extensions (Intel's
 * SGX extension), the raw subject name, and CRLs.
 *
 * Why not @peculiar/x509: version 2.2.0 imports tsyringe, which throws at import time unless the
 * `reflect-metadata` polyfill is loaded first, and that package is not installed here; a global polyfill in the
 * key-release path is worse than 100 lines of DER. Signatures are still verified by node:crypto (OpenSSL).
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';

/** One DER element: tag, value bytes, and the whole encoding (header included). */
export interface Der {
  tag: number;
  value: Buffer;
  raw: Buffer;
}

/** Reads consecutive DER elements from `buf`. Throws a plain Error on malformed input. */
export function readDer(buf: Buffer): Der[] {
  const out: Der[] = [];
  let i = 0;
  while (i < buf.length) {
    const start = i;
    const tag = buf[i++]!;
    let len = buf[i++];
    if (len === undefined) throw new Error('DER: truncated length');
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new Error('DER: unsupported length form');
      len = 0;
      for (let k = 0; k < n; k++) {
        const b = buf[i++];
        if (b === undefined) throw new Error('DER: truncated length');
        len = len * 256 + b;
      }
    }
    if (i + len > buf.length) throw new Error('DER: truncated value');
    out.push({ tag, value: buf.subarray(i, i + len), raw: buf.subarray(start, i + len) });
    i += len;
  }
  return out;
}

/** Reads exactly one element and checks its tag. */
export function derOne(buf: Buffer, tag: number, what: string): Der {
  const [el] = readDer(buf);
  if (el?.tag !== tag) throw new Error(`DER: ${what} is not tag 0x${tag.toString(16)}`);
  return el;
}

/** Dotted form of an OBJECT IDENTIFIER's value bytes. */
export function decodeOid(b: Buffer): string {
  const first = b[0] ?? 0;
  const parts = [Math.floor(first / 40), first % 40];
  let v = 0;
  for (const byte of b.subarray(1)) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Non-negative INTEGER value (up to 2^53). */
export function decodeUint(b: Buffer): number {
  let v = 0;
  for (const byte of b) v = v * 256 + byte;
  return v;
}

/** UTCTime (0x17) or GeneralizedTime (0x18). */
export function decodeTime(el: Der): Date {
  const s = el.value.toString('latin1');
  const m = el.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m === null) throw new Error(`DER: bad time ${s}`);
  let year = Number(m[1]);
  if (el.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

function tbsFields(cert: X509Certificate): Der[] {
  const [certSeq] = readDer(cert.raw);
  const [tbs] = readDer(certSeq!.value);
  const fields = readDer(tbs!.value);
  return fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
}

/** The raw DER of a certificate's subject Name (for matching a CRL's issuer). */
export function certSubjectDer(cert: X509Certificate): Buffer {
  return tbsFields(cert)[4]!.raw;
}

/** The value (inner OCTET STRING content) of a certificate extension, or undefined. */
export function certExtension(cert: X509Certificate, oid: string): Buffer | undefined {
  const ext = tbsFields(cert).find((f) => f.tag === 0xa3);
  if (ext === undefined) return undefined;
  for (const e of readDer(derOne(ext.value, 0x30, 'extensions').value)) {
    const parts = readDer(e.value);
    if (parts[0]?.tag === 0x06 && decodeOid(parts[0].value) === oid) return parts[parts.length - 1]!.value;
  }
  return undefined;
}

/** A parsed CRL. */
export interface ParsedCrl {
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Revoked serials, lowercase hex without leading zero bytes. */
  serials: Set<string>;
  /** Verifies the CRL's signature with the issuer's key. */
  verify(issuer: X509Certificate): boolean;
}

const SIG_HASH: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** Lowercase hex serial without leading zero bytes, for comparison. */
export function normSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+/, '');
}

/** Parses a DER or PEM X.509 CRL (ECDSA-signed, as Intel's are). Throws a plain Error on malformed input. */
export function parseCrl(input: Uint8Array | string): ParsedCrl {
  const der =
    typeof input === 'string'
      ? Buffer.from(input.replace(/-----(BEGIN|END) X509 CRL-----/g, '').replace(/\s+/g, ''), 'base64')
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const [list, sigAlg, sigBits] = readDer(derOne(der, 0x30, 'CRL').value);
  if (list?.tag !== 0x30 || sigAlg?.tag !== 0x30 || sigBits?.tag !== 0x03) throw new Error('DER: not a CertificateList');
  let f = readDer(list.value);
  if (f[0]?.tag === 0x02) f = f.slice(1);
  const [, issuer, thisUpdate, ...rest] = f;
  if (issuer?.tag !== 0x30 || thisUpdate === undefined) throw new Error('DER: CRL has no issuer or thisUpdate');
  let nextUpdate: Date | undefined;
  if (rest[0] !== undefined && (rest[0].tag === 0x17 || rest[0].tag === 0x18)) nextUpdate = decodeTime(rest.shift()!);
  const serials = new Set<string>();
  if (rest[0]?.tag === 0x30) {
    for (const entry of readDer(rest[0].value)) {
      const [serial] = readDer(entry.value);
      if (serial?.tag === 0x02) serials.add(normSerial(serial.value.toString('hex')));
    }
  }
  const algOid = decodeOid(derOne(sigAlg.value, 0x06, 'signature algorithm').value);
  const hash = SIG_HASH[algOid];
  return {
    issuerDer: issuer.raw,
    thisUpdate: decodeTime(thisUpdate),
    nextUpdate,
    serials,
    verify(cert) {
      if (hash === undefined) return false;
      try {
        return cryptoVerify(hash, list.raw, cert.publicKey, sigBits.value.subarray(1));
      } catch {
        return false;
      }
    },
  };
}
