import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { MemoryBlockstore } from 'blockstore-core';
import { FsBlockstore } from 'blockstore-fs';
import { exporter } from 'ipfs-unixfs-exporter';
import { importer } from 'ipfs-unixfs-importer';
import { DependencyError, NotFoundError, ProvenaError, ValidationError } from '../../errors.js';
import type { AddResult, ContentStore } from '../../ports/ContentStore.js';
import type { ComponentHealth } from '../../ports/Health.js';
import { probeHealth } from '../probeHealth.js';
import { canonicalJson, collect, parseCid, parseJsonBytes } from '../../encoding/canonicalJson.js';
import { pinnedImporterOptions } from '../../encoding/unixfs.js';

/** Where a {@link LocalUnixfsContentStore} keeps its blocks. */
export type LocalUnixfsContentStoreOptions =
  /** Files under `dir` (one file per block); the data survives restarts. */
  | { dir: string }
  /** In memory, for unit tests; gone when the process ends. */
  | { memory: true };

/**
 * {@link ContentStore} in process, with no networking at all: the UnixFS importer/exporter over a local
 * blockstore. It is the embedded default; `KuboContentStore` is the production adapter, and both give the same
 * CIDs for the same bytes.
 *
 * Pinning is implicit: nothing here ever garbage-collects, so every added block stays.
 * Reads never wait on a network: a CID whose blocks are not in the blockstore is `CONTENT_NOT_FOUND` at once.
 *
 * @example
 * ```ts
 * const ipfs = await LocalUnixfsContentStore.open({ dir: '.provena/ipfs' });
 * const { cid } = await ipfs.addJson({ name: 'dataset', rows: 10 });
 * const value = await ipfs.getJson(cid);
 * ```
 */
export class LocalUnixfsContentStore implements ContentStore {
  // Typed as the two concrete stores: interface-blockstore is only a transitive dependency.
  // Typed as the two concrete stores: interface-blockstore is only a transitive dependency.
  readonly #blockstore: MemoryBlockstore | FsBlockstore;
  readonly #dir: string | undefined;
  #opened: Promise<void> | undefined;

  /**
   * Synchronous so wiring code can build it like any adapter; the directory is created on first use
   * (or await {@link LocalUnixfsContentStore.open} to fail early on an unusable directory).
   */
  constructor(options: LocalUnixfsContentStoreOptions) {
    if ('memory' in options) {
      this.#blockstore = new MemoryBlockstore();
      this.#dir = undefined;
    } else {
      this.#dir = path.resolve(options.dir);
      this.#blockstore = new FsBlockstore(this.#dir);
    }
  }

  /** Builds the store and opens its blockstore now; `CONTENT_STORE_UNAVAILABLE` if `dir` is unusable. */
  static async open(options: LocalUnixfsContentStoreOptions): Promise<LocalUnixfsContentStore> {
    const store = new LocalUnixfsContentStore(options);
    await store.#store();
    return store;
  }

  /** The blockstore, opened once (FsBlockstore.open creates the directory). */
  async #store(): Promise<MemoryBlockstore | FsBlockstore> {
    const bs = this.#blockstore;
    if (bs instanceof FsBlockstore) {
      this.#opened ??= bs.open().catch((err: unknown) => {
        this.#opened = undefined; // let a later call retry, e.g. after the disk is remounted
        throw new DependencyError('CONTENT_STORE_UNAVAILABLE', `Cannot open blockstore at ${this.#dir ?? ''}`, { cause: err });
      });
      await this.#opened;
    }
    return bs;
  }

  /** Probes the blockstore: the directory must be writable, and a lookup must answer. */
  health(): Promise<ComponentHealth> {
    return probeHealth(this.#dir === undefined ? 'unixfs (memory)' : `unixfs fs ${this.#dir}`, async () => {
      const bs = await this.#store();
      if (this.#dir !== undefined) await access(this.#dir, constants.W_OK);
      await bs.has(parseCid(EMPTY_RAW_CID));
    });
  }

  /** Imports `content` as one UnixFS file with the pinned settings. */
  async add(content: Uint8Array | AsyncIterable<Uint8Array>): Promise<AddResult> {
    let size = 0;
    const counted = countBytes(content, (n) => (size += n));
    const bs = await this.#store();
    let root: string | undefined;
    try {
      // One file without a path: the importer yields exactly one entry, its root.
      for await (const entry of importer([{ content: counted }], bs, pinnedImporterOptions())) root = entry.cid.toString();
    } catch (err) {
      if (err instanceof ProvenaError) throw err;
      throw new DependencyError('CONTENT_STORE_UNAVAILABLE', `Import into the local blockstore failed: ${String(err)}`, { cause: err });
    }
    if (root === undefined) throw new DependencyError('DEPENDENCY_FAILED', 'The UnixFS importer produced no root');
    return { cid: root, size };
  }

  /** Adds `value` as canonical JSON (see {@link canonicalJson}); non-JSON values are `VALIDATION_FAILED`. */
  async addJson(value: unknown): Promise<AddResult> {
    return this.add(new TextEncoder().encode(canonicalJson(value)));
  }

  /**
   * Streams the file's bytes. Being a generator, it validates and looks up on the first `next()`:
   * a bad CID is `VALIDATION_FAILED`, an unknown one (or a missing block mid-file) `CONTENT_NOT_FOUND`,
   * a directory `VALIDATION_FAILED`.
   */
  async *cat(cid: string): AsyncGenerator<Uint8Array, void, undefined> {
    const parsed = parseCid(cid);
    try {
      const entry = await exporter(parsed, await this.#store(), { offline: true });
      if (entry.type !== 'file' && entry.type !== 'raw' && entry.type !== 'identity') {
        throw new ValidationError(`${cid} is a ${entry.type}, not a file`, [{ path: ['cid'], message: 'not a file' }]);
      }
      yield* entry.content({ offline: true });
    } catch (err) {
      throw mapLocalError(err, cid);
    }
  }

  /** Reads and parses a JSON file. */
  async getJson(cid: string): Promise<unknown> {
    return parseJsonBytes(await collect(this.cat(cid)), cid);
  }

  /** Whether the root block of `cid` is in the blockstore (its children may still be missing). */
  async has(cid: string): Promise<boolean> {
    const parsed = parseCid(cid);
    try {
      return await (await this.#store()).has(parsed);
    } catch (err) {
      throw mapLocalError(err, cid);
    }
  }

  /** Releases the blockstore (a no-op for the fs and memory stores today, kept for symmetry with `open`). */
  async close(): Promise<void> {
    if (this.#blockstore instanceof FsBlockstore) await this.#blockstore.close();
  }
}

/** CIDv1 of the empty raw block: a constant to probe the blockstore with. */
const EMPTY_RAW_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

function mapLocalError(err: unknown, cid: string): ProvenaError {
  if (err instanceof ProvenaError) return err;
  // Both interface-store (blockstore miss) and the exporter name their miss 'NotFoundError'.
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  if (name === 'NotFoundError') {
    return new NotFoundError('CONTENT_NOT_FOUND', `No content ${cid} in the local blockstore`, { cause: err, details: { cid } });
  }
  if (name === 'NotUnixFSError' || name === 'NoResolverError') {
    return new ValidationError(`${cid} is not a UnixFS file`, [{ path: ['cid'], message: 'not UnixFS' }], err);
  }
  return new DependencyError('CONTENT_STORE_UNAVAILABLE', `Local blockstore failed reading ${cid}: ${String(err)}`, { cause: err });
}

/** Yields `content` as chunks, counting bytes and rejecting chunks that are not bytes. */
async function* countBytes(content: Uint8Array | AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  if (content instanceof Uint8Array) {
    onBytes(content.byteLength);
    yield content;
    return;
  }
  for await (const chunk of content) {
    // The port types this, but JS callers and object-mode streams can still hand us strings.
    if (!(chunk instanceof Uint8Array)) throw new ValidationError('content chunks must be Uint8Array', [{ path: ['content'], message: 'not bytes' }]);
    onBytes(chunk.byteLength);
    yield chunk;
  }
}
