/**
 * Test-only: builds X.509 certificates and CRLs (DER, signed by node:crypto) so that tests can mint foreign roots,
 * revoked chains and re-signed synthetic evidence. Not imported by production code.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';

/** DER TLV. */
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
export const seq = (...p: Buffer[]) => tlv(0x30, ...p);
export const set = (...p: Buffer[]) => tlv(0x31, ...p);
export const octets = (b: Buffer) => tlv(0x04, b);
export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const enc = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) enc.unshift((x & 0x7f) | 0x80);
    bytes.push(...enc);
  }
  return tlv(0x06, Buffer.from(bytes));
}
export function int(v: number | string): Buffer {
  let hex = typeof v === 'number' ? v.toString(16) : v;
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b.length === 0 || b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}
function name(cn: string): Buffer {
  return seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
}
function sigAlg(key: KeyObject): { der: Buffer; hash: string } {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? { der: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384' } : { der: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
}
function signed(tbs: Buffer, key: KeyObject): Buffer {
  const alg = sigAlg(key);
  const sig = cryptoSign(alg.hash, tbs, key);
  return seq(tbs, alg.der, tlv(0x03, Buffer.from([0]), sig));
}

/** Parameters of a test certificate. */
export interface CertParams {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  ca: boolean;
  notBefore: Date;
  notAfter: Date;
  serial: string;
  extensions?: { oid: string; value: Buffer }[];
}

/** A DER certificate. */
export function buildCert(p: CertParams): Buffer {
  const spki = p.publicKey.export({ type: 'spki', format: 'der' });
  const exts = [seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), octets(p.ca ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()))];
  for (const e of p.extensions ?? []) exts.push(seq(oid(e.oid), octets(e.value)));
  const tbs = seq(tlv(0xa0, int(2)), int(p.serial), sigAlg(p.signingKey).der, name(p.issuer), seq(time(p.notBefore), time(p.notAfter)), name(p.subject), spki, tlv(0xa3, seq(...exts)));
  return signed(tbs, p.signingKey);
}

/** PEM of a DER certificate. */
export function certPem(der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A DER CRL issued by `issuer` listing `serials` (hex). */
export function buildCrl(p: { issuer: string; signingKey: KeyObject; thisUpdate: Date; nextUpdate: Date; serials: string[] }): Buffer {
  const entries = p.serials.map((s) => seq(int(s), time(p.thisUpdate)));
  const tbs = seq(int(1), sigAlg(p.signingKey).der, name(p.issuer), time(p.thisUpdate), time(p.nextUpdate), ...(entries.length > 0 ? [seq(...entries)] : []));
  return signed(tbs, p.signingKey);
}
