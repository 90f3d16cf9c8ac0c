/**
 * Opening KMS's `CiphertextForRecipient`: when an enclave calls (or a gate calls on its behalf) KMS `Decrypt` with
 * `Recipient: {KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument}`, KMS returns the plaintext as
 * CMS EnvelopedData (RFC 5652) to the RSA public key inside the attestation document: one KeyTransRecipientInfo
 * (RSAES-OAEP with SHA-256) wrapping a content key, and the content encrypted with AES-256-CBC. Only the enclave
 * holds the RSA private key, so only it can open this.
 *
 * A small BER reader (definite and indefinite lengths, constructed strings) rather than an ASN.1 library: the
 * structure is fixed and short, and the enclave image should carry as little code as it can.
 */
import { createDecipheriv, privateDecrypt, constants, type KeyObject } from 'node:crypto';
import { IntegrityError } from './errors.js';

/** OIDs this module reads (dotted). */
export const CMS_OIDS = {
  envelopedData: '1.2.840.113549.1.7.3',
  data: '1.2.840.113549.1.7.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/** One BER element: tag byte (class + constructed + number), its content, and its children if constructed. */
interface Ber {
  tag: number;
  content: Buffer;
  children: Ber[];
}

const fail = (what: string): never => {
  throw new IntegrityError('KEY_UNWRAP_FAILED', `CiphertextForRecipient is not the CMS EnvelopedData KMS sends: ${what}`);
};

/** Reads one element at `at`; returns it and the offset after it. */
function readBer(buf: Buffer, at: number, depth = 0): [Ber, number] {
  if (depth > 32) fail('nesting too deep');
  if (at + 2 > buf.length) fail('truncated');
  const tag = buf[at] as number;
  if ((tag & 0x1f) === 0x1f) fail('multi-byte tags are not used here');
  let len = buf[at + 1] as number;
  let pos = at + 2;
  const constructed = (tag & 0x20) !== 0;
  if (len === 0x80) {
    if (!constructed) fail('indefinite length on a primitive');
    const children: Ber[] = [];
    while (!(buf[pos] === 0 && buf[pos + 1] === 0)) {
      const [child, next] = readBer(buf, pos, depth + 1);
      children.push(child);
      pos = next;
      if (pos + 2 > buf.length) fail('unterminated indefinite length');
    }
    return [{ tag, content: buf.subarray(at, pos), children }, pos + 2];
  }
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + n > buf.length) fail('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos + i] as number);
    pos += n;
  }
  if (pos + len > buf.length) fail('length past the end');
  const content = buf.subarray(pos, pos + len);
  const children: Ber[] = [];
  if (constructed) {
    for (let p = 0; p < content.length; ) {
      const [child, next] = readBer(content, p, depth + 1);
      children.push(child);
      p = next;
    }
  }
  return [{ tag, content, children }, pos + len];
}

function oid(e: Ber | undefined): string {
  if (e === undefined || e.tag !== 0x06 || e.content.length === 0) return fail('expected an OBJECT IDENTIFIER');
  const b = e.content;
  const parts: number[] = [Math.floor((b[0] as number) / 40), (b[0] as number) % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + ((b[i] as number) & 0x7f);
    if (((b[i] as number) & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** An OCTET STRING's bytes, primitive or constructed (BER), under `tag` (0x04, or an implicit context tag). */
function octets(e: Ber | undefined, tag = 0x04): Buffer {
  if (e === undefined || (e.tag & ~0x20) !== tag) return fail('expected an OCTET STRING');
  return e.tag & 0x20 ? Buffer.concat(e.children.map((c) => octets(c))) : e.content;
}

const child = (e: Ber | undefined, i: number, what: string): Ber => e?.children[i] ?? fail(`missing ${what}`);

/** What {@link parseEnvelopedData} finds. */
export interface EnvelopedDataParts {
  /** The RSA-OAEP-wrapped content-encryption key. */
  encryptedKey: Buffer;
  keyEncryptionAlgorithm: string;
  contentEncryptionAlgorithm: string;
  iv: Buffer;
  encryptedContent: Buffer;
}

/** Parses a CMS ContentInfo holding EnvelopedData with one KeyTransRecipientInfo. */
export function parseEnvelopedData(der: Uint8Array): EnvelopedDataParts {
  const [info] = readBer(Buffer.from(der), 0);
  if (info.tag !== 0x30 || oid(info.children[0]) !== CMS_OIDS.envelopedData) fail('not a ContentInfo of EnvelopedData');
  const explicit = child(info, 1, 'content');
  if (explicit.tag !== 0xa0) fail('content is not [0] EXPLICIT');
  const env = child(explicit, 0, 'EnvelopedData');
  // version, [0] originatorInfo OPTIONAL, recipientInfos SET, encryptedContentInfo, [1] unprotectedAttrs OPTIONAL
  const rest = env.children.slice(1).filter((c) => c.tag !== 0xa0);
  const recipients = rest[0];
  if (recipients?.tag !== 0x31 || recipients.children.length !== 1) fail('expected exactly one RecipientInfo');
  const ktri = child(recipients, 0, 'KeyTransRecipientInfo');
  if (ktri.tag !== 0x30) fail('the RecipientInfo is not a KeyTransRecipientInfo');
  const keyAlg = oid(child(child(ktri, 2, 'keyEncryptionAlgorithm'), 0, 'algorithm'));
  const encryptedKey = octets(child(ktri, 3, 'encryptedKey'));
  const eci = rest[1];
  if (eci?.tag !== 0x30) fail('missing EncryptedContentInfo');
  const contentAlg = child(eci, 1, 'contentEncryptionAlgorithm');
  const encryptedContent = octets(child(eci, 2, 'encryptedContent'), 0x80);
  return {
    encryptedKey,
    keyEncryptionAlgorithm: keyAlg,
    contentEncryptionAlgorithm: oid(contentAlg.children[0]),
    iv: octets(child(contentAlg, 1, 'IV')),
    encryptedContent,
  };
}

/**
 * Opens KMS's `CiphertextForRecipient` with the enclave's RSA private key (the one whose public half was in the
 * attestation document). Throws `KEY_UNWRAP_FAILED` for anything else: another key, an altered envelope, other
 * algorithms than RSAES-OAEP-SHA-256 and AES-256-CBC.
 *
 * @example
 * ```ts
 * const dataKey = openCiphertextForRecipient(Buffer.from(released.ciphertextForRecipient, 'base64'), enclaveRsaKey);
 * ```
 */
export function openCiphertextForRecipient(der: Uint8Array, privateKey: KeyObject): Buffer {
  const p = parseEnvelopedData(der);
  if (p.keyEncryptionAlgorithm !== CMS_OIDS.rsaesOaep) fail(`key encryption ${p.keyEncryptionAlgorithm}, not RSAES-OAEP`);
  if (p.contentEncryptionAlgorithm !== CMS_OIDS.aes256Cbc) fail(`content encryption ${p.contentEncryptionAlgorithm}, not AES-256-CBC`);
  if (p.iv.length !== 16) fail('IV is not 16 bytes');
  let cek: Buffer | undefined;
  try {
    cek = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, p.encryptedKey);
    if (cek.length !== 32) fail('content key is not 32 bytes');
    const d = createDecipheriv('aes-256-cbc', cek, p.iv);
    return Buffer.concat([d.update(p.encryptedContent), d.final()]);
  } catch (cause) {
    if (cause instanceof IntegrityError) throw cause;
    throw new IntegrityError('KEY_UNWRAP_FAILED', 'CiphertextForRecipient did not open with this key', { cause });
  } finally {
    cek?.fill(0);
  }
}
