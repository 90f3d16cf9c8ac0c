import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobCheckpoint } from '../../shared/schemas/job.js';
import { commitCheckpoint, restoreCheckpoint, type ArtifactApi } from './checkpoints.js';

/** A loopback object store answering presigned-style PUT and GET on any path. */
const objects = new Map<string, Buffer>();
let server: Server;
let base = '';
const dir = mkdtempSync(join(tmpdir(), 'agent-ckpt-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') {
        objects.set(req.url!.split('?')[0]!, Buffer.concat(chunks));
        res.writeHead(200).end();
      } else {
        const o = objects.get(req.url!.split('?')[0]!);
        if (o) res.writeHead(200).end(o);
        else res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function api(commits: JobCheckpoint[]): ArtifactApi {
  return {
    async createUpload(kind, bytes, sha256) {
      return { objectKey: `jobs/1/${kind}/${sha256}`, uploadUrl: `${base}/jobs/1/${kind}/${sha256}?sig=x`, expiresAt: new Date().toISOString() };
    },
    async commit(input) {
      const c = { ...input, committedAt: new Date().toISOString(), fencingToken: 1 };
      commits.push(c);
      return c;
    },
  };
}

describe('checkpoints', () => {
  it('leave the worker encrypted and come back, after a SHA-256 check, as the same bytes', async () => {
    const plain = randomBytes(300_000);
    const path = join(dir, 'ckpt-000000006.pt');
    writeFileSync(path, plain);
    const commits: JobCheckpoint[] = [];
    const key = randomBytes(32);

    const committed = await commitCheckpoint(api(commits), key, '1', path, { epoch: 0, step: 6, globalStep: 6 }, { ds_a: 96 });
    const stored = objects.get(`/${committed.objectKey}`)!;
    const restored = await restoreCheckpoint({ ...committed, downloadUrl: `${base}/${committed.objectKey}` }, key, '1', dir);

    expect(committed.samples).toEqual({ ds_a: 96 });
    expect(stored.includes(plain.subarray(0, 64))).toBe(false);
    expect(readFileSync(restored).equals(plain)).toBe(true);
  });

  it('refuses a stored object that is not the one committed, and a key of another job', async () => {
    const path = join(dir, 'ckpt-000000012.pt');
    writeFileSync(path, randomBytes(1000));
    const key = randomBytes(32);
    const committed = await commitCheckpoint(api([]), key, '1', path, { epoch: 1, step: 0, globalStep: 12 }, { ds_a: 192 });
    const url = `${base}/${committed.objectKey}`;

    await expect(restoreCheckpoint({ ...committed, downloadUrl: url }, randomBytes(32), '1', dir)).rejects.toMatchObject({ code: 'DATA_KEY_MISMATCH' });
    objects.get(`/${committed.objectKey}`)![100]! ^= 1;
    await expect(restoreCheckpoint({ ...committed, downloadUrl: url }, key, '1', dir)).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
  });
});
