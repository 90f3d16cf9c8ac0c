/**
 * SHA-256 of chunks on a worker thread, so hashing runs on another core in parallel with AES-GCM on the calling
 * thread. On this project's CPUs (VAES + SHA-NI) SHA-256 is about as fast as AES-256-GCM itself, so hashing in the
 * same pass caps a stream at about half of raw GCM; with a spare core the two overlap.
 *
 * {@link ChunkHasher.sha256} copies the chunk to the worker (structured clone). {@link WorkerHasher.hashOwned}
 * **moves** it instead: every part that spans its whole `ArrayBuffer` (what `cipher.update` returns) is
 * transferred to the worker and transferred back with the digest, so nothing is copied and nothing is allocated
 * per chunk. (SharedArrayBuffers would also avoid the copy, but V8 does not count
 * their memory as GC pressure: a stream of fresh 4 MiB SABs grew RSS past 1 GiB in the benchmark.)
 *
 * {@link WorkerHasher.openShared} opens an AES-256-GCM chunk in place on the thread instead (decryption's other
 * half): {@link workerOpener}'s threads do that while {@link workerHasher}'s hash the same shared slab.
 *
 * Threads start lazily, one set per process, unreferenced while idle so they never keep the process alive, and
 * exit after {@link IDLE_EXIT_MS} without work (the next request starts a fresh one, about 30 ms), so an idle process
 * holds no threads: before, each lived as long as its process (in jest's in-band run every test file's own copy of
 * this module started its own, up to 61 threads at once).
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TAG_LENGTH } from './chunkedAeadFormat.js';

/** Hashes one chunk given as consecutive parts. */
export interface ChunkHasher {
  sha256(parts: readonly Uint8Array[]): Promise<string>;
}

/** A digest and the parts it was computed over, handed back by {@link WorkerHasher.hashOwned}. */
export interface OwnedDigest {
  hex: string;
  /** The same bytes as the parts given, as Buffers (the very memory, moved back from the worker). */
  parts: Buffer[];
}

/** Hashes on the calling thread (small chunks, where a message round trip costs more than the hash). */
export const inlineHasher: ChunkHasher = {
  async sha256(parts) {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return h.digest('hex');
  },
};

/** Bytes deciphered per call on a worker thread (see the worker source). */
const OPEN_STEP = 32 * 1024;

// Plain CommonJS source evaluated in the worker: no TS loader needed in tsx, jest or Lambda bundles. Parts come back
// in the transfer list when they came in it (`move`), so their memory returns to the caller.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createDecipheriv, createHash } = require('node:crypto');
parentPort.on('message', ({ id, parts, move, limit, shared, open }) => {
  if (open !== undefined) {
    // One chunk's ciphertext ‖ tag, the first limit bytes of the shared slab, read in place; the plaintext goes to
    // the shared out slab and counts only when the tag verified (ok false leaves it zeroed). Deciphered in steps of
    // ${OPEN_STEP} bytes: each step's output is a fresh buffer, and on a worker thread large ones cost page faults
    // (fresh mappings each time; 4 MiB steps ran at 700-830 MiB/s, 32 KiB steps at 1,500-1,660, the main thread's
    // one-shot at 1,800-2,200), while small ones are reused from the allocator's free lists.
    const src = new Uint8Array(shared, 0, limit);
    const out = new Uint8Array(open.out, 0, open.bodyLen);
    const d = createDecipheriv('aes-256-gcm', open.key, open.nonce);
    d.setAAD(open.aad);
    for (let at = 0; at < open.bodyLen; at += ${OPEN_STEP}) out.set(d.update(src.subarray(at, Math.min(open.bodyLen, at + ${OPEN_STEP}))), at);
    d.setAuthTag(src.subarray(open.bodyLen, limit));
    let ok = true;
    try {
      d.final();
    } catch {
      ok = false;
      out.fill(0);
    }
    parentPort.postMessage({ id, ok });
    return;
  }
  if (shared !== undefined) {
    parentPort.postMessage({ id, hex: createHash('sha256').update(new Uint8Array(shared, 0, limit)).digest('hex') });
    return;
  }
  const h = createHash('sha256');
  let rest = limit === undefined ? Infinity : limit;
  for (const p of parts) {
    if (rest <= 0) break;
    h.update(p.length <= rest ? p : p.subarray(0, rest));
    rest -= p.length;
  }
  const hex = h.digest('hex');
  if (move) parentPort.postMessage({ id, hex, parts }, parts.map((p) => p.buffer));
  else parentPort.postMessage({ id, hex });
});
`;

/** What a thread answers: a digest (and the parts moved back), or whether a chunk opened. */
interface Reply {
  hex?: string;
  parts?: Uint8Array[];
  ok?: boolean;
}

interface Pending {
  resolve(r: Reply): void;
  reject(e: unknown): void;
}

/** True when `p` is the whole of a plain (transferable) ArrayBuffer. */
function spansBuffer(p: Uint8Array): boolean {
  return p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.buffer instanceof ArrayBuffer && p.byteLength > 0;
}

/** How long a thread may sit without work before it exits (a later request starts a new one). */
export const IDLE_EXIT_MS = 10_000;

/** One hashing thread and its outstanding requests. */
class HashThread {
  private worker: Worker | undefined;
  private idle: NodeJS.Timeout | undefined;
  readonly pending = new Map<number, Pending>();

  constructor(private readonly idleExitMs: number) {}

  /** Whether a thread is running (started and not yet exited). */
  get live(): boolean {
    return this.worker !== undefined;
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', ({ id, ...reply }: Reply & { id: number }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (this.pending.size === 0) this.rest(w);
      p?.resolve(reply);
    });
    // Bound to this worker: a thread that exits (idle, or failing) never touches the requests of the one after it.
    const fail = (err: unknown): void => {
      if (this.worker !== w) return;
      clearTimeout(this.idle);
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
    w.unref();
    this.worker = w;
    return w;
  }

  /** No work left: let the process exit without it, and end the thread once it has been idle long enough. */
  private rest(w: Worker): void {
    w.unref();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.worker !== w || this.pending.size > 0) return;
      this.worker = undefined;
      void w.terminate();
    }, this.idleExitMs);
    this.idle.unref();
  }

  post(id: number, message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<Reply> {
    const w = this.start();
    clearTimeout(this.idle);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      try {
        w.postMessage({ id, ...message }, transfer);
      } catch (err) {
        this.pending.delete(id);
        if (this.pending.size === 0) this.rest(w);
        reject(err);
      }
    });
  }
}

/**
 * The process-wide hashing threads; see the module comment. Chunks' digests are independent, so with several
 * threads (`threads`, default: one fewer than the cores this process may use, 1..4) several chunks hash at once:
 * SHA-256 is slower than AES-GCM here (about 1.3 vs 2.2 GB/s), so one hashing thread alone would still cap a
 * stream near 60% of raw GCM. Each request goes to the thread with the fewest outstanding.
 */
export class WorkerHasher implements ChunkHasher {
  private nextId = 0;
  private readonly threads: HashThread[];

  constructor(
    readonly threadCount = Math.max(1, Math.min(4, availableParallelism() - 1)),
    idleExitMs = IDLE_EXIT_MS,
  ) {
    this.threads = Array.from({ length: threadCount }, () => new HashThread(idleExitMs));
  }

  /** Threads running now (started and not yet exited: idle ones exit after the idle time). */
  get liveThreads(): number {
    return this.threads.filter((t) => t.live).length;
  }

  private post(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    let t = this.threads[0]!;
    for (const c of this.threads) if (c.pending.size < t.pending.size) t = c;
    return t.post(this.nextId++, message, transfer);
  }

  /**
   * Hashes the first `length` bytes of a SharedArrayBuffer in place: nothing is copied or moved, so the caller
   * must not write to it until the promise settles. For a fixed pool of reusable slabs (the decryptor's): moving
   * ArrayBuffers back and forth re-registers their memory as external on every return, which adds to V8's full
   * GCs once the heap holds the AWS SDK (512 MiB decrypted: 44 mark-compacts with moved slabs, 34 with shared
   * ones, 33 inline; the bench's worker decrypt went from 315-389 to 347-413 MiB/s). A pool of SharedArrayBuffers
   * is allocated once, so their memory (which V8 does not count as GC pressure) stays bounded.
   */
  async hashShared(shared: SharedArrayBuffer, length: number): Promise<string> {
    if (!Number.isSafeInteger(length) || length < 0 || length > shared.byteLength) throw new RangeError(`hashShared: length ${length} outside the buffer`);
    return (await this.post({ shared, limit: length })).hex!;
  }

  /**
   * Opens one AES-256-GCM chunk in place: the first `length` bytes of `shared` are its ciphertext followed by the
   * 16-byte tag, and the plaintext is written to the start of `out`. Resolves true when the tag verified under
   * `key`, `nonce` and `aad`; false when it did not, with the plaintext's bytes in `out` zeroed. As with
   * {@link hashShared}, the caller must not write to `shared`, nor read `out`, until the promise settles.
   */
  async openShared(shared: SharedArrayBuffer, length: number, out: SharedArrayBuffer, gcm: { key: Uint8Array; nonce: Uint8Array; aad: Uint8Array }): Promise<boolean> {
    if (!Number.isSafeInteger(length) || length < TAG_LENGTH || length > shared.byteLength || length - TAG_LENGTH > out.byteLength) {
      throw new RangeError(`openShared: length ${length} outside the buffers`);
    }
    return (await this.post({ shared, limit: length, open: { ...gcm, out, bodyLen: length - TAG_LENGTH } })).ok === true;
  }

  /** Hashes a copy of `parts` (the caller keeps them). */
  async sha256(parts: readonly Uint8Array[]): Promise<string> {
    return (await this.post({ parts, move: false })).hex!;
  }

  /**
   * Hashes `parts`, taking them over: a part that spans its whole ArrayBuffer is moved to the worker (it reads as
   * empty here until the promise settles) and moved back; any other part is copied into one that does first. Use
   * the returned `parts`, never the ones passed in. With `limit`, only the first `limit` bytes are hashed (a
   * reusable slab filled part way); the whole parts still come back.
   */
  async hashOwned(parts: readonly Uint8Array[], limit?: number): Promise<OwnedDigest> {
    const movable = parts.filter((p) => p.byteLength > 0).map((p) => (spansBuffer(p) ? p : new Uint8Array(p)));
    const r = await this.post({ parts: movable, move: true, limit }, movable.map((p) => p.buffer as ArrayBuffer));
    return { hex: r.hex!, parts: (r.parts ?? []).map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)) };
  }
}

/** The process-wide thread pools, by thread count (undefined: the default). */
const hashers = new Map<number | undefined, WorkerHasher>();
const openers = new Map<number | undefined, WorkerHasher>();

function pool(pools: Map<number | undefined, WorkerHasher>, threads: number | undefined): WorkerHasher {
  let h = pools.get(threads);
  if (h === undefined) {
    h = new WorkerHasher(threads);
    pools.set(threads, h);
  }
  return h;
}

/** The process-wide worker hasher (with `threads`, the one of that many threads; tests use it). */
export function workerHasher(threads?: number): WorkerHasher {
  return pool(hashers, threads);
}

/**
 * The process-wide threads that open chunks ({@link WorkerHasher.openShared}), apart from the hashing ones, so a
 * chunk's AES-GCM and its SHA-256 run side by side (`threads` as for {@link workerHasher}).
 */
export function workerOpener(threads?: number): WorkerHasher {
  return pool(openers, threads);
}
