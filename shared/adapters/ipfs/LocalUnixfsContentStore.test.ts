import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { ProvenaError } from '../../errors.js';
import { canonicalJson } from '../../encoding/canonicalJson.js';
import { LocalUnixfsContentStore } from './LocalUnixfsContentStore.js';
import { codeOf } from '../../../test/support/errors.js';

const RAW = 0x55;
const DAG_PB = 0x70;

/** Deterministic pseudo-random bytes (xorshift), so the known answers below stay fixed. */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function readAll(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}


// ---- A minimal, independent dag-pb + UnixFS encoder (protobuf by hand), to compute known answers ----
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const lenField = (field: number, b: Uint8Array): number[] => [(field << 3) | 2, ...varint(b.length), ...b];
const intField = (field: number, n: number): number[] => [(field << 3) | 0, ...varint(n)];

/** CID of a two-level UnixFS file as Kubo builds it: raw leaves linked from one dag-pb root, Links before Data. */
async function expectedRootCid(leaves: Uint8Array[]): Promise<string> {
  const leafCids = await Promise.all(leaves.map(async (l) => CID.create(1, RAW, await sha256.digest(l))));
  // UnixFS Data: Type=File(2), filesize, blocksizes (proto2 repeated, not packed).
  const unixfs = [...intField(1, 2), ...intField(3, leaves.reduce((s, l) => s + l.length, 0)), ...leaves.flatMap((l) => intField(4, l.length))];
  // PBLink: Hash, Name "", Tsize.
  const links = leafCids.flatMap((cid, i) => lenField(2, new Uint8Array([...lenField(1, cid.bytes), ...lenField(2, new Uint8Array()), ...intField(3, leaves[i]!.length)])));
  const node = new Uint8Array([...links, ...lenField(1, new Uint8Array(unixfs))]);
  return CID.create(1, DAG_PB, await sha256.digest(node)).toString();
}

describe('LocalUnixfsContentStore', () => {
  let dir: string;
  let fsStore: LocalUnixfsContentStore;
  let memStore: LocalUnixfsContentStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provena-ipfs-'));
    fsStore = await LocalUnixfsContentStore.open({ dir: path.join(dir, 'blocks') });
    memStore = new LocalUnixfsContentStore({ memory: true });
  });

  afterAll(async () => {
    await fsStore.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a single-chunk file the CIDv1 of its raw bytes (known answer, computed without the importer)', async () => {
    const input = new TextEncoder().encode('provena known-answer test\n');
    const expected = CID.create(1, RAW, await sha256.digest(input)).toString();

    const { cid, size } = await memStore.add(input);

    expect(cid).toBe(expected);
    expect(cid.startsWith('bafkrei')).toBe(true);
    expect(size).toBe(input.length);
  });

  it('gives the empty file the well-known raw CID', async () => {
    const { cid } = await memStore.add(new Uint8Array());
    expect(cid).toBe('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
  });

  it('builds a multi-chunk file from 256 KiB raw leaves under one dag-pb root (known answer, hand-encoded)', async () => {
    const input = bytes(262_144 * 2 + 1000, 7);
    const leaves = [input.subarray(0, 262_144), input.subarray(262_144, 524_288), input.subarray(524_288)];

    const { cid } = await memStore.add(input);

    expect(cid).toBe(await expectedRootCid(leaves));
  });

  it('round-trips small content through add and cat', async () => {
    const input = new TextEncoder().encode('hello provena');
    const { cid } = await fsStore.add(input);
    expect(Buffer.compare(await readAll(fsStore.cat(cid)), Buffer.from(input))).toBe(0);
  });

  it('round-trips multi-chunk (> 1 MiB) content streamed in odd-sized chunks', async () => {
    const input = bytes(3 * 1024 * 1024 + 12_345, 3);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < input.length; off += 100_003) yield input.subarray(off, off + 100_003);
    }

    const { cid, size } = await fsStore.add(chunks());
    const out = await readAll(fsStore.cat(cid));

    expect(size).toBe(input.length);
    expect(createHash('sha256').update(out).digest('hex')).toBe(createHash('sha256').update(input).digest('hex'));
    expect(cid.startsWith('bafybei')).toBe(true); // dag-pb root, not a raw leaf
  });

  it('gives the same bytes the same CID in the memory and fs stores, however they are chunked on input', async () => {
    const input = bytes(1_500_000, 11);
    const a = await memStore.add(input);
    const b = await fsStore.add(
      (async function* () {
        yield input.subarray(0, 1);
        yield input.subarray(1);
      })(),
    );
    expect(b.cid).toBe(a.cid);
  });

  it('stores JSON canonically, so key order does not change the CID', async () => {
    const a = await fsStore.addJson({ b: 1, a: { y: [1, 'x', null], x: true } });
    const b = await fsStore.addJson({ a: { x: true, y: [1, 'x', null] }, b: 1 });
    const expected = CID.create(1, RAW, await sha256.digest(new TextEncoder().encode('{"a":{"x":true,"y":[1,"x",null]},"b":1}'))).toString();

    expect(a.cid).toBe(b.cid);
    expect(a.cid).toBe(expected);
  });

  it('reads JSON back with getJson', async () => {
    const value = { name: 'ds', tags: ['a', 'b'], n: 1.5, nested: { ok: false } };
    const { cid } = await fsStore.addJson(value);
    expect(await fsStore.getJson(cid)).toEqual(value);
  });

  it.each([
    ['undefined', undefined],
    ['a bigint', 10n],
    ['a function', () => 1],
    ['NaN', Number.NaN],
    ['a nested undefined', { a: { b: undefined } }],
    ['a Date', new Date(0)],
    ['an array hole', [1, , 3]], // eslint-disable-line no-sparse-arrays
  ])('rejects %s in addJson with VALIDATION_FAILED', async (_label, value) => {
    expect(await codeOf(memStore.addJson(value))).toBe('VALIDATION_FAILED');
  });

  it('rejects cyclic values in canonical JSON', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalJson(a)).toThrow(ProvenaError);
  });

  it('answers getJson on non-JSON content with VALIDATION_FAILED', async () => {
    const { cid } = await memStore.add(new Uint8Array([0xff, 0xfe, 0x00]));
    expect(await codeOf(memStore.getJson(cid))).toBe('VALIDATION_FAILED');
  });

  it('answers an unknown CID with CONTENT_NOT_FOUND at once, without waiting on any network', async () => {
    const unknown = CID.create(1, RAW, await sha256.digest(new TextEncoder().encode('never added'))).toString();
    const t0 = Date.now();

    expect(await codeOf(readAll(fsStore.cat(unknown)))).toBe('CONTENT_NOT_FOUND');
    expect(await codeOf(memStore.getJson(unknown))).toBe('CONTENT_NOT_FOUND');
    expect(await fsStore.has(unknown)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('answers a malformed CID with VALIDATION_FAILED', async () => {
    expect(await codeOf(readAll(fsStore.cat('not-a-cid')))).toBe('VALIDATION_FAILED');
    expect(await codeOf(fsStore.has('bafy!!'))).toBe('VALIDATION_FAILED');
  });

  it('keeps data when the fs store is reopened on the same directory', async () => {
    const input = bytes(600_000, 5);
    const { cid } = await fsStore.add(input);

    const reopened = await LocalUnixfsContentStore.open({ dir: path.join(dir, 'blocks') });

    expect(await reopened.has(cid)).toBe(true);
    expect(Buffer.compare(await readAll(reopened.cat(cid)), Buffer.from(input))).toBe(0);
    await reopened.close();
  });

  it('does not share data between memory stores', async () => {
    const { cid } = await memStore.add(new TextEncoder().encode('only in one'));
    const other = new LocalUnixfsContentStore({ memory: true });
    expect(await other.has(cid)).toBe(false);
  });

  it('reports itself healthy', async () => {
    expect((await fsStore.health()).status).toBe('ok');
    expect((await memStore.health()).status).toBe('ok');
  });

  it('reports CONTENT_STORE_UNAVAILABLE when its directory cannot be created', async () => {
    // A path under a regular file (ENOTDIR). Not /proc: Node's recursive mkdir spins forever there.
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const store = new LocalUnixfsContentStore({ dir: path.join(file, 'blocks') });
    expect(await codeOf(store.add(new Uint8Array([1])))).toBe('CONTENT_STORE_UNAVAILABLE');
    expect((await store.health()).status).toBe('down');
  });
});
