/**
 * Opening a delivered model in a browser: the ECIES box of ecies.ts (secp256k1 scheme) and the artifact layout of
 * artifactLayout.ts (shared with artifact.ts) over chunkedAead.ts, with WebCrypto (HKDF-SHA256, AES-256-GCM, SHA-256) and ethers' secp256k1 ECDH.
 * No Node builtin and no Buffer, so Vite bundles it for the console; Node 20 runs it too (`globalThis.crypto`), and
 * webArtifact.test.ts holds it to the Node implementation on the same bytes (what Node seals and encrypts, this
 * opens; what Node refuses, this refuses with the same code).
 *
 * Decryption only: encrypting stays with the Node code (workers and CLIs).
 */
import { SigningKey } from 'ethers';
import { artifactBinding, parseArtifact, type ArtifactHeader, type ArtifactKind } from './artifactLayout.js';
import { AAD_VERSION, FORMAT_VERSION, MAX_CHUNKS, MAX_CHUNK_SIZE, TAG_LENGTH } from './chunkedAeadFormat.js';
import { IntegrityError } from './errors.js';

/** The sealed box fields this module reads (the `SealedBox` of ecies.ts, whose module imports Node's crypto). */
export interface WebSealedBox {
  scheme: string;
  ephemeralPublicKey: string;
  nonce: string;
  ciphertext: string;
  context: string;
}

const SECP256K1_SCHEME = 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1';
const INFO_KEY = 'provena/chunked-aead/v1/key';
const INFO_COMMIT = 'provena/chunked-aead/v1/commit';

const utf8 = (s: string) => new TextEncoder().encode(s);
const subtle = () => globalThis.crypto.subtle;

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function fromHex(hex: string, what: string, code: 'KEY_UNWRAP_FAILED' | 'MANIFEST_MISMATCH'): Uint8Array<ArrayBuffer> {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new IntegrityError(code, `${what} is not hex`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 of `bytes`, lowercase hex (WebCrypto). */
export async function sha256HexWeb(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await subtle().digest('SHA-256', concat(bytes))));
}

async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const key = await subtle().importKey('raw', concat(ikm), 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: concat(salt), info: concat(info) }, key, 256));
}

async function gcmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const k = await subtle().importKey('raw', concat(key), 'AES-GCM', false, ['decrypt']);
  return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: concat(nonce), additionalData: concat(aad), tagLength: TAG_LENGTH * 8 }, k, concat(ciphertextAndTag)));
}

function u16(n: number): Uint8Array {
  return new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
}
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}
const lengthPrefixed = (b: Uint8Array) => concat(u16(b.length), b);

/**
 * Opens an ECIES box sealed to a secp256k1 key (ecies.ts `sealToPublicKey`) with its private key (0x-hex). Throws
 * `KEY_UNWRAP_FAILED` for a wrong key, another scheme, or any alteration of the box, its context included.
 *
 * @example
 * ```ts
 * const dataKey = await openSealedBoxWeb(localStorage.getItem(slot)!, download.sealedKey);
 * ```
 */
export async function openSealedBoxWeb(privateKey: string, box: WebSealedBox): Promise<Uint8Array<ArrayBuffer>> {
  if (box.scheme !== SECP256K1_SCHEME) throw new IntegrityError('KEY_UNWRAP_FAILED', `unsupported scheme ${box.scheme}`);
  let secret: Uint8Array;
  let ephemeral: Uint8Array;
  let recipient: Uint8Array;
  try {
    const signingKey = new SigningKey(privateKey);
    ephemeral = fromHex(SigningKey.computePublicKey(box.ephemeralPublicKey, true), 'ephemeral key', 'KEY_UNWRAP_FAILED');
    recipient = fromHex(signingKey.compressedPublicKey, 'public key', 'KEY_UNWRAP_FAILED');
    // ethers answers the shared point uncompressed (0x04 ‖ x ‖ y); the construction uses its x-coordinate.
    secret = fromHex(signingKey.computeSharedSecret(box.ephemeralPublicKey), 'shared secret', 'KEY_UNWRAP_FAILED').subarray(1, 33);
  } catch (cause) {
    if (cause instanceof IntegrityError) throw cause;
    throw new IntegrityError('KEY_UNWRAP_FAILED', 'not a secp256k1 private key, or the box holds no secp256k1 point', { cause });
  }
  const nonce = fromHex(box.nonce, 'nonce', 'KEY_UNWRAP_FAILED');
  const ct = fromHex(box.ciphertext, 'ciphertext', 'KEY_UNWRAP_FAILED');
  if (ct.length < TAG_LENGTH || nonce.length !== 12) throw new IntegrityError('KEY_UNWRAP_FAILED', 'sealed box is malformed');
  const key = await hkdf(secret, concat(ephemeral, recipient), concat(utf8(box.scheme), new Uint8Array([0]), utf8(box.context)));
  try {
    return await gcmOpen(key, nonce, utf8(box.context), ct);
  } catch (cause) {
    throw new IntegrityError('KEY_UNWRAP_FAILED', 'sealed box did not open: wrong private key or altered box', { cause });
  } finally {
    key.fill(0);
  }
}

/** The artifact's header and body (artifactLayout.ts), with the chunk parameters checked as chunkedAead.ts does. */
function readHeader(object: Uint8Array, meta: { kind: ArtifactKind; jobId: string }): { header: ArtifactHeader; body: Uint8Array } {
  const { header, body } = parseArtifact(object, meta);
  const { chunks } = header;
  const p = header.params ?? ({} as ArtifactHeader['params']);
  if (p.formatVersion !== FORMAT_VERSION || p.aadVersion !== AAD_VERSION) throw new IntegrityError('MANIFEST_MISMATCH', `unsupported format ${p.formatVersion}/aad ${p.aadVersion}`);
  if (!Number.isSafeInteger(p.chunkSize) || p.chunkSize < 1 || p.chunkSize > MAX_CHUNK_SIZE) throw new IntegrityError('MANIFEST_MISMATCH', `chunkSize must be an integer in 1..${MAX_CHUNK_SIZE}`);
  if (chunks.length === 0) throw new IntegrityError('CIPHERTEXT_TRUNCATED', 'the artifact lists no chunks (a stream always has a final chunk)');
  if (chunks.length > MAX_CHUNKS) throw new IntegrityError('MANIFEST_MISMATCH', 'too many chunks');
  chunks.forEach((c, i) => {
    const full = p.chunkSize + TAG_LENGTH;
    const ok = i < chunks.length - 1 ? c.ciphertextSize === full : c.ciphertextSize >= TAG_LENGTH && c.ciphertextSize <= full;
    if (!Number.isSafeInteger(c.ciphertextSize) || !ok || !/^[0-9a-f]{64}$/.test(c.sha256)) throw new IntegrityError('MANIFEST_MISMATCH', `artifact chunk ${i} has an impossible size or digest`);
  });
  return { header, body };
}

/**
 * Decrypts an artifact (artifact.ts `encryptArtifact`) with its 32-byte key, checking kind and job, the key
 * commitment (`DATA_KEY_MISMATCH` for a wrong key), every chunk's digest (`CHUNK_DIGEST_MISMATCH`) and GCM tag
 * (`CHUNK_AUTH_FAILED`), and the layout (`MANIFEST_MISMATCH`). Returns the plaintext only when all hold.
 *
 * @example
 * ```ts
 * const model = await decryptArtifactWeb(ciphertext, dataKey, { kind: 'model', jobId });
 * ```
 */
export async function decryptArtifactWeb(object: Uint8Array, key: Uint8Array, meta: { kind: ArtifactKind; jobId: string }): Promise<Uint8Array<ArrayBuffer>> {
  if (key.length !== 32) throw new IntegrityError('DATA_KEY_MISMATCH', `data key must be 32 bytes, got ${key.length}`);
  const { header, body } = readHeader(object, meta);
  const { params, chunks } = header;
  const salt = fromHex(params.salt, 'salt', 'MANIFEST_MISMATCH');
  if (salt.length !== 32) throw new IntegrityError('MANIFEST_MISMATCH', 'salt must be 32 bytes of hex');
  const binding = artifactBinding(meta.kind, meta.jobId);
  const id = utf8(binding.datasetId);
  const ver = utf8(String(binding.version));
  const streamKey = await hkdf(key, salt, concat(utf8(INFO_KEY), lengthPrefixed(id), lengthPrefixed(ver), u32(params.chunkSize)));
  const commitment = toHex(await hkdf(key, salt, utf8(INFO_COMMIT)));
  if (commitment !== String(params.keyCommitment).toLowerCase()) throw new IntegrityError('DATA_KEY_MISMATCH', 'the data key does not match the artifact key commitment');
  const tail = concat(u32(params.chunkSize), lengthPrefixed(id), lengthPrefixed(ver));
  const out: Uint8Array[] = [];
  let at = 0;
  try {
    for (const [index, c] of chunks.entries()) {
      const piece = body.subarray(at, at + c.ciphertextSize);
      at += c.ciphertextSize;
      if ((await sha256HexWeb(piece)) !== c.sha256) throw new IntegrityError('CHUNK_DIGEST_MISMATCH', `chunk ${index} does not hash to its recorded digest`);
      const final = index === chunks.length - 1;
      const aad = concat(new Uint8Array([FORMAT_VERSION, final ? 1 : 0]), u64(index), u32(c.ciphertextSize - TAG_LENGTH), tail);
      const nonce = concat(new Uint8Array(4), u64(index));
      try {
        out.push(await gcmOpen(streamKey, nonce, aad, piece));
      } catch (cause) {
        throw new IntegrityError('CHUNK_AUTH_FAILED', `chunk ${index} failed authentication`, { cause });
      }
    }
  } finally {
    streamKey.fill(0);
  }
  return concat(...out);
}
