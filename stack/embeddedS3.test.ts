import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3BlobStore } from '../shared/adapters/aws/S3BlobStore.js';
import { startEmbeddedS3 } from './embeddedS3.js';

const CREDS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

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
