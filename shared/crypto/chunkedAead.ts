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
 * - Each chunk's SHA-256 (of ciphertext ‖ tag) goes into the manifest. On decryption each chunk's digest is
 *   checked first, then its GCM tag, and only then is that chunk's plaintext released.
 *
 * Memory: encryption holds one chunk in flight plus at most one source piece of read-ahead (the encryptor must see
 * one byte past a chunk to know it is not the last); with worker hashing, one more chunk per hashing thread.
 * Decryption lends each chunk's plaintext from reused slabs ({@link decryptStream}): one slab inline, and with the
 * worker threads `threads + 3` slabs of ciphertext and of plaintext (shared memory the threads read and write).
 *
 * Speed: on this project's CPUs (VAES, SHA-NI) SHA-256 runs at about 60-75% of AES-256-GCM's speed, so the format's
 * per-chunk digest, computed on the same thread, caps a stream at about 0.5-0.6x of raw GCM whatever else is done.
 * By default (an idle machine, chunks >= 256 KiB, from 2 cores; transfers from 4: {@link defaultParallelHash})
 * the work moves to worker threads instead (chunkHasher.ts): encryption hashes each chunk there (its memory moved
 * there and back); decryption opens each chunk on one thread and hashes it on another, side by side, reading one
 * shared slab in place while the calling thread reads the next chunk. The bytes, digests, checks and errors are the
 * same either way.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DecipherGCM } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { constants } from 'node:buffer';
import { workerHasher, workerOpener } from './chunkHasher.js';
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
   * Open and hash the chunks on worker threads, side by side, while this thread reads the next one (default
   * {@link defaultParallelHash}; see {@link decryptStream}). A chunk's plaintext is still released only after its
   * digest and tag verified, and the plaintext, the checks and the errors are the same either way.
   */
  parallelHash?: boolean;
  /** Threads of each kind (opening, hashing) when working off-thread (default: cores - 1, 1..4). */
  hashThreads?: number | undefined;
  /** What the stream shares its cores with, for the default of {@link parallelHash} (default `decrypt`). */
  use?: HashingUse;
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
 * Whether a stream of `chunkSize` chunks works on worker threads by default: only where the machine is not
 * oversubscribed (1-minute load average at most the core count) and chunks are at least
 * {@link PARALLEL_HASH_MIN_CHUNK}; encryption and decryption alone from 2 cores, transfers from 4. Measured with a
 * fresh process per run (the crypto bench, 2 cores): encryption hashed on the worker ran at 833-1,018 MiB/s against
 * 592-681 inline at load ~1-1.6 (724-857 against 564-748 at load ~2); decryption opened and hashed on two workers
 * at 673-745 MiB/s against 516-557 inline (session 8, 512 MiB interleaved); an upload through the embedded S3 went
 * from 0.95 to 0.69 of the transport-only rate with worker hashing (the S3 server, the PUTs and the worker contend
 * for the same 2 cores), and a download gained nothing (0.62-0.66 of its transport against 0.61-0.73 inline).
 * Oversubscribed, the workers only add hand-offs (at load 10-19: encrypt 0.35x of raw GCM against 0.48x inline).
 * `PROVENA_PARALLEL_HASH=0|1` overrides all of them.
 */
export function defaultParallelHash(chunkSize: number, use: HashingUse = 'encrypt'): boolean {
  const env = process.env.PROVENA_PARALLEL_HASH;
  if (env === '0' || env === '1') return env === '1';
  const cores = availableParallelism();
  return cores >= (use === 'transfer' ? 4 : 2) && chunkSize >= PARALLEL_HASH_MIN_CHUNK && loadavg()[0]! <= cores;
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
/** What {@link prepareDecrypt} derives once per stream. */
interface PreparedDecrypt {
  streamKey: Buffer;
  tail: Buffer;
  /** The largest chunk's plaintext bytes (every chunk but the last is full-sized). */
  largest: number;
  /** The whole plaintext's bytes, as the manifest lists them. */
  plaintextSize: number;
}

function prepareDecrypt(options: DecryptOptions): PreparedDecrypt {
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
  // Every chunk but the last is full-sized (checked above).
  const last = chunks[chunks.length - 1]!.ciphertextSize - TAG_LENGTH;
  const largest = chunks.length > 1 ? params.chunkSize : last;
  return { streamKey, tail: aadTail(options, params.chunkSize), largest, plaintextSize: (chunks.length - 1) * params.chunkSize + last };
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
 * One chunk being opened inline as its ciphertext arrives: each piece is hashed and decrypted on arrival (one pass,
 * cache-hot), and its plaintext copied into the stream's plaintext slab at once, so the cipher's output buffers die
 * young (held across awaits they were promoted and only full GCs freed them, which costs most once the heap holds
 * the AWS SDK). The pieces are kept by reference only for a failure's diagnosis ({@link verdict}).
 */
interface ChunkOpening {
  index: number;
  final: boolean;
  size: number;
  decipher: DecipherGCM;
  hash: ReturnType<typeof createHash>;
  pieces: Uint8Array[];
  plain: Buffer;
  plainLength: number;
  tag: Buffer;
  have: number;
}

function startOpening(streamKey: Buffer, tail: Buffer, chunks: readonly ExpectedChunk[], index: number, plain: Buffer): ChunkOpening {
  const size = chunks[index]!.ciphertextSize;
  const final = index === chunks.length - 1;
  const decipher: DecipherGCM = createDecipheriv('aes-256-gcm', streamKey, chunkNonce(index));
  decipher.setAAD(chunkAad(tail, index, final, size - TAG_LENGTH));
  return { index, final, size, decipher, hash: createHash('sha256'), pieces: [], plain, plainLength: 0, tag: Buffer.alloc(TAG_LENGTH), have: 0 };
}

/** Feeds one piece (never past the chunk's end); returns true once the chunk is complete. */
function feedOpening(o: ChunkOpening, piece: Uint8Array): boolean {
  const bodyLen = o.size - TAG_LENGTH;
  o.hash.update(piece);
  o.pieces.push(piece);
  const bodyPart = Math.max(0, Math.min(piece.length, bodyLen - o.have));
  if (bodyPart > 0) o.plainLength += o.decipher.update(bodyPart === piece.length ? piece : piece.subarray(0, bodyPart)).copy(o.plain, o.plainLength);
  if (bodyPart < piece.length) o.tag.set(piece.subarray(bodyPart), o.have + bodyPart - bodyLen);
  o.have += piece.length;
  return o.have === o.size;
}

/** Checks a complete chunk's GCM tag: true when it verified. A chunk that fails leaves a zeroed plaintext slab. */
function tagVerifies(o: ChunkOpening): boolean {
  o.decipher.setAuthTag(o.tag);
  try {
    o.plainLength += o.decipher.final().copy(o.plain, o.plainLength);
    return true;
  } catch {
    o.plain.fill(0);
    return false;
  }
}

/** A complete chunk, for its {@link verdict}. */
interface CompleteChunk {
  index: number;
  final: boolean;
  size: number;
  /** Its ciphertext ‖ tag, for a failure's diagnosis. */
  ciphertext: readonly Uint8Array[];
  /** Its plaintext, valid when the tag verified. */
  plain: Buffer;
}

/**
 * A complete chunk's verdict, digest first, then the GCM tag: its plaintext, or the failure. A tag failure is
 * diagnosed only then: would the chunk authenticate with the other final flag? Then the manifest was cut short (a
 * non-final chunk is listed last) or lists chunks past the real end.
 */
function verdict(c: CompleteChunk, digestHex: string, tagOk: boolean, expected: ExpectedChunk, streamKey: Buffer, tail: Buffer): Buffer {
  const { index, final, size } = c;
  if (digestHex !== expected.sha256) {
    throw new IntegrityError('CHUNK_DIGEST_MISMATCH', `chunk ${index}: ciphertext digest does not match the manifest`, { details: { index } });
  }
  if (tagOk) return c.plain;
  const flipped = openChunk(streamKey, chunkAad(tail, index, !final, size - TAG_LENGTH), index, c.ciphertext, size);
  if (flipped !== null && final) throw new IntegrityError('CIPHERTEXT_TRUNCATED', `chunk ${index} is not the final chunk: the ciphertext was truncated`, { details: { index } });
  if (flipped !== null) throw new IntegrityError('CIPHERTEXT_TRAILING_DATA', `chunk ${index} is a final chunk but more chunks follow`, { details: { index } });
  throw new IntegrityError('CHUNK_AUTH_FAILED', `chunk ${index} failed authentication (tampered, moved, or from another dataset/version)`, { details: { index } });
}

/**
 * Decrypts a ciphertext byte stream (the chunks' ciphertexts concatenated, as stored in S3), checking each
 * chunk against the manifest's digest and its GCM tag **before** yielding any of its plaintext. Yields one
 * Buffer per chunk.
 *
 * **Each Buffer is lent:** it is a view of a slab the stream reuses once the loop asks for the next chunk, so use
 * it (write it, hash it, parse it) or copy it (`Buffer.from(p)`) before then; never keep it. Holding no buffer
 * per chunk is what keeps decryption near raw GCM's speed (see {@link ChunkOpening}). {@link decryptToBuffer} and
 * {@link decryptToFile} keep the whole plaintext.
 *
 * Errors (all {@link IntegrityError}): `DATA_KEY_MISMATCH` (wrong key, before reading), `MANIFEST_MISMATCH`
 * (impossible manifest), `CHUNK_DIGEST_MISMATCH` (a stored chunk was altered, reordered or replaced),
 * `CHUNK_AUTH_FAILED` (the chunk does not authenticate at this position for this dataset/version: the manifest
 * and the object were both altered, or the chunk comes from another dataset/version), `CIPHERTEXT_TRUNCATED`
 * (the stream or manifest ends before the final chunk), `CIPHERTEXT_TRAILING_DATA` (bytes or chunks after the
 * final chunk; the final chunk's plaintext is only yielded once the source is exhausted). Plaintext already
 * yielded belongs to earlier chunks that verified; a consumer writing a file should use {@link decryptToFile} so
 * that a failure leaves nothing behind.
 *
 * @example
 * ```ts
 * for await (const plain of decryptStream(s3Body, { key, datasetId, version, params, chunks })) hash.update(plain);
 * ```
 */
export async function* decryptStream(source: AsyncIterable<Uint8Array>, options: DecryptOptions): AsyncGenerator<Buffer> {
  yield* decryptPrepared(source, options, prepareDecrypt(options));
}

/** {@link decryptStream} after {@link prepareDecrypt}: the path the options choose. */
function decryptPrepared(source: AsyncIterable<Uint8Array>, options: DecryptOptions, { streamKey, tail, largest }: PreparedDecrypt): AsyncGenerator<Buffer> {
  return options.parallelHash ?? defaultParallelHash(options.params.chunkSize, options.use ?? 'decrypt')
    ? decryptParallel(source, options, streamKey, tail, largest)
    : decryptInline(source, options, streamKey, tail, largest);
}

/**
 * Decrypts a whole stream into one buffer of the plaintext's exact size (from the manifest, allocated only after
 * the manifest checked out and only up to `maxBytes`, else `MANIFEST_MISMATCH` before any ciphertext is read).
 * Each verified chunk is copied straight into place: nothing kept per chunk and no concatenation at the end. On
 * failure the plaintext written so far is zeroed and the buffer dropped; the errors are {@link decryptStream}'s.
 *
 * @example
 * ```ts
 * const plaintext = await decryptToBuffer(s3Body, { key, datasetId, version, params, chunks });
 * ```
 */
export async function decryptToBuffer(source: AsyncIterable<Uint8Array>, options: DecryptOptions, maxBytes: number = constants.MAX_LENGTH): Promise<Buffer> {
  // Checked once, before the size is trusted and before anything is allocated or read.
  const prepared = prepareDecrypt(options);
  const size = prepared.plaintextSize;
  if (size > maxBytes) throw new IntegrityError('MANIFEST_MISMATCH', `the manifest lists ${size} bytes of plaintext, more than the ${maxBytes} allowed`, { details: { size, maxBytes } });
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  try {
    for await (const p of decryptPrepared(source, options, prepared)) at += p.copy(out, at);
  } catch (err) {
    // Only what was written holds plaintext: zeroing the rest would commit memory the stream never reached (up to
    // the whole size the manifest claimed).
    out.fill(0, 0, at);
    throw err;
  }
  return out;
}

/** The inline path of {@link decryptStream}: each piece hashed and decrypted on arrival, on this thread; one slab. */
async function* decryptInline(source: AsyncIterable<Uint8Array>, { chunks }: DecryptOptions, streamKey: Buffer, tail: Buffer, largest: number): AsyncGenerator<Buffer> {
  const slab = Buffer.allocUnsafeSlow(largest);
  let opening: ChunkOpening | undefined;
  let finalPlain: Buffer | undefined;
  let index = 0;
  for await (let piece of source) {
    while (piece.length > 0) {
      if (index >= chunks.length) {
        throw new IntegrityError('CIPHERTEXT_TRAILING_DATA', 'ciphertext continues after the final chunk', { details: { index } });
      }
      opening ??= startOpening(streamKey, tail, chunks, index, slab);
      const need = opening.size - opening.have;
      const take = piece.length <= need ? piece : piece.subarray(0, need);
      piece = piece.length <= need ? new Uint8Array(0) : piece.subarray(need);
      if (!feedOpening(opening, take)) continue;
      const o = opening;
      opening = undefined;
      index += 1;
      const tagOk = tagVerifies(o);
      const plain = verdict({ ...o, ciphertext: o.pieces, plain: o.plain.subarray(0, o.plainLength) }, o.hash.digest('hex'), tagOk, chunks[o.index]!, streamKey, tail);
      // The final chunk is held back until the source is exhausted, so trailing data fails before it is seen.
      if (o.final) finalPlain = plain;
      else yield plain;
    }
  }
  if (index < chunks.length) {
    throw new IntegrityError('CIPHERTEXT_TRUNCATED', `ciphertext ended in chunk ${index} of ${chunks.length}`, { details: { index, expected: chunks.length } });
  }
  yield finalPlain!;
}

/** A complete chunk in the worker threads' hands: being opened on one and hashed on another. */
interface OpeningChunk {
  index: number;
  final: boolean;
  size: number;
  /** Its ciphertext ‖ tag (the first `size` bytes), on a shared slab both threads read in place. */
  slab: Buffer;
  /** The shared slab the opening thread writes its plaintext to. */
  out: Buffer;
  digest: Promise<string>;
  /** Whether the GCM tag verified. */
  opened: Promise<boolean>;
}

/**
 * The worker path of {@link decryptStream}. This thread only copies the arriving pieces into a shared slab per
 * chunk; a complete chunk is opened (AES-GCM, tag checked) on one worker thread and hashed on another, side by side
 * and in place, while this thread fills the next slab. The opening thread writes the plaintext into a shared out
 * slab, which is lent to the consumer once the chunk's digest matched and its tag verified, in order. Errors and
 * their precedence are those of the inline path: an earlier chunk's failure first, then per chunk digest before
 * tag. At most `depth` complete chunks are in the threads' hands besides the one being filled and the one lent:
 * `depth + 2` slabs of each kind, allocated as first needed and reused.
 */
async function* decryptParallel(
  source: AsyncIterable<Uint8Array>,
  { chunks, hashThreads }: DecryptOptions,
  streamKey: Buffer,
  tail: Buffer,
  largest: number,
): AsyncGenerator<Buffer> {
  const hasher = workerHasher(hashThreads);
  const opener = workerOpener(hashThreads);
  // One chunk waiting per thread besides the one it works on.
  const depth = Math.max(hasher.threadCount, opener.threadCount) + 1;
  const slabs: Buffer[] = [];
  const outs: Buffer[] = [];
  const shared = (pool: Buffer[], size: number): Buffer => pool.pop() ?? Buffer.from(new SharedArrayBuffer(size));
  let slab: Buffer | undefined;
  let have = 0;
  let index = 0;
  // Complete chunks in the threads' hands, oldest first.
  const queue: OpeningChunk[] = [];

  /** Lends the oldest chunk's plaintext once it checked out (`lend` false: only checks it); then reuses its slabs. */
  async function* release(lend = true): AsyncGenerator<Buffer> {
    const c = queue.shift()!;
    // Both threads read the slab: it goes back to the pool only once both are done with it (and the diagnosis).
    const [hex, opened] = await Promise.all([c.digest, c.opened]);
    let plain: Buffer;
    try {
      const complete = { ...c, ciphertext: [c.slab.subarray(0, c.size)], plain: c.out.subarray(0, c.size - TAG_LENGTH) };
      plain = verdict(complete, hex, opened, chunks[c.index]!, streamKey, tail);
    } finally {
      slabs.push(c.slab);
    }
    if (lend) yield plain;
    outs.push(c.out);
  }

  for await (let piece of source) {
    while (piece.length > 0) {
      if (index >= chunks.length) {
        // As inline: every chunk up to the final one is checked in order, the final one's plaintext never released.
        while (queue.length > 1) yield* release();
        if (queue.length > 0) yield* release(false);
        throw new IntegrityError('CIPHERTEXT_TRAILING_DATA', 'ciphertext continues after the final chunk', { details: { index } });
      }
      const size = chunks[index]!.ciphertextSize;
      slab ??= shared(slabs, largest + TAG_LENGTH);
      const need = size - have;
      const take = piece.length <= need ? piece : piece.subarray(0, need);
      piece = piece.length <= need ? new Uint8Array(0) : piece.subarray(need);
      slab.set(take, have);
      have += take.length;
      if (have < size) continue;

      const final = index === chunks.length - 1;
      const out = shared(outs, largest);
      const gcm = { key: streamKey, nonce: chunkNonce(index), aad: chunkAad(tail, index, final, size - TAG_LENGTH) };
      const c: OpeningChunk = {
        index,
        final,
        size,
        slab,
        out,
        digest: hasher.hashShared(slab.buffer as SharedArrayBuffer, size),
        opened: opener.openShared(slab.buffer as SharedArrayBuffer, size, out.buffer as SharedArrayBuffer, gcm),
      };
      c.digest.catch(() => undefined);
      c.opened.catch(() => undefined);
      slab = undefined;
      have = 0;
      index += 1;
      queue.push(c);
      while (queue.length > depth) yield* release();
    }
  }
  if (index < chunks.length) {
    // Like the inline path: the chunks before the one cut short were verified and are released first.
    while (queue.length > 0) yield* release();
    throw new IntegrityError('CIPHERTEXT_TRUNCATED', `ciphertext ended in chunk ${index} of ${chunks.length}`, { details: { index, expected: chunks.length } });
  }
  // The rest; the final chunk was held back until the source was exhausted (trailing data fails before it is seen).
  while (queue.length > 0) yield* release();
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
  const writeAll = async (bytes: Buffer): Promise<void> => {
    let rest = bytes;
    while (rest.length > 0) {
      // write may write less than asked: go on with the rest.
      const { bytesWritten } = await fh.write(rest);
      written += bytesWritten;
      rest = rest.subarray(bytesWritten);
    }
  };
  // One write slab of a chunk's size (the manifest check bounds every chunk's plaintext by it): once the previous
  // write is done, the chunk decryptStream lends is copied into it and written from there while the next chunk is
  // opened. (Written from buffers kept across the write's await, the plaintext was promoted and only full GCs freed
  // it: 512 MiB downloaded and written took 149-223 ms of mark-compacts on the main thread, 14-16 with the slab;
  // session 6, a loopback HTTP source.)
  let slab: Buffer | undefined;
  try {
    try {
      for await (const plain of decryptStream(source, options)) {
        await writing;
        // Allocated once a chunk verified, so the chunk size it takes was checked first.
        slab ??= Buffer.allocUnsafeSlow(options.params.chunkSize);
        const filled = plain.copy(slab);
        writing = writeAll(slab.subarray(0, filled));
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
