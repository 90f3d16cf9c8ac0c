import { describe, it, expect, jest } from '@jest/globals';
import fc from 'fast-check';
import { createCipheriv, createHash, randomBytes, randomFillSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvenaError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { decryptStream, decryptToBuffer, decryptToFile, defaultParallelHash, encryptStream, generateDataKey, PARALLEL_HASH_MIN_CHUNK, TAG_LENGTH } from './chunkedAead.js';
import { WorkerHasher, workerHasher, workerOpener } from './chunkHasher.js';
import type { DecryptOptions, EncryptedChunk, ExpectedChunk, StreamParams } from './chunkedAead.js';

const CHUNK = 64;

async function* pieces(data: Uint8Array, pieceSize = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += pieceSize) yield data.subarray(i, i + pieceSize);
}

async function* bytesOf(chunks: readonly EncryptedChunk[], pieceSize = 13): AsyncGenerator<Uint8Array> {
  const all = Buffer.concat(chunks.map((c) => c.ciphertext));
  yield* pieces(all, pieceSize);
}

interface Sealed {
  chunks: EncryptedChunk[];
  params: StreamParams;
  expected: ExpectedChunk[];
  plaintextSize: number;
}

async function seal(data: Uint8Array, key: Buffer, datasetId = 'ds_a', version = 1, chunkSize = CHUNK): Promise<Sealed> {
  const enc = encryptStream(pieces(data), { key, datasetId, version, chunkSize });
  const chunks: EncryptedChunk[] = [];
  for await (const c of enc) chunks.push(c);
  const s = enc.summary();
  return { chunks, params: s.params, expected: s.chunks, plaintextSize: s.plaintextSize };
}

/** Consumes a decryption, returning what was yielded before any error and the error. */
async function open(source: AsyncIterable<Uint8Array>, opts: DecryptOptions): Promise<{ out: Buffer; error: unknown }> {
  const got: Buffer[] = [];
  try {
    // The stream lends each chunk's plaintext until the next step: copy it to keep it.
    for await (const p of decryptStream(source, opts)) got.push(Buffer.from(p));
    return { out: Buffer.concat(got), error: undefined };
  } catch (error) {
    return { out: Buffer.concat(got), error };
  }
}

function codeOf(err: unknown): ErrorCode | undefined {
  return err instanceof ProvenaError ? err.code : undefined;
}

describe('chunked AES-256-GCM stream', () => {
  const key = generateDataKey();

  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 3, 4 * CHUNK])('round-trips %i bytes', async (size) => {
    const data = randomBytes(size);
    const s = await seal(data, key);

    const { out, error } = await open(bytesOf(s.chunks), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected });

    expect(error).toBeUndefined();
    expect(out.equals(data)).toBe(true);
    expect(s.plaintextSize).toBe(size);
    expect(s.chunks.at(-1)!.final).toBe(true);
    expect(s.chunks.filter((c) => c.final)).toHaveLength(1);
    expect(s.chunks).toHaveLength(Math.max(1, Math.ceil(size / CHUNK)));
  });

  it('marks every chunk but the last full-sized and non-final', async () => {
    const s = await seal(randomBytes(3 * CHUNK + 5), key);

    expect(s.chunks.map((c) => [c.index, c.final, c.plaintextLength, c.ciphertext.length])).toEqual([
      [0, false, CHUNK, CHUNK + TAG_LENGTH],
      [1, false, CHUNK, CHUNK + TAG_LENGTH],
      [2, false, CHUNK, CHUNK + TAG_LENGTH],
      [3, true, 5, 5 + TAG_LENGTH],
    ]);
  });

  it('hands out each chunk as the pieces the cipher produced, tag last, whose bytes and digest are the chunk\'s', async () => {
    const s = await seal(randomBytes(2 * CHUNK + 3), key);

    for (const c of s.chunks) {
      const joined = Buffer.concat(c.ciphertextParts);
      expect(c.ciphertextParts.length).toBeGreaterThan(1);
      expect(c.ciphertextParts.at(-1)!.equals(joined.subarray(-TAG_LENGTH))).toBe(true);
      expect(joined.equals(c.ciphertext)).toBe(true);
      expect(c.sha256).toBe(sha(joined));
    }
  });

  it('draws a fresh salt per encryption, so the same key and data give different ciphertext', async () => {
    const data = randomBytes(100);
    const a = await seal(data, key);
    const b = await seal(data, key);

    expect(a.params.salt).not.toBe(b.params.salt);
    expect(a.chunks[0]!.ciphertext.equals(b.chunks[0]!.ciphertext)).toBe(false);
  });

  it('round-trips random data with random chunk and piece sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 500 }), async (data, chunkSize, pieceSize) => {
        const enc = encryptStream(pieces(data, pieceSize), { key, datasetId: 'p', version: 3, chunkSize });
        const chunks: EncryptedChunk[] = [];
        for await (const c of enc) chunks.push(c);
        const { params, chunks: expected } = enc.summary();
        const { out, error } = await open(bytesOf(chunks, pieceSize), { key, datasetId: 'p', version: 3, params, chunks: expected });
        expect(error).toBeUndefined();
        expect(out.equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  // Both hashing paths (inline, and the worker's slab pipeline, which releases each chunk one chunk later) must
  // give the same codes and release the same verified prefix.
  describe.each([
    ['inline', false, undefined],
    ['one worker-thread', true, 1],
    ['three worker-thread', true, 3],
  ])('attacks fail with a stable code and yield none of the bad chunk (%s hashing)', (_path, parallelHash, hashThreads) => {
    const data = randomBytes(4 * CHUNK + 10);

    async function attack(
      mutate: (s: Sealed) => { chunks: EncryptedChunk[]; expected?: ExpectedChunk[]; key?: Buffer; datasetId?: string; version?: number },
    ): Promise<{ code: ErrorCode | undefined; out: Buffer; badIndex: number | undefined }> {
      const s = await seal(data, key);
      const m = mutate(s);
      const { out, error } = await open(bytesOf(m.chunks), {
        key: m.key ?? key,
        datasetId: m.datasetId ?? 'ds_a',
        version: m.version ?? 1,
        params: s.params,
        chunks: m.expected ?? s.expected,
        parallelHash,
        hashThreads,
      });
      expect(error).toBeDefined();
      const details = (error as { details?: { index?: number } }).details;
      const badIndex = details?.index;
      // Only whole, verified chunks before the bad one may have been yielded.
      expect(out.equals(data.subarray(0, out.length))).toBe(true);
      expect(out.length % CHUNK).toBe(0);
      if (badIndex !== undefined) expect(out.length).toBeLessThanOrEqual(badIndex * CHUNK);
      return { code: codeOf(error), out, badIndex };
    }

    it('a flipped bit in a stored chunk -> CHUNK_DIGEST_MISMATCH', async () => {
      const r = await attack((s) => {
        const c = s.chunks.map((x) => ({ ...x, ciphertext: Buffer.from(x.ciphertext) }));
        c[2]!.ciphertext[5]! ^= 0x01;
        return { chunks: c };
      });
      expect(r.code).toBe('CHUNK_DIGEST_MISMATCH');
      expect(r.badIndex).toBe(2);
      expect(r.out.length).toBe(2 * CHUNK);
    });

    it('a flipped bit with a matching forged digest -> CHUNK_AUTH_FAILED', async () => {
      const r = await attack((s) => {
        const c = s.chunks.map((x) => ({ ...x, ciphertext: Buffer.from(x.ciphertext) }));
        c[1]!.ciphertext[0]! ^= 0x80;
        const expected = s.expected.slice();
        expected[1] = { ciphertextSize: c[1]!.ciphertext.length, sha256: sha(c[1]!.ciphertext) };
        return { chunks: c, expected };
      });
      expect(r.code).toBe('CHUNK_AUTH_FAILED');
      expect(r.out.length).toBe(CHUNK);
    });

    it('reordered chunks -> CHUNK_DIGEST_MISMATCH, and CHUNK_AUTH_FAILED when the manifest is reordered too', async () => {
      const storeOnly = await attack((s) => ({ chunks: [s.chunks[0]!, s.chunks[2]!, s.chunks[1]!, ...s.chunks.slice(3)] }));
      const both = await attack((s) => ({
        chunks: [s.chunks[1]!, s.chunks[0]!, ...s.chunks.slice(2)],
        expected: [s.expected[1]!, s.expected[0]!, ...s.expected.slice(2)],
      }));

      expect(storeOnly.code).toBe('CHUNK_DIGEST_MISMATCH');
      expect(storeOnly.out.length).toBe(CHUNK);
      expect(both.code).toBe('CHUNK_AUTH_FAILED');
      expect(both.out.length).toBe(0);
    });

    it.each([
      ['another dataset', 'ds_b', 1],
      ['another version', 'ds_a', 2],
    ])('a chunk from %s (same key, manifest forged to match) -> CHUNK_AUTH_FAILED', async (_label, otherId, otherVersion) => {
      const other = await seal(data, key, otherId, otherVersion);
      const r = await attack((s) => {
        const chunks = s.chunks.slice();
        chunks[1] = other.chunks[1]!;
        const expected = s.expected.slice();
        expected[1] = other.expected[1]!;
        return { chunks, expected };
      });
      expect(r.code).toBe('CHUNK_AUTH_FAILED');
      expect(r.out.length).toBe(CHUNK);
    });

    it('decrypting a whole stream as another dataset -> CHUNK_AUTH_FAILED on the first chunk', async () => {
      const r = await attack((s) => ({ chunks: s.chunks, datasetId: 'ds_other' }));
      expect(r.code).toBe('CHUNK_AUTH_FAILED');
      expect(r.out.length).toBe(0);
    });

    it('the object cut short (last chunk dropped) -> CIPHERTEXT_TRUNCATED', async () => {
      const r = await attack((s) => ({ chunks: s.chunks.slice(0, -1) }));
      expect(r.code).toBe('CIPHERTEXT_TRUNCATED');
    });

    it('object and manifest both cut short -> CIPHERTEXT_TRUNCATED, nothing of the new last chunk yielded', async () => {
      const r = await attack((s) => ({ chunks: s.chunks.slice(0, -1), expected: s.expected.slice(0, -1) }));
      expect(r.code).toBe('CIPHERTEXT_TRUNCATED');
      expect(r.badIndex).toBe(3);
      expect(r.out.length).toBe(3 * CHUNK);
    });

    it('an object cut mid-chunk -> CIPHERTEXT_TRUNCATED', async () => {
      const r = await attack((s) => {
        const c = s.chunks.slice();
        c[4] = { ...c[4]!, ciphertext: c[4]!.ciphertext.subarray(0, 5) };
        return { chunks: c };
      });
      expect(r.code).toBe('CIPHERTEXT_TRUNCATED');
      expect(r.out.length).toBe(4 * CHUNK);
    });

    it('extra bytes after the final chunk -> CIPHERTEXT_TRAILING_DATA', async () => {
      const r = await attack((s) => ({ chunks: [...s.chunks, s.chunks[0]!] }));
      expect(r.code).toBe('CIPHERTEXT_TRAILING_DATA');
      expect(r.out.length).toBe(4 * CHUNK);
    });

    it('a chunk appended after a short final chunk -> MANIFEST_MISMATCH before reading (impossible layout)', async () => {
      const extra = await seal(randomBytes(CHUNK), key);
      const r = await attack((s) => ({ chunks: [...s.chunks, extra.chunks[0]!], expected: [...s.expected, extra.expected[0]!] }));
      expect(r.code).toBe('MANIFEST_MISMATCH');
      expect(r.out.length).toBe(0);
    });

    it('a full-sized final chunk followed by a listed extra chunk -> CIPHERTEXT_TRAILING_DATA', async () => {
      const exact = randomBytes(2 * CHUNK);
      const s = await seal(exact, key);
      const extra = await seal(randomBytes(CHUNK), key);
      const { out, error } = await open(bytesOf([...s.chunks, extra.chunks[0]!]), {
        key, datasetId: 'ds_a', version: 1, params: s.params, chunks: [...s.expected, extra.expected[0]!], parallelHash, hashThreads,
      });
      expect(codeOf(error)).toBe('CIPHERTEXT_TRAILING_DATA');
      expect(out.equals(exact.subarray(0, CHUNK))).toBe(true);
    });

    it('a wrong key -> DATA_KEY_MISMATCH before any byte is read', async () => {
      let pulled = 0;
      const s = await seal(data, key);
      async function* counting(): AsyncGenerator<Uint8Array> {
        for await (const b of bytesOf(s.chunks)) {
          pulled += 1;
          yield b;
        }
      }
      const { out, error } = await open(counting(), { key: generateDataKey(), datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected, parallelHash, hashThreads });

      expect(codeOf(error)).toBe('DATA_KEY_MISMATCH');
      expect(out.length).toBe(0);
      expect(pulled).toBe(0);
    });
  });

  describe('decryptToFile', () => {
    // Each verified chunk is copied into one reused write slab once the previous write is done: a chunk refilled too
    // early, or a short last chunk written with the previous chunk's tail, shows in the file's bytes.
    it.each([
      ['inline hashing', false, 3 * CHUNK + 1],
      ['worker hashing', true, 3 * CHUNK + 1],
      ['inline hashing, 40 chunks', false, 40 * CHUNK - 5],
    ])('writes the plaintext and leaves no temporary file (%s)', async (_label, parallelHash, size) => {
      const dir = await mkdtemp(join(tmpdir(), 'provena-aead-'));
      try {
        const data = randomBytes(size);
        const s = await seal(data, key);

        const n = await decryptToFile(bytesOf(s.chunks), join(dir, 'out.csv'), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected, parallelHash });

        expect(n).toBe(data.length);
        expect((await readFile(join(dir, 'out.csv'))).equals(data)).toBe(true);
        expect(await readdir(dir)).toEqual(['out.csv']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it.each([
      ['a tampered chunk', 'CHUNK_DIGEST_MISMATCH'],
      ['a truncated object', 'CIPHERTEXT_TRUNCATED'],
    ])('leaves no file at all on %s', async (label, code) => {
      const dir = await mkdtemp(join(tmpdir(), 'provena-aead-'));
      try {
        const s = await seal(randomBytes(5 * CHUNK), key);
        const chunks = s.chunks.map((c) => ({ ...c, ciphertext: Buffer.from(c.ciphertext) }));
        if (label === 'a tampered chunk') chunks[3]!.ciphertext[0]! ^= 1;
        else chunks.pop();

        const p = decryptToFile(bytesOf(chunks), join(dir, 'out.csv'), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected });

        await expect(p).rejects.toMatchObject({ code });
        expect(await readdir(dir)).toEqual([]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('lent plaintext', () => {
    // Each path lends a chunk's plaintext from a few reused slabs instead of allocating per chunk (what keeps the
    // cipher's output from piling up for the GC): inline one slab, the worker path depth + 2 = threads + 3.
    it.each([
      ['inline', false, undefined, 1],
      ['one worker-thread', true, 1, 4],
      ['three worker-thread', true, 3, 6],
    ])('yields each chunk as a view of a few reused slabs, valid until the next step (%s)', async (_label, parallelHash, hashThreads, slabs) => {
      const data = randomBytes(30 * CHUNK + 3);
      const s = await seal(data, key);
      const seen = new Set<ArrayBufferLike>();
      let at = 0;
      let first: Buffer | undefined;

      for await (const p of decryptStream(bytesOf(s.chunks), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected, parallelHash, hashThreads })) {
        expect(p.equals(data.subarray(at, at + p.length))).toBe(true);
        first ??= p;
        seen.add(p.buffer);
        at += p.length;
      }

      expect(at).toBe(data.length);
      expect(seen.size).toBeLessThanOrEqual(slabs);
      if (!parallelHash) expect(seen.size).toBe(1);
      // Lent, not given: the first chunk's slab was refilled by a later chunk.
      expect(first!.equals(data.subarray(0, CHUNK))).toBe(false);
    });
  });

  describe('decryptToBuffer', () => {
    it.each([
      ['inline', false, 0],
      ['inline', false, 7 * CHUNK + 5],
      ['worker', true, 0],
      ['worker', true, 7 * CHUNK + 5],
    ])('returns the whole plaintext, exactly sized (%s, %i bytes)', async (_label, parallelHash, size) => {
      const data = randomBytes(size);
      const s = await seal(data, key);

      const out = await decryptToBuffer(bytesOf(s.chunks), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected, parallelHash });

      expect(out.equals(data)).toBe(true);
      expect(out.buffer.byteLength).toBe(size);
    });

    it('refuses a manifest that lists more plaintext than allowed before reading a byte or allocating it', async () => {
      let pulled = 0;
      const s = await seal(randomBytes(3 * CHUNK), key);
      async function* counting(): AsyncGenerator<Uint8Array> {
        for await (const b of bytesOf(s.chunks)) {
          pulled += 1;
          yield b;
        }
      }

      const p = decryptToBuffer(counting(), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected }, 3 * CHUNK - 1);

      await expect(p).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
      expect(pulled).toBe(0);
      await expect(decryptToBuffer(bytesOf(s.chunks), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected }, 3 * CHUNK)).resolves.toHaveLength(3 * CHUNK);
    });

    it.each([false, true])('fails with the stream\'s code on a tampered chunk (worker path: %s)', async (parallelHash) => {
      const s = await seal(randomBytes(5 * CHUNK), key);
      const chunks = s.chunks.map((c) => ({ ...c, ciphertext: Buffer.from(c.ciphertext) }));
      chunks[2]!.ciphertext[5]! ^= 1;

      // Only the plaintext written so far (chunks 0 and 1) is zeroed: zeroing the rest of a buffer sized from the
      // manifest would commit memory the stream never reached.
      const fill = jest.spyOn(Buffer.prototype, 'fill');
      try {
        const p = decryptToBuffer(bytesOf(chunks), { key, datasetId: 'ds_a', version: 1, params: s.params, chunks: s.expected, parallelHash });

        await expect(p).rejects.toMatchObject({ code: 'CHUNK_DIGEST_MISMATCH' });
        const zeroed = fill.mock.calls.filter((_args, i) => (fill.mock.contexts[i] as Buffer).length === 5 * CHUNK);
        expect(zeroed).toEqual([[0, 0, 2 * CHUNK]]);
      } finally {
        fill.mockRestore();
      }
    });
  });
});

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('chunked AES-256-GCM stream with worker-thread hashing', () => {
  const key = generateDataKey();
  const opts = { key, datasetId: 'ds_w', version: 2, chunkSize: CHUNK, parallelHash: true };

  async function sealParallel(data: Uint8Array): Promise<{ chunks: EncryptedChunk[]; params: StreamParams; expected: ExpectedChunk[] }> {
    const enc = encryptStream(pieces(data, 50), opts);
    const chunks: EncryptedChunk[] = [];
    for await (const c of enc) chunks.push(c);
    return { chunks, params: enc.summary().params, expected: enc.summary().chunks };
  }

  it.each([0, CHUNK, CHUNK + 1, 7 * CHUNK + 9])('round-trips %i bytes, with the same digests as inline hashing', async (size) => {
    const data = randomBytes(size);
    const s = await sealParallel(data);

    const { out, error } = await open(bytesOf(s.chunks), { ...opts, params: s.params, chunks: s.expected });

    expect(error).toBeUndefined();
    expect(out.equals(data)).toBe(true);
    expect(s.chunks.map((c) => c.sha256)).toEqual(s.chunks.map((c) => sha(c.ciphertext)));
    expect(s.expected.map((c) => c.sha256)).toEqual(s.chunks.map((c) => c.sha256));
  });

  it('still refuses a flipped bit (CHUNK_DIGEST_MISMATCH) and a forged digest (CHUNK_AUTH_FAILED) before yielding the chunk', async () => {
    const data = randomBytes(4 * CHUNK);
    const s = await sealParallel(data);
    const tampered = s.chunks.map((c) => ({ ...c, ciphertext: Buffer.from(c.ciphertext) }));
    tampered[2]!.ciphertext[3]! ^= 4;
    const forged = s.expected.slice();
    forged[2] = { ciphertextSize: tampered[2]!.ciphertext.length, sha256: sha(tampered[2]!.ciphertext) };

    const a = await open(bytesOf(tampered), { ...opts, params: s.params, chunks: s.expected });
    const b = await open(bytesOf(tampered), { ...opts, params: s.params, chunks: forged });

    expect(codeOf(a.error)).toBe('CHUNK_DIGEST_MISMATCH');
    expect(codeOf(b.error)).toBe('CHUNK_AUTH_FAILED');
    expect(a.out.equals(data.subarray(0, 2 * CHUNK))).toBe(true);
    expect(b.out.equals(data.subarray(0, 2 * CHUNK))).toBe(true);
  });
});

describe('worker-thread hashing moves buffers instead of copying them, and never touches the caller\'s', () => {
  const key = generateDataKey();

  it('hashOwned hands back the same bytes with their digest; a whole-buffer part is moved, a view is copied', async () => {
    const whole = randomFillSync(Buffer.allocUnsafeSlow(1000)); // its own ArrayBuffer, as cipher output is
    const backing = randomBytes(3000);
    const view = backing.subarray(1000, 2000);
    const before = Buffer.from(view);
    const expected = sha(Buffer.concat([whole, view]));
    const wholeCopy = Buffer.from(whole);

    const r = await workerHasher().hashOwned([whole, view]);

    expect(r.hex).toBe(expected);
    expect(Buffer.concat(r.parts).equals(Buffer.concat([wholeCopy, before]))).toBe(true);
    expect(whole.length).toBe(0); // moved: the caller's handle is detached
    expect(view.equals(before)).toBe(true); // copied: the caller's memory is intact
  });

  it('hashOwned with a limit hashes only that prefix and still hands back the whole slab', async () => {
    const slab = Buffer.from(randomBytes(500));
    const prefix = sha(slab.subarray(0, 123));

    const r = await workerHasher().hashOwned([slab], 123);

    expect(r.hex).toBe(prefix);
    expect(r.parts[0]!.length).toBe(500);
  });

  it('hashShared hashes a prefix of a SharedArrayBuffer in place (nothing moved) and refuses a length past its end', async () => {
    const sab = new SharedArrayBuffer(600);
    const view = Buffer.from(sab);
    randomFillSync(view);
    const prefix = sha(view.subarray(0, 321));

    expect(await workerHasher().hashShared(sab, 321)).toBe(prefix);
    expect(view.length).toBe(600); // still the caller's: shared, not transferred
    expect(await workerHasher().hashShared(sab, 0)).toBe(sha(Buffer.alloc(0)));
    await expect(workerHasher().hashShared(sab, 601)).rejects.toThrow(RangeError);
  });

  it('openShared opens a chunk in place into the out slab, answers false with the out slab zeroed on a bad tag, and refuses lengths past either slab', async () => {
    const gcm = { key: randomBytes(32), nonce: randomBytes(12), aad: Buffer.from('aad') };
    const plain = randomBytes(300);
    const c = createCipheriv('aes-256-gcm', gcm.key, gcm.nonce);
    c.setAAD(gcm.aad);
    const sealed = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
    const shared = new SharedArrayBuffer(400);
    const view = Buffer.from(shared);
    sealed.copy(view);
    const out = new SharedArrayBuffer(320);

    expect(await workerOpener().openShared(shared, sealed.length, out, gcm)).toBe(true);
    expect(Buffer.from(out, 0, 300).equals(plain)).toBe(true);
    expect(view.subarray(0, sealed.length).equals(sealed)).toBe(true); // read in place, not changed

    view[sealed.length - 1]! ^= 1; // the tag's last byte
    expect(await workerOpener().openShared(shared, sealed.length, out, gcm)).toBe(false);
    expect(Buffer.from(out, 0, 300).equals(Buffer.alloc(300))).toBe(true);
    view[sealed.length - 1]! ^= 1;
    expect(await workerOpener(3).openShared(shared, sealed.length, out, { ...gcm, aad: Buffer.from('other') })).toBe(false);

    await expect(workerOpener().openShared(shared, 401, out, gcm)).rejects.toThrow(RangeError);
    await expect(workerOpener().openShared(shared, 15, out, gcm)).rejects.toThrow(RangeError);
    await expect(workerOpener().openShared(shared, 337, out, gcm)).rejects.toThrow(RangeError); // 321 bytes of plaintext
  });

  it('ends a thread once it has sat idle for its idle time, and starts a fresh one for the next request', async () => {
    // Before, a thread lived as long as its process, isolate and all (61 threads in one in-band jest run).
    // Counted while requests are in flight (a thread with work never exits), not after they settle: by then a
    // loaded machine may already have let the 50 ms pass (a full run saw 1 thread where 2 had answered).
    const hasher = new WorkerHasher(2, 50);
    const data = randomBytes(1000);
    const two = [hasher.sha256([data]), hasher.sha256([data])];
    expect(hasher.liveThreads).toBe(2);
    expect(await Promise.all(two)).toEqual([sha(data), sha(data)]);
    const deadline = Date.now() + 10_000;
    while (hasher.liveThreads > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(hasher.liveThreads).toBe(0);
    const again = hasher.sha256([data]);
    expect(hasher.liveThreads).toBe(1);
    expect(await again).toBe(sha(data));
  });

  it('defaults to worker threads for encryption and decryption alone from 2 cores and for transfers from 4, unless oversubscribed', () => {
    const saved = process.env.PROVENA_PARALLEL_HASH;
    try {
      delete process.env.PROVENA_PARALLEL_HASH;
      const cores = availableParallelism();
      const idle = loadavg()[0]! <= cores;
      expect(defaultParallelHash(4 * 1024 * 1024, 'encrypt')).toBe(cores >= 2 && idle);
      expect(defaultParallelHash(4 * 1024 * 1024, 'decrypt')).toBe(cores >= 2 && idle);
      expect(defaultParallelHash(4 * 1024 * 1024, 'transfer')).toBe(cores >= 4 && idle);
    } finally {
      if (saved === undefined) delete process.env.PROVENA_PARALLEL_HASH;
      else process.env.PROVENA_PARALLEL_HASH = saved;
    }
  });

  it('encrypts byte-identically with worker or inline hashing (same salt), and the worker path leaves the source intact', async () => {
    const data = randomBytes(9 * CHUNK + 5);
    const snapshot = Buffer.from(data);
    const salt = randomBytes(32);
    const run = async (parallelHash: boolean, hashThreads?: number): Promise<{ bytes: Buffer; digests: string[] }> => {
      const enc = encryptStream(pieces(data, 40), { key, datasetId: 'ds_m', version: 1, chunkSize: CHUNK, salt, parallelHash, ...(hashThreads === undefined ? {} : { hashThreads }) });
      const parts: Buffer[] = [];
      for await (const c of enc) parts.push(...c.ciphertextParts.map((b) => Buffer.from(b)));
      return { bytes: Buffer.concat(parts), digests: enc.summary().chunks.map((c) => c.sha256) };
    };

    const inline = await run(false);
    const worker = await run(true);
    const workers = await run(true, 3);

    expect(worker.bytes.equals(inline.bytes)).toBe(true);
    expect(worker.digests).toEqual(inline.digests);
    expect(workers.bytes.equals(inline.bytes)).toBe(true);
    expect(workers.digests).toEqual(inline.digests);
    expect(data.equals(snapshot)).toBe(true);
  });

  it('decrypts views into one large buffer on the worker path without detaching or changing them', async () => {
    const data = randomBytes(6 * CHUNK + 1);
    const enc = encryptStream(pieces(data), { key, datasetId: 'ds_m', version: 1, chunkSize: CHUNK });
    const chunks: EncryptedChunk[] = [];
    for await (const c of enc) chunks.push(c);
    const all = Buffer.concat(chunks.map((c) => c.ciphertext));
    const snapshot = Buffer.from(all);

    const { out, error } = await open(pieces(all, 29), { key, datasetId: 'ds_m', version: 1, params: enc.summary().params, chunks: enc.summary().chunks, parallelHash: true, hashThreads: 3 });

    expect(error).toBeUndefined();
    expect(out.equals(data)).toBe(true);
    expect(all.equals(snapshot)).toBe(true);
  });

  it('defaultParallelHash follows PROVENA_PARALLEL_HASH, and otherwise keeps small chunks inline', () => {
    const saved = process.env.PROVENA_PARALLEL_HASH;
    try {
      process.env.PROVENA_PARALLEL_HASH = '1';
      expect(defaultParallelHash(64)).toBe(true);
      process.env.PROVENA_PARALLEL_HASH = '0';
      expect(defaultParallelHash(4 * 1024 * 1024)).toBe(false);
      delete process.env.PROVENA_PARALLEL_HASH;
      expect(defaultParallelHash(PARALLEL_HASH_MIN_CHUNK - 1)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.PROVENA_PARALLEL_HASH;
      else process.env.PROVENA_PARALLEL_HASH = saved;
    }
  });
});
