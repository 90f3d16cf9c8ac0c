import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ProvenaError } from '../../errors.js';
import { EMBEDDED_S3_DEV_CREDENTIALS, startEmbeddedS3 } from '../../../stack/embeddedS3.js';
import type { EmbeddedS3 } from '../../../stack/embeddedS3.js';
import { S3BlobStore, createS3Client, mapS3Error } from './S3BlobStore.js';
import { codeOf } from '../../../test/support/errors.js';

const BUCKET = 'provena-test';
const CREDS = EMBEDDED_S3_DEV_CREDENTIALS;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}


/** Emits `data` in uneven pieces, like a network stream, with no length known up front. */
function streamOf(data: Uint8Array): Readable {
  return Readable.from(
    (function* () {
      for (let off = 0; off < data.length; off += 65_537) yield Buffer.from(data.subarray(off, off + 65_537));
    })(),
  );
}

describe('S3BlobStore against s3rver', () => {
  let dir: string;
  let s3: EmbeddedS3;
  let store: S3BlobStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provena-s3-'));
    s3 = await startEmbeddedS3({ dir, port: 0, buckets: [BUCKET] });
    store = new S3BlobStore({ bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: CREDS });
  });

  afterAll(async () => {
    store.client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, heads and gets an object', async () => {
    const body = new TextEncoder().encode('hello blobs');
    const { etag } = await store.put('a/hello.txt', body, { contentType: 'text/plain' });

    const head = await store.head('a/hello.txt');
    const got = await readAll(await store.get('a/hello.txt'));

    expect(etag).toBe(createHash('md5').update(body).digest('hex'));
    expect(head).toEqual({ key: 'a/hello.txt', size: body.length, etag, contentType: 'text/plain' });
    expect(got.toString()).toBe('hello blobs');
  });

  it('reads an inclusive byte range', async () => {
    await store.put('a/range.bin', new TextEncoder().encode('0123456789'));
    expect((await readAll(await store.get('a/range.bin', { start: 2, end: 5 }))).toString()).toBe('2345');
  });

  it('deletes an object, after which head is undefined and get is BLOB_NOT_FOUND', async () => {
    await store.put('a/gone.txt', new Uint8Array([1]));
    await store.delete('a/gone.txt');

    expect(await store.head('a/gone.txt')).toBeUndefined();
    expect(await codeOf(store.get('a/gone.txt'))).toBe('BLOB_NOT_FOUND');
  });

  it('answers a missing key with BLOB_NOT_FOUND on get and undefined on head', async () => {
    expect(await codeOf(store.get('never/there'))).toBe('BLOB_NOT_FOUND');
    expect(await store.head('never/there')).toBeUndefined();
  });

  it('lists keys under a prefix a page at a time', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `list/item-${i}`);
    for (const k of keys) await store.put(k, new TextEncoder().encode(k));
    await store.put('other/x', new Uint8Array([1]));

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page: { items: { key: string; size: number }[]; cursor?: string } = await store.list('list/', { limit: 3, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i.key));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);

    expect(seen).toEqual(keys);
    expect(pages).toBe(3);
  });

  it('stores a streamed multi-MB body with a known length byte-identically', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 123);
    await store.put('big/known-length.bin', streamOf(data), { contentLength: data.length });

    const out = await readAll(await store.get('big/known-length.bin'));

    expect(out.length).toBe(data.length);
    expect(sha(out)).toBe(sha(data));
  });

  it('stores a streamed body of unknown length (multipart underneath) byte-identically', async () => {
    const data = randomBytes(17 * 1024 * 1024 + 5);
    await store.put('big/unknown-length.bin', streamOf(data));

    const out = await readAll(await store.get('big/unknown-length.bin'));

    expect(sha(out)).toBe(sha(data));
    expect(await store.list('big/unknown-length.bin')).toMatchObject({ items: [{ size: data.length }] });
  });

  it('completes a multipart upload whose parts were PUT by plain fetch to presigned URLs', async () => {
    const key = 'mp/assembled.bin';
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const { uploadId } = await store.createMultipartUpload(key, { contentType: 'application/octet-stream' });

    const etags: { partNumber: number; etag: string }[] = [];
    for (const [i, bytes] of parts.entries()) {
      const url = await store.presignUploadPart(key, uploadId, i + 1, 300);
      const res = await fetch(url, { method: 'PUT', body: bytes });
      expect(res.status).toBe(200);
      etags.push({ partNumber: i + 1, etag: res.headers.get('etag') ?? '' });
    }
    const listed = await store.listParts(key, uploadId);
    await store.completeMultipartUpload(key, uploadId, [...etags].reverse()); // order is the adapter's job

    expect(listed).toEqual(parts.map((p, i) => ({ partNumber: i + 1, size: p.length, etag: createHash('md5').update(p).digest('hex') })));
    expect(etags.map((e) => e.etag.replace(/"/g, ''))).toEqual(listed.map((p) => p.etag));
    const out = await readAll(await store.get(key));
    expect(sha(out)).toBe(sha(Buffer.concat(parts)));
    expect((await store.head(key))?.contentType).toBe('application/octet-stream');
  });

  it('aborts a multipart upload: its parts are gone and it cannot be completed', async () => {
    const key = 'mp/aborted.bin';
    const { uploadId } = await store.createMultipartUpload(key);
    const res = await fetch(await store.presignUploadPart(key, uploadId, 1, 60), { method: 'PUT', body: randomBytes(1000) });
    const etag = res.headers.get('etag') ?? '';

    await store.abortMultipartUpload(key, uploadId);

    expect(await codeOf(store.listParts(key, uploadId))).toBe('BLOB_NOT_FOUND');
    expect(await codeOf(store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]))).not.toBe('OK');
    expect(await store.head(key)).toBeUndefined();
  });

  it('serves a presigned GET to plain fetch', async () => {
    const data = randomBytes(100_000);
    await store.put('presigned/get.bin', data);

    const res = await fetch(await store.presignGet('presigned/get.bin', 60));

    expect(res.status).toBe(200);
    expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(sha(data));
  });

  it('rejects bad arguments with VALIDATION_FAILED before calling S3', async () => {
    expect(await codeOf(store.get('k', { start: 5, end: 2 }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(store.list('p', { limit: 0 }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(store.list('p', { cursor: '' }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(store.presignUploadPart('k', 'u', 0, 60))).toBe('VALIDATION_FAILED');
    expect(await codeOf(store.presignGet('k', 8 * 24 * 3600))).toBe('VALIDATION_FAILED');
    expect(await codeOf(store.put('', new Uint8Array()))).toBe('VALIDATION_FAILED');
  });

  it('reports healthy for an existing bucket and down for a missing one', async () => {
    const missing = new S3BlobStore({ bucket: 'no-such-bucket', client: store.client });
    expect((await store.health()).status).toBe('ok');
    expect((await missing.health()).status).toBe('down');
  });

  it('fails with DEPENDENCY_FAILED, keeping the cause, when the endpoint is down', async () => {
    const dead = new S3BlobStore({ bucket: BUCKET, client: createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: CREDS }) });
    const err = await dead.put('k', new Uint8Array([1])).catch((e: unknown) => e);
    dead.client.destroy();

    expect(err).toBeInstanceOf(ProvenaError);
    expect((err as ProvenaError).code).toBe('DEPENDENCY_FAILED');
    expect((err as ProvenaError).cause).toBeDefined();
  });

  it('maps SDK error names onto stable codes', () => {
    const named = (name: string): Error => Object.assign(new Error(name), { name });
    expect(mapS3Error(named('NoSuchKey'), 'b', 'k').code).toBe('BLOB_NOT_FOUND');
    expect(mapS3Error(named('NotFound'), 'b', 'k').code).toBe('BLOB_NOT_FOUND');
    expect(mapS3Error(named('NoSuchUpload'), 'b', 'k', 'u').details).toMatchObject({ uploadId: 'u' });
    expect(mapS3Error(named('AccessDenied'), 'b', 'k').code).toBe('DEPENDENCY_FAILED');
  });

  it('always builds clients that checksum only when required (s3rver corrupts streamed bodies otherwise)', async () => {
    const client = createS3Client({ region: 'us-east-1' });
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    client.destroy();
  });
});
