/**
 * Builds CMS EnvelopedData (RFC 5652) as KMS returns `CiphertextForRecipient`: one KeyTransRecipientInfo
 * (RSAES-OAEP, SHA-256, MGF1-SHA-256) to the enclave's RSA key from its attestation document, content in
 * AES-256-CBC. DER written by hand (a few TLVs); the fake KMS uses it, shared/crypto/cmsEnvelope.ts reads it.
 */
import { createCipheriv, createHash, publicEncrypt, constants, randomBytes, type KeyObject } from 'node:crypto';
import { CMS_OIDS } from '../../../shared/crypto/cmsEnvelope.js';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const c = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(c.length), c]);
};
const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
const int = (n: number): Buffer => tlv(0x02, Buffer.from([n]));
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [a * 40 + b];
  for (const v of rest) {
    const groups: number[] = [];
    for (let x = v; ; x = Math.floor(x / 128)) {
      groups.unshift(x % 128);
      if (x < 128) break;
    }
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(out));
}
const SHA256 = '2.16.840.1.101.3.4.2.1';
const MGF1 = '1.2.840.113549.1.1.8';

/** EnvelopedData with `plaintext` to `recipient` (an RSA public key). */
export function buildEnvelopedData(plaintext: Uint8Array, recipient: KeyObject): Buffer {
  const cek = randomBytes(32);
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', cek, iv);
  const encryptedContent = Buffer.concat([c.update(plaintext), c.final()]);
  const encryptedKey = publicEncrypt({ key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
  cek.fill(0);
  const ski = createHash('sha1').update(recipient.export({ format: 'der', type: 'spki' })).digest();
  const oaepParams = seq(tlv(0xa0, seq(oid(SHA256))), tlv(0xa1, seq(oid(MGF1), seq(oid(SHA256)))));
  const ktri = seq(int(2), tlv(0x80, ski), seq(oid(CMS_OIDS.rsaesOaep), oaepParams), tlv(0x04, encryptedKey));
  const eci = seq(oid(CMS_OIDS.data), seq(oid(CMS_OIDS.aes256Cbc), tlv(0x04, iv)), tlv(0x80, encryptedContent));
  return seq(oid(CMS_OIDS.envelopedData), tlv(0xa0, seq(int(2), tlv(0x31, ktri), eci)));
}
