import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3BlobStore, createS3Client } from '../shared/adapters/aws/S3BlobStore.js';
import { EMBEDDED_S3_DEV_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from './embeddedS3.js';

const CREDS = EMBEDDED_S3_DEV_CREDENTIALS;

describe('startEmbeddedS3', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provena-embedded-s3-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on a random loopback port and creates the buckets', async () => {
    const s3 = await startEmbeddedS3({ dir, port: 0, buckets: ['one', 'two'] });
    try {
      expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
      expect(s3.port).toBeGreaterThan(0);
      for (const bucket of ['one', 'two']) {
        const store = new S3BlobStore({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: CREDS });
        expect((await store.health()).status).toBe('ok');
        store.client.destroy();
      }
    } finally {
      await s3.close();
    }
  });

  it('answers a browser CORS preflight for a presigned PUT and exposes ETag', async () => {
    const s3 = await startEmbeddedS3({ dir, port: 0, buckets: ['one'] });
    try {
      const res = await fetch(`${s3.endpoint}/one/some/key?partNumber=1&uploadId=x`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('PUT');

      const get = await fetch(`${s3.endpoint}/one/missing`, { headers: { Origin: 'http://localhost:5173' } });
      expect(get.headers.get('access-control-expose-headers')).toContain('ETag');
    } finally {
      await s3.close();
    }
  });

  it('keeps objects across a restart on the same directory', async () => {
    const first = await startEmbeddedS3({ dir, port: 0, buckets: ['keep'] });
    const a = new S3BlobStore({ bucket: 'keep', region: 'us-east-1', endpoint: first.endpoint, forcePathStyle: true, credentials: CREDS });
    await a.put('k', new TextEncoder().encode('still here'));
    a.client.destroy();
    await first.close();

    const second = await startEmbeddedS3({ dir, port: 0, buckets: ['keep'] });
    const b = new S3BlobStore({ bucket: 'keep', region: 'us-east-1', endpoint: second.endpoint, forcePathStyle: true, credentials: CREDS });
    try {
      expect((await b.head('k'))?.size).toBe(10);
    } finally {
      b.client.destroy();
      await second.close();
    }
  });

  it('releases its port on close', async () => {
    const s3 = await startEmbeddedS3({ dir, port: 0, buckets: ['one'] });
    await s3.close();
    await expect(fetch(`${s3.endpoint}/one`)).rejects.toThrow();
  });
});

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The S3 error code of an XML error body. */
async function s3Code(res: Response): Promise<string | undefined> {
  return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1];
}

describe('the embedded S3 verifies SigV4 as S3 does', () => {
  const BUCKET = 'sig';
  let dir: string;
  let s3: EmbeddedS3;
  let client: S3Client;
  let clock = () => new Date();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provena-embedded-s3-sig-'));
    s3 = await startEmbeddedS3({ dir, port: 0, buckets: [BUCKET], now: () => clock() });
    client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: CREDS });
  });

  afterAll(async () => {
    client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  const getBytes = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());

  it('serves signed SDK put, get, head and list', async () => {
    const body = randomBytes(1000);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/one key+(1).bin', Body: body }));

    expect(await getBytes('a/one key+(1).bin')).toEqual(body);
    expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a/one key+(1).bin' }))).ContentLength).toBe(1000);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'a/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['a/one key+(1).bin']);
  });

  it('serves a signed SDK multipart upload, parts also through presigned URLs', async () => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }));
    const one = randomBytes(5 * 1024 * 1024);
    const two = randomBytes(1234);
    const p1 = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: one }));
    const url = await getSignedUrl(client, new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: 2 }), { expiresIn: 60 });
    const p2 = await fetch(url, { method: 'PUT', body: two });
    expect(p2.status).toBe(200);

    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.headers.get('etag')! }] },
      }),
    );

    // Compared by digest: jest's deep equality over 5 MiB of bytes takes minutes.
    expect(sha256(await getBytes('mp'))).toBe(sha256(Buffer.concat([one, two])));
  });

  it('refuses an unsigned PUT with 403 AccessDenied and leaves the object as it was', async () => {
    const original = randomBytes(64);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim', Body: original }));

    const res = await fetch(`${s3.endpoint}/${BUCKET}/victim`, { method: 'PUT', body: 'overwritten' });

    expect(res.status).toBe(403);
    expect(await s3Code(res)).toBe('AccessDenied');
    expect(await getBytes('victim')).toEqual(original);
  });

  it('refuses unsigned GET and ListObjects with 403 AccessDenied', async () => {
    for (const url of [`${s3.endpoint}/${BUCKET}/victim`, `${s3.endpoint}/${BUCKET}?list-type=2`, `${s3.endpoint}/${BUCKET}`, `${s3.endpoint}/`]) {
      const res = await fetch(url);
      expect([url, res.status, await s3Code(res)]).toEqual([url, 403, 'AccessDenied']);
    }
  });

  it('refuses a PUT signed with an unknown key or another secret, and a body that does not match its signed hash', async () => {
    const original = await getBytes('victim');
    const stranger = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'NOPE', secretAccessKey: 'S3RVER' } });
    const forger = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: CREDS.accessKeyId, secretAccessKey: 'guess' } });
    try {
      await expect(stranger.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim', Body: 'x' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
      await expect(forger.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim', Body: 'x' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    } finally {
      stranger.destroy();
      forger.destroy();
    }

    // A correctly signed request whose body was swapped in transit.
    const swap = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: CREDS });
    swap.middlewareStack.add((next) => async (args) => {
      const req = args.request as { body?: unknown };
      req.body = Buffer.from('swapped!');
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low', name: 'swapBody' });
    try {
      await expect(swap.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim', Body: 'original' }))).rejects.toMatchObject({ name: 'XAmzContentSHA256Mismatch', $metadata: { httpStatusCode: 400 } });
    } finally {
      swap.destroy();
    }
    expect(await getBytes('victim')).toEqual(original);
  });

  it('refuses an aws-chunked upload (the SDK default checksums) with 501 NotImplemented instead of storing its framing', async () => {
    const chunked = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: CREDS });
    try {
      const put = chunked.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chunked', Body: Readable.from([Buffer.from('framed body')]), ContentLength: 11 }));
      await expect(put).rejects.toMatchObject({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } });
    } finally {
      chunked.destroy();
    }
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'chunked' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  describe('presigned part URLs', () => {
    let uploadId: string;
    let otherUploadId: string;
    let url: URL;

    beforeAll(async () => {
      uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'scoped' }))).UploadId!;
      otherUploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'scoped' }))).UploadId!;
      url = new URL(await getSignedUrl(client, new UploadPartCommand({ Bucket: BUCKET, Key: 'scoped', UploadId: uploadId, PartNumber: 1 }), { expiresIn: 60 }));
    });

    const put = (u: URL | string) => fetch(u, { method: 'PUT', body: 'part bytes' });
    const tampered = (edit: (u: URL) => void): URL => {
      const u = new URL(url);
      edit(u);
      return u;
    };

    it('refuses the URL with another partNumber, uploadId or key with 403 SignatureDoesNotMatch', async () => {
      const variants = [
        tampered((u) => u.searchParams.set('partNumber', '2')),
        tampered((u) => u.searchParams.set('uploadId', otherUploadId)),
        tampered((u) => (u.pathname = `/${BUCKET}/other-key`)),
        tampered((u) => u.searchParams.append('x-id', 'PutObject')),
      ];
      for (const v of variants) {
        const res = await put(v);
        expect([v.search, res.status, await s3Code(res)]).toEqual([v.search, 403, 'SignatureDoesNotMatch']);
      }
    });

    it('refuses the URL with a zeroed or missing signature', async () => {
      const zeroed = await put(tampered((u) => u.searchParams.set('X-Amz-Signature', '0'.repeat(64))));
      expect([zeroed.status, await s3Code(zeroed)]).toEqual([403, 'SignatureDoesNotMatch']);
      const missing = await put(tampered((u) => u.searchParams.delete('X-Amz-Signature')));
      expect([missing.status, await s3Code(missing)]).toEqual([400, 'AuthorizationQueryParametersError']);
    });

    it('refuses the URL once it expired with 403 AccessDenied "Request has expired"', async () => {
      clock = () => new Date(Date.now() + 61_000);
      try {
        const res = await put(url);
        const text = await res.text();
        expect(res.status).toBe(403);
        expect(text).toContain('<Code>AccessDenied</Code>');
        expect(text).toContain('Request has expired');
      } finally {
        clock = () => new Date();
      }
    });

    it('accepts the untampered URL, so the refusals above are about the tampering', async () => {
      const res = await put(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(`"${createHash('md5').update('part bytes').digest('hex')}"`);
    });
  });

  it('verifies a request even when it carries the header the front uses to reach s3rver', async () => {
    // The front answers; a request with a forged internal-token header is still verified (and refused).
    const res = await fetch(`${s3.endpoint}/${BUCKET}/victim`, { headers: { 'x-provena-s3-front': 'guess' } });
    expect(res.status).toBe(403);
  });
});
