/**
 * ECIES over secp256k1, so a data key can be released "encrypted to the requester's public key" using the same
 * key pair as the requester's Ethereum account (or an attested worker key):
 *
 * - ephemeral secp256k1 key pair (Node's `crypto.createECDH('secp256k1')`);
 * - shared secret = x-coordinate of ECDH(ephemeral, recipient) (32 bytes);
 * - key = HKDF-SHA256(ikm = secret, salt = ephemeralPub ‖ recipientPub (both compressed),
 *   info = scheme ‖ 0x00 ‖ context), 32 bytes;
 * - AES-256-GCM with a random 96-bit nonce (the key is single-use, so the nonce could even be fixed) and
 *   AAD = context, so the box cannot be presented as a release for another dataset/license.
 *
 * No hand-rolled primitives: ECDH, HKDF and GCM are Node's (OpenSSL).
 */
import { createCipheriv, createDecipheriv, createECDH, ECDH, hkdfSync, randomBytes } from 'node:crypto';
import { IntegrityError } from './errors.js';

/** Scheme id carried in every sealed box to a secp256k1 key (requesters' accounts, the embedded gate's inbox). */
export const ECIES_SCHEME = 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1' as const;

/**
 * The same construction over NIST P-256, for the KMS gate's inbox: KMS key agreement (`DeriveSharedSecret`)
 * supports P-256 but not secp256k1, and it keeps the inbox private key inside KMS.
 */
export const ECIES_P256_SCHEME = 'ecies-p256-hkdf-sha256-aes256gcm-v1' as const;

/** A sealed box's scheme. */
export type SealScheme = typeof ECIES_SCHEME | typeof ECIES_P256_SCHEME;

/** Node's curve name per scheme. */
const CURVE: Record<SealScheme, string> = { [ECIES_SCHEME]: 'secp256k1', [ECIES_P256_SCHEME]: 'prime256v1' };

function curveOf(scheme: unknown): string {
  const curve = CURVE[scheme as SealScheme];
  if (curve === undefined) throw new IntegrityError('KEY_UNWRAP_FAILED', `unsupported scheme ${String(scheme)}`);
  return curve;
}

/** A payload encrypted to one EC public key (secp256k1, or P-256 for the KMS inbox). All binary fields are 0x-hex. */
export interface SealedBox {
  scheme: SealScheme;
  /** Compressed ephemeral public key (33 bytes). */
  ephemeralPublicKey: string;
  /** 12-byte GCM nonce. */
  nonce: string;
  /** Ciphertext ‖ 16-byte tag. */
  ciphertext: string;
  /** The context bound as HKDF info and AAD (plain text, e.g. canonical JSON of the release). */
  context: string;
}

function hexToBuf(hex: string, what: string): Buffer {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new IntegrityError('KEY_UNWRAP_FAILED', `${what} is not hex`);
  return Buffer.from(h, 'hex');
}

/**
 * Normalizes a secp256k1 public key (0x-hex, compressed 33 bytes or uncompressed 65 bytes) to compressed form.
 * Throws `KEY_UNWRAP_FAILED` for something that is not a point on the curve.
 */
export function compressPublicKey(publicKey: string, curve = 'secp256k1'): Buffer {
  try {
    return ECDH.convertKey(hexToBuf(publicKey, 'public key'), curve, undefined, undefined, 'compressed') as Buffer;
  } catch (cause) {
    throw new IntegrityError('KEY_UNWRAP_FAILED', `not a ${curve} public key`, { cause });
  }
}

function deriveKey(secret: Buffer, ephemeralPub: Buffer, recipientPub: Buffer, context: string, scheme: SealScheme = ECIES_SCHEME): Buffer {
  const info = Buffer.concat([Buffer.from(scheme), Buffer.from([0]), Buffer.from(context, 'utf8')]);
  return Buffer.from(hkdfSync('sha256', secret, Buffer.concat([ephemeralPub, recipientPub]), info, 32));
}

/**
 * Encrypts `plaintext` to `recipientPublicKey`, binding `context`.
 *
 * @example
 * ```ts
 * const box = sealToPublicKey(requester.publicKey, dataKey, JSON.stringify({ datasetId, version, licenseId }));
 * ```
 */
export function sealToPublicKey(recipientPublicKey: string, plaintext: Uint8Array, context: string, scheme: SealScheme = ECIES_SCHEME): SealedBox {
  const curve = curveOf(scheme);
  const recipientPub = compressPublicKey(recipientPublicKey, curve);
  const eph = createECDH(curve);
  eph.generateKeys();
  const ephemeralPub = eph.getPublicKey(null, 'compressed');
  const key = deriveKey(eph.computeSecret(recipientPub), ephemeralPub, recipientPub, context, scheme);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  return {
    scheme,
    ephemeralPublicKey: `0x${ephemeralPub.toString('hex')}`,
    nonce: `0x${nonce.toString('hex')}`,
    ciphertext: `0x${ct.toString('hex')}`,
    context,
  };
}

/**
 * Decrypts a {@link SealedBox} with the recipient's private key (0x-hex, 32 bytes). Throws `KEY_UNWRAP_FAILED`
 * for a wrong key or any alteration of the box, including its context.
 *
 * @example
 * ```ts
 * const dataKey = openSealedBox(wallet.privateKey, released.sealed);
 * ```
 */
export function openSealedBox(privateKey: string | Uint8Array, box: SealedBox): Buffer {
  const curve = curveOf(box.scheme);
  const priv = typeof privateKey === 'string' ? hexToBuf(privateKey, 'private key') : Buffer.from(privateKey);
  const ecdh = createECDH(curve);
  try {
    ecdh.setPrivateKey(priv);
  } catch (cause) {
    throw new IntegrityError('KEY_UNWRAP_FAILED', `not a ${curve} private key`, { cause });
  }
  const ephemeralPub = compressPublicKey(box.ephemeralPublicKey, curve);
  return openWithSharedSecret(box, ecdh.computeSecret(ephemeralPub), ecdh.getPublicKey(null, 'compressed'));
}

/**
 * The box's ephemeral public key, uncompressed (65 bytes), for a key-agreement service that takes the peer key
 * (KMS `DeriveSharedSecret`, as an SPKI around it).
 */
export function ephemeralPublicKeyOf(box: SealedBox): Buffer {
  const curve = curveOf(box.scheme);
  return ECDH.convertKey(compressPublicKey(box.ephemeralPublicKey, curve), curve, undefined, undefined, 'uncompressed') as Buffer;
}

/**
 * Opens a box given the ECDH shared secret (x-coordinate) computed elsewhere, e.g. by KMS, which holds the
 * recipient's private key; `recipientPublicKey` is the recipient's compressed point (bound by the HKDF salt).
 */
export function openWithSharedSecret(box: SealedBox, sharedSecret: Uint8Array, recipientPublicKey: Uint8Array): Buffer {
  const curve = curveOf(box.scheme);
  const ephemeralPub = compressPublicKey(box.ephemeralPublicKey, curve);
  const ct = hexToBuf(box.ciphertext, 'ciphertext');
  const nonce = hexToBuf(box.nonce, 'nonce');
  if (ct.length < 16 || nonce.length !== 12) throw new IntegrityError('KEY_UNWRAP_FAILED', 'sealed box is malformed');
  const key = deriveKey(Buffer.from(sharedSecret), ephemeralPub, Buffer.from(recipientPublicKey), box.context, box.scheme);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(box.context, 'utf8'));
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    return Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]);
  } catch (cause) {
    throw new IntegrityError('KEY_UNWRAP_FAILED', 'sealed box did not open: wrong private key or altered box', { cause });
  } finally {
    key.fill(0);
  }
}
