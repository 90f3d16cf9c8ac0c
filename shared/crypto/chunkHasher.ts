/**
 * SHA-256 of chunks on a worker thread, so hashing (about as slow as AES-GCM itself with SHA-NI) runs in parallel
 * with encryption/decryption on the main thread instead of halving throughput.
 *
 * Chunks are copied to the worker by postMessage (structured clone): one memcpy, several times faster than the
 * hash it offloads. SharedArrayBuffers would avoid the copy, but V8 does not count their memory as GC pressure,
 * so a stream of fresh 4 MiB SABs grew RSS past 1 GiB in the benchmark; cloned ArrayBuffers keep RSS flat.
 *
 * One lazily started worker per process, unreferenced while idle so it never keeps the process alive.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Hashes one chunk given as consecutive parts. */
export interface ChunkHasher {
  sha256(parts: readonly Uint8Array[]): Promise<string>;
}

/** Hashes on the calling thread (small chunks, where a message round trip costs more than the hash). */
export const inlineHasher: ChunkHasher = {
  async sha256(parts) {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return h.digest('hex');
  },
};

// Plain CommonJS source evaluated in the worker: no TS loader needed in tsx, jest or Lambda bundles.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, parts }) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  parentPort.postMessage({ id, hex: h.digest('hex') });
});
`;

class WorkerHasher implements ChunkHasher {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(h: string): void; reject(e: unknown): void }>();

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', ({ id, hex }: { id: number; hex: string }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (this.pending.size === 0) w.unref();
      p?.resolve(hex);
    });
    const fail = (err: unknown): void => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.worker = undefined;
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
    w.unref();
    this.worker = w;
    return w;
  }

  sha256(parts: readonly Uint8Array[]): Promise<string> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, parts });
    });
  }
}

let shared: WorkerHasher | undefined;

/** The process-wide worker hasher. */
export function workerHasher(): ChunkHasher {
  shared ??= new WorkerHasher();
  return shared;
}
