import type { HealthCheck } from './Health.js';

/** The result of adding content: a CIDv1 (base32) string and the byte size of the file added. */
export interface AddResult {
  cid: string;
  size: number;
}

/**
 * Content-addressed storage speaking IPFS: the same bytes give the same UnixFS CIDv1 in every adapter
 * (pinned chunker: fixed 256 KiB chunks, raw leaves, CIDv1, balanced DAG of width 174).
 *
 * Adapters: `LocalUnixfsContentStore` (in-process, file blockstore, no networking; embedded default) and
 * `KuboContentStore` (kubo-rpc-client against a real IPFS node).
 */
export interface ContentStore extends HealthCheck {
  /** Adds bytes (or a stream of chunks) as one UnixFS file and pins it. */
  add(content: Uint8Array | AsyncIterable<Uint8Array>): Promise<AddResult>;
  /** Adds a JSON value in canonical form (sorted keys, no whitespace), so equal values share a CID. */
  addJson(value: unknown): Promise<AddResult>;
  /** Streams a UnixFS file's bytes. Throws `CONTENT_NOT_FOUND` for an unknown CID. */
  cat(cid: string): AsyncIterable<Uint8Array>;
  /** Reads and parses a JSON file added with {@link addJson}. Throws `CONTENT_NOT_FOUND`, `VALIDATION_FAILED` for non-JSON. */
  getJson(cid: string): Promise<unknown>;
  /** Whether the store holds the root block of `cid`. */
  has(cid: string): Promise<boolean>;
}
