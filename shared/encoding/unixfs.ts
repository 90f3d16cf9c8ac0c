/**
 * The pinned UnixFS import settings and a pure CID function. Every content store adds with these settings, and a
 * client (the SDK, in Node or a browser) computes the CID a document will have without any store: it only hashes.
 */
import { MemoryBlockstore } from 'blockstore-core/memory';
import { importer, type ImporterOptions } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { canonicalJson } from './canonicalJson.js';

/** UnixFS chunk size shared by every adapter: Kubo's `--chunker=size-262144`. */
export const UNIXFS_CHUNK_SIZE = 262_144;
/** Links per balanced-DAG node: Kubo's default for the balanced layout. */
export const UNIXFS_MAX_CHILDREN = 174;

/**
 * The pinned importer settings. With them the CID of a file equals what Kubo gives for
 * `ipfs add --cid-version=1 --raw-leaves --chunker=size-262144` (balanced layout, the default).
 * Every field is set explicitly, because the importer's defaults have changed between majors
 * (and the `unixfs-v1-2025` profile uses 1 MiB chunks and 1024 links, giving different CIDs).
 */
export function pinnedImporterOptions(): ImporterOptions {
  // A fresh object per call: the importer writes into the options object it is given.
  return {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: UNIXFS_CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: UNIXFS_MAX_CHILDREN }),
    wrapWithDirectory: false,
  };
}

/**
 * The CID (v1, string) that `bytes` get when added with the pinned settings. Pure: the blocks go to a throwaway
 * in-memory blockstore.
 *
 * @example
 * ```ts
 * await cidOfBytes(new TextEncoder().encode('hello')); // 'bafkrei…'
 * ```
 */
export async function cidOfBytes(bytes: Uint8Array): Promise<string> {
  let root: string | undefined;
  for await (const entry of importer([{ content: bytes }], new MemoryBlockstore(), pinnedImporterOptions())) root = entry.cid.toString();
  if (root === undefined) throw new Error('the UnixFS importer produced no root');
  return root;
}

/** The CID `value` gets when added as canonical JSON (what every content store's `addJson` stores). */
export function cidOfJson(value: unknown): Promise<string> {
  return cidOfBytes(new TextEncoder().encode(canonicalJson(value)));
}

/**
 * The CIDv0 (`Qm…`) that `bytes` get from a plain `ipfs add` (Kubo's defaults before CIDv1: dag-pb leaves, the
 * same 256 KiB chunks and balanced layout). Lit names a Lit Action by this CID (`:currentActionIpfsId`), and
 * computes it the same way (ipfs-only-hash) when it is given the code instead of the CID.
 *
 * @example
 * ```ts
 * await cidV0OfBytes(new TextEncoder().encode(actionSource)); // 'Qm…'
 * ```
 */
export async function cidV0OfBytes(bytes: Uint8Array): Promise<string> {
  let root: string | undefined;
  const options: ImporterOptions = { ...pinnedImporterOptions(), cidVersion: 0, rawLeaves: false };
  for await (const entry of importer([{ content: bytes }], new MemoryBlockstore(), options)) root = entry.cid.toString();
  if (root === undefined) throw new Error('the UnixFS importer produced no root');
  return root;
}
