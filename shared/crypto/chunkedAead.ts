/**
 * Chunked AES-256-GCM for one dataset version: streaming, with flat memory, and a ciphertext that cannot be
 * tampered with, reordered, truncated, extended or moved to another dataset/version without detection.
 *
 * ## Construction (format version 1, AAD version 1)
 * - A fresh 256-bit **data key** per dataset version ({@link generateDataKey}); it is what the key gate wraps.
 * - Per encryption a random 256-bit **salt** (kept in the manifest). HKDF-SHA256(dataKey, salt) derives
 *   - the **stream key**, with `info = "provena/chunked-aead/v1/key" ‖ datasetId ‖ version ‖ chunkSize`
 *     (length-prefixed), so the same data key re-used for another dataset/version still yields another key, and
 *   - a 256-bit **key commitment** (`info = "provena/chunked-aead/v1/commit"`), stored in the manifest. GCM is not
 *     key-committing; checking the commitment first turns "wrong key" into one clear error before any chunk is
 *     read, and rules out ciphertexts that decrypt validly under two keys.
 * - Chunk `i` uses nonce `0x00000000 ‖ uint64be(i)` under the stream key.
 *   **Safety bound:** a (key, nonce) pair must never repeat. Within a stream the counter is unique (we cap a
 *   stream at 2^32 chunks). Across streams the stream key differs unless two salts collide: with n encryptions
 *   under one data key the chance is about n²/2^257, i.e. nil, even if a caller wrongly re-uses a data key. GCM's
 *   per-message limit (2^36 - 32 bytes) is respected by capping the chunk size at {@link MAX_CHUNK_SIZE}; with
 *   deterministic nonces there is no 2^32-messages random-nonce limit.
 * - Each chunk's **associated data** (AAD v1) is
 *   `u8 formatVersion ‖ u8 flags(bit0 = final) ‖ u64be index ‖ u32be plaintextLength ‖ u32be chunkSize ‖
 *    u16be len ‖ datasetId(utf8) ‖ u16be len ‖ version(decimal utf8)`.
 *   Every non-final chunk holds exactly `chunkSize` plaintext bytes; the last holds 0..chunkSize and is marked
 *   final (an empty input still produces one empty final chunk), so a stream that ends without a final chunk,
 *   or goes on after one, is detected.
 * - Each chunk's SHA-256 (of ciphertext ‖ tag) goes into the manifest. On decryption each piece is hashed and
 *   decrypted as it arrives (one pass, cache-hot); at the chunk's end the digest is checked first, then the GCM tag,
 *   and only then is that chunk's plaintext released.
 *
 * Memory: one chunk in flight plus at most one source piece of read-ahead (the encryptor must see one byte past
 * a chunk to know it is not the last); with worker hashing, one more chunk per hashing thread.
 *
 * Speed: on this project's CPUs (VAES, SHA-NI) SHA-256 runs at about 60% of AES-256-GCM's speed, so the format's
 * per-chunk digest, hashed on the same thread, caps a stream at about 0.5-0.6x of raw GCM whatever else is done.
 * By default (an idle core, chunks >= 256 KiB; encryption from 2 cores, decryption from 4) chunks are hashed on
 * worker threads instead ({@link defaultParallelHash}; chunkHasher.ts): encryption moves the chunk's memory there
 * and back, decryption hashes pooled shared slabs in place. With enough cores the stream runs at GCM's speed. The bytes, digests, checks and errors are the same either way.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DecipherGCM } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { workerHasher } from './chunkHasher.js';
import { IntegrityError } from './errors.js';

// The format's constants live in chunkedAeadFormat.ts (no Node imports: schemas, and so the browser SDK, read them).
import { AAD_VERSION, CIPHER_ALG, DEFAULT_CHUNK_SIZE, FORMAT_VERSION, MAX_CHUNKS, MAX_CHUNK_SIZE, NONCE_SCHEME, TAG_LENGTH } from './chunkedAeadFormat.js';
export { AAD_VERSION, CIPHER_ALG, DEFAULT_CHUNK_SIZE, FORMAT_VERSION, MAX_CHUNKS, MAX_CHUNK_SIZE, NONCE_SCHEME, TAG_LENGTH } from './chunkedAeadFormat.js';

const KEY_LENGTH = 32;
const SALT_LENGTH = 32;
const INFO_KEY = 'provena/chunked-aead/v1/key';
const INFO_COMMIT = 'provena/chunked-aead/v1/commit';

/** The per-encryption parameters a decryptor needs besides the key; they travel in the manifest. */
export interface StreamParams {
  formatVersion: typeof FORMAT_VERSION;
  aadVersion: typeof AAD_VERSION;
  chunkSize: number;
  /** 32 random bytes, hex. */
  salt: string;
  /** HKDF-derived commitment to the data key, hex (32 bytes). */
  keyCommitment: string;
}

/** Which dataset version a stream belongs to; bound into every chunk's key and AAD. */
export interface StreamBinding {
  datasetId: string;
  version: number;
}

/** One encrypted chunk as produced by {@link encryptStream}. */
export interface EncryptedChunk {
  index: number;
  final: boolean;
  plaintextLength: number;
  /**
   * Ciphertext followed by the 16-byte GCM tag, in the pieces the cipher produced them (the tag last): what a
   * consumer that writes or sends them should take, without a copy.
   */
  readonly ciphertextParts: readonly Buffer[];
  /** The same bytes as one buffer, concatenated on first use (a copy of the whole chunk). */
  readonly ciphertext: Buffer;
  /** SHA-256 of `ciphertext`, lowercase hex. */
  sha256: string;
}

/** {@link EncryptedChunk} with its one-buffer view built lazily: most consumers want the parts. */
class Chunk implements EncryptedChunk {
  #joined: Buffer | undefined;
  sha256 = '';
  constructor(
    readonly index: number,
    readonly final: boolean,
    readonly plaintextLength: number,
    /** Replaced by the parts the hash worker hands back when hashing off-thread (the same memory). */
    public ciphertextParts: readonly Buffer[],
    readonly ciphertextSize: number,
  ) {}

  get ciphertext(): Buffer {
    this.#joined ??= this.ciphertextParts.length === 1 ? this.ciphertextParts[0]! : Buffer.concat(this.ciphertextParts as Buffer[], this.ciphertextSize);
    return this.#joined;
  }
}

/** What the manifest records per chunk and what {@link decryptStream} checks against. */
export interface ExpectedChunk {
  ciphertextSize: number;
  /** Lowercase hex SHA-256 of the chunk's ciphertext ‖ tag. */
  sha256: string;
}

/** Options of {@link encryptStream}. */
export interface EncryptOptions extends StreamBinding {
  /** The 32-byte data key. */
  key: Uint8Array;
  /** Plaintext bytes per chunk (default {@link DEFAULT_CHUNK_SIZE}). */
  chunkSize?: number;
  /** Fixed salt, for reproducible test vectors only; omit in production (a random one is drawn). */
  salt?: Uint8Array;
  /**
   * Hash chunks on a worker thread, overlapping with encryption. SHA-256 costs about as much as AES-GCM itself
   * here, so inline hashing caps a stream near half of raw GCM; with idle cores the workers hide it. Default
   * {@link defaultParallelHash}: on when a core is idle and chunks are at least {@link PARALLEL_HASH_MIN_CHUNK}
   * (below that the message round trip costs more than it saves). Output is byte-identical either way.
   */
  parallelHash?: boolean;
  /** Hashing threads when hashing off-thread (default: cores - 1, 1..4). */
  hashThreads?: number | undefined;
  /** What the stream shares its cores with, for the default of {@link parallelHash} (default `encrypt`). */
  use?: HashingUse;
}

/** Options of {@link decryptStream}. */
export interface DecryptOptions extends StreamBinding {
  key: Uint8Array;
  /** From the manifest. */
  params: StreamParams;
  /** From the manifest, in index order. */
  chunks: readonly ExpectedChunk[];
  /**
   * Verify digests on a worker thread while decrypting (default {@link defaultParallelHash}; see
   * {@link EncryptOptions.parallelHash}). A chunk's plaintext is still released only after its digest and tag
   * verified.
   */
  parallelHash?: boolean;
  /** Hashing threads when hashing off-thread (default: cores - 1, 1..4). */
  hashThreads?: number | undefined;
}

/** Totals of a finished encryption, for the manifest. */
export interface EncryptSummary {
  params: StreamParams;
  chunkCount: number;
  plaintextSize: number;
  ciphertextSize: number;
  chunks: ExpectedChunk[];
}

/**
 * An encryption in progress: iterate it once to get the chunks; `params` is known up front, `summary()` after
 * the iteration finished.
 */
export interface EncryptedStream extends AsyncIterable<EncryptedChunk> {
  readonly params: StreamParams;
  /** Totals and per-chunk digests; throws if the iteration has not completed. */
  summary(): EncryptSummary;
}

/** Smallest chunk size for which {@link defaultParallelHash} hashes on the worker thread (256 KiB). */
export const PARALLEL_HASH_MIN_CHUNK = 256 * 1024;

/**
 * What a stream shares its cores with, for {@link defaultParallelHash}: `encrypt` / `decrypt` alone (from memory
 * or a local file), or `transfer`: either one interleaved with its own network transport (an upload's PUTs, a
 * download's GETs), which needs the cores too.
 */
export type HashingUse = 'encrypt' | 'decrypt' | 'transfer';

/**
 * Whether a stream of `chunkSize` chunks hashes on worker threads by default: only where the machine is not
 * oversubscribed (1-minute load average at most the core count) and chunks are at least
 * {@link PARALLEL_HASH_MIN_CHUNK}; encryption alone from 2 cores, decryption and transfers from 4. Measured with a
 * fresh process per run (the crypto bench, 2 cores): encryption hashed on the worker ran at 833-1,018 MiB/s against
 * 592-681 inline at load ~1-1.6 (724-857 against 564-748 at load ~2); decryption on the worker stays slower than
 * inline (364-511 against 397-651 MiB/s), its pieces arriving from the file reader that shares the cores; an
 * upload through the embedded S3 went from 0.95 to 0.69 of the transport-only rate with it (the S3 server, the
 * PUTs and the worker contend for the same 2 cores). Oversubscribed, the worker only adds hand-offs (at load
 * 10-19: encrypt 0.35x of raw GCM against 0.48x inline). `PROVENA_PARALLEL_HASH=0|1` overrides all of them.
 */
export function defaultParallelHash(chunkSize: number, use: HashingUse = 'encrypt'): boolean {
  const env = process.env.PROVENA_PARALLEL_HASH;
  if (env === '0' || env === '1') return env === '1';
  const cores = availableParallelism();
  return cores >= (use === 'encrypt' ? 2 : 4) && chunkSize >= PARALLEL_HASH_MIN_CHUNK && loadavg()[0]! <= cores;
}

/**
 * Draws a fresh 256-bit data key. One per dataset version; never re-use it for another.
 *
 * @example
 * ```ts
 * const key = generateDataKey();
 * ```
 */
export function generateDataKey(): Buffer {
  return randomBytes(KEY_LENGTH);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_LENGTH) throw new IntegrityError('DATA_KEY_MISMATCH', `data key must be ${KEY_LENGTH} bytes, got ${key.length}`);
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new IntegrityError('MANIFEST_MISMATCH', `chunkSize must be an integer in 1..${MAX_CHUNK_SIZE}, got ${chunkSize}`);
  }
}

function checkBinding({ datasetId, version }: StreamBinding): { id: Buffer; ver: Buffer } {
  const id = Buffer.from(datasetId, 'utf8');
  const ver = Buffer.from(String(version), 'utf8');
  if (id.length === 0 || id.length > 0xffff) throw new IntegrityError('MANIFEST_MISMATCH', 'datasetId must be 1..65535 UTF-8 bytes');
  if (!Number.isSafeInteger(version) || version < 0) throw new IntegrityError('MANIFEST_MISMATCH', 'version must be a non-negative integer');
  return { id, ver };
}

function lengthPrefixed(b: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** HKDF outputs for one stream. Exported for the manifest tooling and tests; callers rarely need it. */
export function deriveStreamKeys(
  key: Uint8Array,
  salt: Uint8Array,
  binding: StreamBinding,
  chunkSize: number,
): { streamKey: Buffer; keyCommitment: Buffer } {
  checkKey(key);
  const { id, ver } = checkBinding(binding);
  const cs = Buffer.alloc(4);
  cs.writeUInt32BE(chunkSize);
  const info = Buffer.concat([Buffer.from(INFO_KEY), lengthPrefixed(id), lengthPrefixed(ver), cs]);
  return {
    streamKey: Buffer.from(hkdfSync('sha256', key, salt, info, KEY_LENGTH)),
    keyCommitment: Buffer.from(hkdfSync('sha256', key, salt, Buffer.from(INFO_COMMIT), KEY_LENGTH)),
  };
}

/** Builds the AAD v1 prefix shared by all chunks of a stream (everything but flags/index/length). */
function aadTail(binding: StreamBinding, chunkSize: number): Buffer {
  const { id, ver } = checkBinding(binding);
  const cs = Buffer.alloc(4);
  cs.writeUInt32BE(chunkSize);
  return Buffer.concat([cs, lengthPrefixed(id), lengthPrefixed(ver)]);
}

function chunkAad(tail: Buffer, index: number, final: boolean, plaintextLength: number): Buffer {
  const head = Buffer.alloc(14);
  head.writeUInt8(FORMAT_VERSION, 0);
  head.writeUInt8(final ? 1 : 0, 1);
  head.writeBigUInt64BE(BigInt(index), 2);
  head.writeUInt32BE(plaintextLength, 10);
  return Buffer.concat([head, tail]);
}

function chunkNonce(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

/**
 * Encrypts a plaintext byte stream into authenticated chunks.
 *
 * The source's pieces are kept by reference until encrypted, so a source must not mutate a piece after
 * yielding it (Node streams and `fs` reads do not).
 *
 * @example
 * ```ts
 * const enc = encryptStream(createReadStream(path), { key, datasetId: 'ds_1', version: 1 });
 * for await (const c of enc) await uploadPart(c.index, c.ciphertextParts);
 * const { chunks, plaintextSize, params } = enc.summary(); // into the manifest
 * ```
 */
export function encryptStream(source: AsyncIterable<Uint8Array>, options: EncryptOptions): EncryptedStream {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  checkChunkSize(chunkSize);
  checkKey(options.key);
  const binding: StreamBinding = { datasetId: options.datasetId, version: options.version };
  const salt = options.salt === undefined ? randomBytes(SALT_LENGTH) : Buffer.from(options.salt);
  if (salt.length !== SALT_LENGTH) throw new IntegrityError('MANIFEST_MISMATCH', `salt must be ${SALT_LENGTH} bytes`);
  const { streamKey, keyCommitment } = deriveStreamKeys(options.key, salt, binding, chunkSize);
  const tail = aadTail(binding, chunkSize);
  const params: StreamParams = {
    formatVersion: FORMAT_VERSION,
    aadVersion: AAD_VERSION,
    chunkSize,
    salt: salt.toString('hex'),
    keyCommitment: keyCommitment.toString('hex'),
  };

  let summary: EncryptSummary | undefined;
  let started = false;
  const parallel = options.parallelHash ?? defaultParallelHash(chunkSize, options.use ?? 'encrypt');

  async function* run(): AsyncGenerator<EncryptedChunk> {
    const records: ExpectedChunk[] = [];
    let plaintextSize = 0;
    let ciphertextSize = 0;
    // Pending plaintext pieces, by reference: encrypting them piecewise avoids copying into a chunk buffer.
    let pending: Uint8Array[] = [];
    let pendingLen = 0;
    let index = 0;

    const emit = (length: number, final: boolean): { chunk: Chunk; digest: Promise<string> } => {
      if (index >= MAX_CHUNKS) throw new IntegrityError('MANIFEST_MISMATCH', `more than ${MAX_CHUNKS} chunks in one stream`);
      const cipher = createCipheriv('aes-256-gcm', streamKey, chunkNonce(index));
      cipher.setAAD(chunkAad(tail, index, final, length));
      // Inline, each piece is hashed right after it is encrypted, while it is still in cache; the chunk keeps the
      // cipher's output pieces as they are (no concatenation: that copy and its fresh 4 MiB allocation cost as
      // much as a sixth of the encryption).
      const hash = parallel ? undefined : createHash('sha256');
      const out: Buffer[] = [];
      const put = (b: Buffer): void => {
        if (b.length === 0) return;
        hash?.update(b);
        out.push(b);
      };
      let need = length;
      while (need > 0) {
        const piece = pending[0]!;
        if (piece.length <= need) {
          put(cipher.update(piece));
          pending.shift();
          need -= piece.length;
        } else {
          put(cipher.update(piece.subarray(0, need)));
          pending[0] = piece.subarray(need);
          need = 0;
        }
      }
      pendingLen -= length;
      put(cipher.final());
      put(cipher.getAuthTag());
      const size = length + TAG_LENGTH;
      const chunk = new Chunk(index, final, length, out, size);
      // With the worker the chunk's buffers are moved to it (no copy) and hashed while this thread encrypts the next
      // chunk; they come back with the digest, before the chunk is yielded.
      let digest: Promise<string>;
      if (hash) digest = Promise.resolve(hash.digest('hex'));
      else {
        digest = workerHasher(options.hashThreads)
          .hashOwned(out)
          .then((r) => {
            chunk.ciphertextParts = r.parts;
            return r.hex;
          });
        digest.catch(() => undefined);
      }
      plaintextSize += length;
      ciphertextSize += size;
      index += 1;
      return { chunk, digest };
    };

    // Chunks encrypted but not yet handed out, oldest first: with worker hashing, as many as there are hashing
    // threads, so each thread has a chunk to hash while this thread encrypts the next one.
    const queue: { chunk: Chunk; digest: Promise<string> }[] = [];
    const depth = parallel ? workerHasher(options.hashThreads).threadCount : 1;
    const settle = async (p: { chunk: Chunk; digest: Promise<string> }): Promise<EncryptedChunk> => {
      p.chunk.sha256 = await p.digest;
      records.push({ ciphertextSize: p.chunk.ciphertextSize, sha256: p.chunk.sha256 });
      return p.chunk;
    };

    for await (const piece of source) {
      if (piece.length === 0) continue;
      pending.push(piece);
      pendingLen += piece.length;
      // Strictly greater: a full chunk is known to be non-final only once a byte beyond it has arrived.
      while (pendingLen > chunkSize) {
        queue.push(emit(chunkSize, false));
        while (queue.length > depth) yield await settle(queue.shift()!);
      }
    }
    queue.push(emit(pendingLen, true));
    while (queue.length > 0) yield await settle(queue.shift()!);
    pending = [];
    summary = { params, chunkCount: index, plaintextSize, ciphertextSize, chunks: records };
  }

  return {
    params,
    summary(): EncryptSummary {
      if (summary === undefined) throw new Error('encryptStream: summary() before the stream was fully consumed');
      return summary;
    },
    [Symbol.asyncIterator](): AsyncIterator<EncryptedChunk> {
      if (started) throw new Error('encryptStream: an EncryptedStream can be iterated only once');
      started = true;
      return run();
    },
  };
}

/**
 * Checks the manifest's chunk layout and the key commitment before reading any ciphertext.
 * Throws `DATA_KEY_MISMATCH` for a wrong key, `MANIFEST_MISMATCH` for an impossible layout.
 */
function prepareDecrypt(options: DecryptOptions): { streamKey: Buffer; tail: Buffer } {
  const { params, chunks } = options;
  if (params.formatVersion !== FORMAT_VERSION || params.aadVersion !== AAD_VERSION) {
    throw new IntegrityError('MANIFEST_MISMATCH', `unsupported format ${params.formatVersion}/aad ${params.aadVersion}`);
  }
  checkChunkSize(params.chunkSize);
  checkKey(options.key);
  const salt = Buffer.from(params.salt, 'hex');
  if (salt.length !== SALT_LENGTH) throw new IntegrityError('MANIFEST_MISMATCH', 'salt must be 32 bytes of hex');
  if (chunks.length === 0) throw new IntegrityError('CIPHERTEXT_TRUNCATED', 'manifest lists no chunks (a stream always has a final chunk)');
  if (chunks.length > MAX_CHUNKS) throw new IntegrityError('MANIFEST_MISMATCH', 'too many chunks');
  chunks.forEach((c, i) => {
    const full = params.chunkSize + TAG_LENGTH;
    const ok = i < chunks.length - 1 ? c.ciphertextSize === full : c.ciphertextSize >= TAG_LENGTH && c.ciphertextSize <= full;
    if (!Number.isSafeInteger(c.ciphertextSize) || !ok || !/^[0-9a-f]{64}$/.test(c.sha256)) {
      throw new IntegrityError('MANIFEST_MISMATCH', `manifest chunk ${i} has an impossible size or digest`, { details: { index: i } });
    }
  });
  const { streamKey, keyCommitment } = deriveStreamKeys(options.key, salt, options, params.chunkSize);
  const expected = Buffer.from(params.keyCommitment, 'hex');
  if (expected.length !== keyCommitment.length || !timingSafeEqual(expected, keyCommitment)) {
    throw new IntegrityError('DATA_KEY_MISMATCH', 'the data key does not match the manifest key commitment');
  }
  return { streamKey, tail: aadTail(options, params.chunkSize) };
}

/** Decrypts one chunk's pieces, all or nothing: returns plaintext pieces, or null if the tag fails. */
function openChunk(streamKey: Buffer, aad: Buffer, index: number, pieces: readonly Uint8Array[], ctLen: number): Buffer[] | null {
  const decipher: DecipherGCM = createDecipheriv('aes-256-gcm', streamKey, chunkNonce(index));
  decipher.setAAD(aad);
  const bodyLen = ctLen - TAG_LENGTH;
  const out: Buffer[] = [];
  const tag = Buffer.alloc(TAG_LENGTH);
  let pos = 0;
  for (const p of pieces) {
    const bodyPart = Math.max(0, Math.min(p.length, bodyLen - pos));
    if (bodyPart > 0) out.push(decipher.update(p.subarray(0, bodyPart)));
    if (bodyPart < p.length) tag.set(p.subarray(bodyPart), pos + bodyPart - bodyLen);
    pos += p.length;
  }
  decipher.setAuthTag(tag);
  try {
    out.push(decipher.final());
  } catch {
    return null;
  }
  return out;
}

/**
 * One chunk being opened as its ciphertext arrives: each piece is hashed and decrypted while it is still in cache
 * (one pass over the bytes), and the plaintext is held until the digest and then the tag have been checked.
 * The pieces are kept by reference only for the failure diagnosis in {@link finishOpening}.
 */
interface ChunkOpening {
  index: number;
  final: boolean;
  expected: ExpectedChunk;
  decipher: DecipherGCM;
  hash: ReturnType<typeof createHash>;
  pieces: Uint8Array[];
  plain: Buffer[];
  tag: Buffer;
  have: number;
}

function startOpening(streamKey: Buffer, tail: Buffer, chunks: readonly ExpectedChunk[], index: number): ChunkOpening {
  const expected = chunks[index]!;
  const final = index === chunks.length - 1;
  const decipher: DecipherGCM = createDecipheriv('aes-256-gcm', streamKey, chunkNonce(index));
  decipher.setAAD(chunkAad(tail, index, final, expected.ciphertextSize - TAG_LENGTH));
  return { index, final, expected, decipher, hash: createHash('sha256'), pieces: [], plain: [], tag: Buffer.alloc(TAG_LENGTH), have: 0 };
}

/** Feeds one piece (never past the chunk's end) to the chunk's hash and decipher. */
function feedOpening(o: ChunkOpening, piece: Uint8Array): void {
  const bodyLen = o.expected.ciphertextSize - TAG_LENGTH;
  o.hash.update(piece);
  o.pieces.push(piece);
  const bodyPart = Math.max(0, Math.min(piece.length, bodyLen - o.have));
  if (bodyPart > 0) {
    const p = o.decipher.update(bodyPart === piece.length ? piece : piece.subarray(0, bodyPart));
    if (p.length > 0) o.plain.push(p);
  }
  if (bodyPart < piece.length) o.tag.set(piece.subarray(bodyPart), o.have + bodyPart - bodyLen);
  o.have += piece.length;
}

/**
 * Checks a complete chunk, digest first, then the GCM tag; returns its plaintext pieces or throws. Nothing of a
 * chunk that fails either check leaves this function.
 */
function finishOpening(o: ChunkOpening, streamKey: Buffer, tail: Buffer): Buffer[] {
  const { index, final, expected } = o;
  if (o.hash.digest('hex') !== expected.sha256) {
    throw new IntegrityError('CHUNK_DIGEST_MISMATCH', `chunk ${index}: ciphertext digest does not match the manifest`, { details: { index } });
  }
  o.decipher.setAuthTag(o.tag);
  try {
    const last = o.decipher.final();
    if (last.length > 0) o.plain.push(last);
    return o.plain;
  } catch {
    o.plain = [];
  }
  // Diagnose only on failure: would it authenticate with the other final flag? Then the manifest was cut short (a
  // non-final chunk is listed last) or lists chunks past the real end. Nothing is yielded either way.
  const plainLen = expected.ciphertextSize - TAG_LENGTH;
  const flipped = openChunk(streamKey, chunkAad(tail, index, !final, plainLen), index, o.pieces, expected.ciphertextSize);
  if (flipped !== null && final) throw new IntegrityError('CIPHERTEXT_TRUNCATED', `chunk ${index} is not the final chunk: the ciphertext was truncated`, { details: { index } });
  if (flipped !== null) throw new IntegrityError('CIPHERTEXT_TRAILING_DATA', `chunk ${index} is a final chunk but more chunks follow`, { details: { index } });
  throw new IntegrityError('CHUNK_AUTH_FAILED', `chunk ${index} failed authentication (tampered, moved, or from another dataset/version)`, { details: { index } });
}

/**
 * Decrypts a ciphertext byte stream (the chunks' ciphertexts concatenated, as stored in S3), checking each
 * chunk against the manifest's digest and its GCM tag **before** yielding any of its plaintext.
 *
 * Errors (all {@link IntegrityError}): `DATA_KEY_MISMATCH` (wrong key, before reading), `MANIFEST_MISMATCH`
 * (impossible manifest), `CHUNK_DIGEST_MISMATCH` (a stored chunk was altered, reordered or replaced),
 * `CHUNK_AUTH_FAILED` (the chunk does not authenticate at this position for this dataset/version: the manifest
 * and the object were both altered, or the chunk comes from another dataset/version), `CIPHERTEXT_TRUNCATED`
 * (the stream or manifest ends before the final chunk), `CIPHERTEXT_TRAILING_DATA` (bytes or chunks after the
 * final chunk; the final chunk's plaintext is only yielded once the source is exhausted). Plaintext already yielded belongs to earlier chunks that verified; a consumer writing a file
 * should use {@link decryptToFile} so that a failure leaves nothing behind.
 *
 * @example
 * ```ts
 * for await (const plain of decryptStream(s3Body, { key, datasetId, version, params, chunks })) sink.write(plain);
 * ```
 */
export async function* decryptStream(source: AsyncIterable<Uint8Array>, options: DecryptOptions): AsyncGenerator<Buffer> {
  for await (const chunk of decryptChunks(source, options)) for (const p of chunk) if (p.length > 0) yield p;
}

/**
 * {@link decryptStream}, one verified chunk's plaintext pieces at a time (what {@link decryptToFile} writes with
 * one `writev`).
 */
async function* decryptChunks(source: AsyncIterable<Uint8Array>, options: DecryptOptions): AsyncGenerator<Buffer[]> {
  const { streamKey, tail } = prepareDecrypt(options);
  const { chunks } = options;
  if (options.parallelHash ?? defaultParallelHash(options.params.chunkSize, 'decrypt')) {
    yield* decryptChunksParallel(source, options, streamKey, tail);
    return;
  }
  let opening: ChunkOpening | undefined;
  let finalPlain: Buffer[] = [];
  let index = 0;
  for await (let piece of source) {
    while (piece.length > 0) {
      if (index >= chunks.length) {
        throw new IntegrityError('CIPHERTEXT_TRAILING_DATA', 'ciphertext continues after the final chunk', { details: { index } });
      }
      opening ??= startOpening(streamKey, tail, chunks, index);
      const need = opening.expected.ciphertextSize - opening.have;
      const take = piece.length <= need ? piece : piece.subarray(0, need);
      piece = piece.length <= need ? new Uint8Array(0) : piece.subarray(need);
      feedOpening(opening, take);
      if (opening.have === opening.expected.ciphertextSize) {
        const plain = finishOpening(opening, streamKey, tail);
        const isLast = opening.final;
        opening = undefined;
        index += 1;
        // The final chunk is held back until the source is exhausted, so trailing data fails before it is seen.
        if (isLast) finalPlain = plain;
        else yield plain;
      }
    }
  }
  if (index < chunks.length) {
    throw new IntegrityError('CIPHERTEXT_TRUNCATED', `ciphertext ended in chunk ${index} of ${chunks.length}`, { details: { index, expected: chunks.length } });
  }
  yield finalPlain;
}

/** A chunk whose ciphertext is complete and whose tag was checked, its digest still being computed on the worker. */
interface HashingChunk {
  index: number;
  final: boolean;
  size: number;
  /** The plaintext, or null when the GCM tag failed. */
  plain: Buffer[] | null;
  /** The chunk's ciphertext ‖ tag (the first `size` bytes), on a shared slab the worker hashes in place. */
  slab: Buffer;
  digest: Promise<string>;
}

/**
 * The worker-hash variant. Each piece is decrypted on arrival (cache-hot) and copied into a reusable slab; a
 * complete chunk's slab (a SharedArrayBuffer) is hashed in place by the worker while this thread decrypts the next
 * chunk, and goes back into the pool. A chunk's plaintext is released only once its digest matched and its tag verified, up to
 * one chunk per hashing thread later than inline (at most threads + 1 chunks of plaintext and of slabs held). Errors and their precedence are
 * those of the inline path: an earlier chunk's failure first, then per chunk digest before tag.
 */
async function* decryptChunksParallel(
  source: AsyncIterable<Uint8Array>,
  { chunks, params, hashThreads }: DecryptOptions,
  streamKey: Buffer,
  tail: Buffer,
): AsyncGenerator<Buffer[]> {
  const hasher = workerHasher(hashThreads);
  const slabSize = params.chunkSize + TAG_LENGTH;
  const pool: Buffer[] = [];
  let index = 0;
  let decipher: DecipherGCM | undefined;
  let slab: Buffer | undefined;
  let plain: Buffer[] = [];
  let have = 0;
  // Complete chunks whose digests are being computed, oldest first: up to one per hashing thread.
  const queue: HashingChunk[] = [];
  const depth = hasher.threadCount;

  /** Waits for a chunk's digest, returns its slab to the pool, and throws unless the digest matches. */
  const checkDigest = async (c: HashingChunk): Promise<Buffer> => {
    const hex = await c.digest;
    const back = c.slab;
    if (pool.length <= depth) pool.push(back);
    if (hex !== chunks[c.index]!.sha256) {
      throw new IntegrityError('CHUNK_DIGEST_MISMATCH', `chunk ${c.index}: ciphertext digest does not match the manifest`, { details: { index: c.index } });
    }
    return back;
  };
  /** A chunk whose tag failed: digest first, then which failure it is (see finishOpening). */
  const diagnose = async (c: HashingChunk): Promise<never> => {
    const back = await checkDigest(c);
    const plainLen = c.size - TAG_LENGTH;
    const flipped = openChunk(streamKey, chunkAad(tail, c.index, !c.final, plainLen), c.index, [back.subarray(0, c.size)], c.size);
    if (flipped !== null && c.final) throw new IntegrityError('CIPHERTEXT_TRUNCATED', `chunk ${c.index} is not the final chunk: the ciphertext was truncated`, { details: { index: c.index } });
    if (flipped !== null) throw new IntegrityError('CIPHERTEXT_TRAILING_DATA', `chunk ${c.index} is a final chunk but more chunks follow`, { details: { index: c.index } });
    throw new IntegrityError('CHUNK_AUTH_FAILED', `chunk ${c.index} failed authentication (tampered, moved, or from another dataset/version)`, { details: { index: c.index } });
  };
  /** The previous chunk's plaintext once verified (its tag already was), or the failure it is. */
  const release = async (c: HashingChunk): Promise<Buffer[]> => {
    if (c.plain === null) return diagnose(c);
    await checkDigest(c);
    return c.plain;
  };

  for await (let piece of source) {
    while (piece.length > 0) {
      if (index >= chunks.length) {
        // As inline: the verified chunks before the final one are released; the final one never is.
        while (queue.length > 1) yield await release(queue.shift()!);
        throw new IntegrityError('CIPHERTEXT_TRAILING_DATA', 'ciphertext continues after the final chunk', { details: { index } });
      }
      const expected = chunks[index]!;
      const bodyLen = expected.ciphertextSize - TAG_LENGTH;
      if (decipher === undefined) {
        decipher = createDecipheriv('aes-256-gcm', streamKey, chunkNonce(index));
        decipher.setAAD(chunkAad(tail, index, index === chunks.length - 1, bodyLen));
        // Shared slabs, at most depth + 2 per stream, reused: hashed in place by the worker (see hashShared).
        slab = pool.pop() ?? Buffer.from(new SharedArrayBuffer(slabSize));
      }
      const need = expected.ciphertextSize - have;
      const take = piece.length <= need ? piece : piece.subarray(0, need);
      piece = piece.length <= need ? new Uint8Array(0) : piece.subarray(need);
      const bodyPart = Math.max(0, Math.min(take.length, bodyLen - have));
      if (bodyPart > 0) {
        const p = decipher.update(bodyPart === take.length ? take : take.subarray(0, bodyPart));
        if (p.length > 0) plain.push(p);
      }
      slab!.set(take, have);
      have += take.length;
      if (have < expected.ciphertextSize) continue;

      decipher.setAuthTag(slab!.subarray(bodyLen, expected.ciphertextSize));
      let opened: Buffer[] | null = plain;
      try {
        const last = decipher.final();
        if (last.length > 0) plain.push(last);
      } catch {
        opened = null;
      }
      const digest = hasher.hashShared(slab!.buffer as SharedArrayBuffer, expected.ciphertextSize);
      digest.catch(() => undefined);
      const done: HashingChunk = { index, final: index === chunks.length - 1, size: expected.ciphertextSize, plain: opened, slab: slab!, digest };
      decipher = undefined;
      slab = undefined;
      plain = [];
      have = 0;
      index += 1;
      if (done.plain === null) {
        // Earlier chunks first (their own failures take precedence), then this one's diagnosis.
        while (queue.length > 0) yield await release(queue.shift()!);
        await diagnose(done);
      }
      queue.push(done);
      while (queue.length > depth) yield await release(queue.shift()!);
    }
  }
  if (index < chunks.length) {
    // Like the inline path: the chunks before the one cut short were verified and are released first.
    while (queue.length > 0) yield await release(queue.shift()!);
    throw new IntegrityError('CIPHERTEXT_TRUNCATED', `ciphertext ended in chunk ${index} of ${chunks.length}`, { details: { index, expected: chunks.length } });
  }
  // The rest; the final chunk was held back until the source was exhausted (trailing data fails before it is seen).
  while (queue.length > 1) yield await release(queue.shift()!);
  yield queue.length === 0 ? [] : await release(queue.shift()!);
}

/**
 * Decrypts into `path` through a temporary file in the same directory (mode 0600), fsyncs, and renames it into
 * place only when every chunk verified. On any failure the temporary file is removed, so no plaintext file is
 * left behind. Returns the plaintext byte count.
 *
 * @example
 * ```ts
 * await decryptToFile(s3Body, '/data/train.csv', { key, datasetId, version, params, chunks });
 * ```
 */
export async function decryptToFile(source: AsyncIterable<Uint8Array>, path: string, options: DecryptOptions): Promise<number> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.partial`);
  const fh = await open(tmp, 'wx', 0o600);
  let written = 0;
  let closed = false;
  // One write in flight while the next chunk arrives and is opened: the disk and the network overlap with the
  // crypto instead of taking turns (at most two chunks of plaintext held).
  let writing: Promise<void> = Promise.resolve();
  const writeAll = async (pieces: Buffer[]): Promise<void> => {
    let rest = pieces.filter((p) => p.length > 0);
    while (rest.length > 0) {
      let { bytesWritten } = await fh.writev(rest);
      written += bytesWritten;
      // writev may write less than asked: drop what was written and go on with the rest.
      while (rest.length > 0 && bytesWritten >= rest[0]!.length) bytesWritten -= rest.shift()!.length;
      if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
    }
  };
  // One write slab of a chunk's size (the manifest check bounds every chunk's plaintext by it): once the previous
  // write is done, a verified chunk's plaintext pieces are copied into it and written from there, so the pieces die
  // young. Written straight from the pieces, they stayed alive across the write's await, were promoted, and only
  // full GCs freed them: 512 MiB downloaded and written took 149-223 ms of mark-compacts on the main thread, 14-16
  // with the slab, and 3.6-3.7 CPU-seconds instead of 2.9-3.1 (session 6, a loopback HTTP source).
  let slab: Buffer | undefined;
  try {
    try {
      for await (const plain of decryptChunks(source, options)) {
        await writing;
        // Allocated once a chunk verified, so the chunk size it takes was checked first.
        slab ??= Buffer.allocUnsafeSlow(options.params.chunkSize);
        let filled = 0;
        for (const p of plain) filled += p.copy(slab, filled);
        writing = writeAll([slab.subarray(0, filled)]);
        // Handled here so a failing write is not reported as unhandled while the next chunk is awaited; the next
        // `await writing` still throws it.
        writing.catch(() => undefined);
      }
    } finally {
      // Settle the last write before the handle is closed or the temporary file removed.
      await writing.catch(() => undefined);
    }
    await writing;
    await fh.sync();
    await fh.close();
    closed = true;
    await rename(tmp, path);
    return written;
  } catch (err) {
    if (!closed) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
