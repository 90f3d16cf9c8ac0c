/**
 * Units of the owner-side upload against an in-memory fake of the upload API and of S3's presigned PUTs:
 * state file permissions, resume decisions, retries, progress formatting, and flat memory on a 200 MiB file.
 * (test/upload.test.ts runs the same code against the real embedded stack.)
 */
import { createECDH, createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { deriveStreamKeys } from '../crypto/chunkedAead.js';
import { openSealedBox } from '../crypto/ecies.js';
import { planUpload, uploadKeyContext, type UploadCompleteInput, type UploadPlan, type UploadStartInput } from '../schemas/upload.js';
import { DatasetInput } from '../schemas/dataset.js';
import { exampleListing } from '../../cli/example-listing.js';
import { ProvenaClient } from './client.js';
import { uploadDataset, type UploadOptions } from './upload.js';
import { formatProgress } from './uploadProgress.js';
import { ensureStateDir, readUploadState, stateFilePath, writeUploadState, type UploadState } from './uploadState.js';
import { codeOf } from '../../test/support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-upload-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FakeUpload {
  plan: UploadPlan;
  input: UploadStartInput;
  s3: Map<number, { etag: string; size: number }>;
  status: 'open' | 'completed';
}

/** A complete listing as the API answers a completed upload (the client checks it against the route's schema). */
function listedWithData(input: UploadStartInput) {
  const owner = '0x000000000000000000000000000000000000dEaD';
  const now = new Date().toISOString();
  const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
  return {
    ...DatasetInput.parse(exampleListing(owner, '0x0000000000000000000000000000000000000001')),
    id: 'ds_1', owner, version: 1, status: 'active', manifestCid: cid, createdAt: now, updatedAt: now,
    // Already recorded on the registry, so uploadDataset's registry sync has nothing to do (this fake has no registration route).
    chainDatasetId: '1', chainManifestCid: cid,
    data: { version: 1, manifestCid: cid, format: input.format, plaintextSize: input.plaintextSize, ciphertextSize: input.plaintextSize + 16, objectKey: 'datasets/ds_1/v1/x.enc', uploadedAt: now },
  };
}

/** The upload API and S3 in memory. `putStatuses` answers the next PUTs with these statuses (then 200). */
function fakeApi() {
  const gate = createECDH('secp256k1');
  gate.generateKeys();
  const uploads = new Map<string, FakeUpload>();
  const state = { puts: 0, putStatuses: [] as number[], completed: undefined as UploadCompleteInput | undefined, keyOk: false, keyHex: '' };
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const session = (id: string, u: FakeUpload) => ({
    uploadId: id,
    datasetId: 'ds_1',
    dataVersion: 1,
    status: u.status,
    format: u.input.format,
    plaintextSize: u.input.plaintextSize,
    chunkSize: u.input.chunkSize,
    chunkCount: u.plan.chunkCount,
    totalCiphertextSize: u.plan.totalCiphertextSize,
    parts: u.plan.parts.map((p) => {
      const have = u.s3.get(p.partNumber);
      return have && have.size === p.size ? { ...p, etag: have.etag } : { ...p, url: `http://s3.test/${id}/${p.partNumber}` };
    }),
    keyContext: uploadKeyContext('ds_1', 1, id),
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  const fetchImpl = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    if (url.host === 's3.test') {
      state.puts += 1;
      const status = state.putStatuses.shift();
      if (status !== undefined && status !== 200) return new Response('nope', { status });
      const [, id, part] = url.pathname.split('/');
      const body = init?.body as Buffer; // hashed, not kept: the memory test measures the client only
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      uploads.get(id!)!.s3.set(Number(part), { etag, size: body.length });
      return new Response('', { status: 200, headers: { etag } });
    }
    if (method === 'GET' && url.pathname === '/v1/keygate') {
      return json(200, { backend: 'embedded', publicKey: `0x${gate.getPublicKey('hex', 'compressed')}`, scheme: 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1' });
    }
    const m = /^\/v1\/datasets\/ds_1\/uploads(?:\/(up_\w+))?(\/complete)?$/.exec(url.pathname);
    if (!m) return json(404, { error: { code: 'ROUTE_NOT_FOUND', message: url.pathname } });
    const body = init?.body === undefined ? undefined : (JSON.parse(String(init.body)) as unknown);
    if (method === 'POST' && !m[1]) {
      const input = body as UploadStartInput;
      const id = `up_${String(uploads.size).padStart(26, '0')}`;
      const u: FakeUpload = { plan: planUpload(input.plaintextSize, input.chunkSize), input, s3: new Map(), status: 'open' };
      uploads.set(id, u);
      return json(201, session(id, u));
    }
    const u = uploads.get(m[1]!);
    if (!u) return json(404, { error: { code: 'UPLOAD_NOT_FOUND', message: 'no upload' } });
    if (method === 'GET') return json(200, session(m[1]!, u));
    const done = body as UploadCompleteInput;
    const missing = u.plan.parts.filter((p) => u.s3.get(p.partNumber)?.etag !== done.parts.find((q) => q.partNumber === p.partNumber)?.etag);
    if (missing.length) return json(422, { error: { code: 'UPLOAD_INCOMPLETE', message: `missing ${missing.map((p) => p.partNumber).join(',')}` } });
    const key = openSealedBox(`0x${gate.getPrivateKey('hex')}`, done.sealedDataKey);
    state.keyOk = deriveStreamKeys(key, Buffer.from(done.cipher.salt, 'hex'), { datasetId: 'ds_1', version: 1 }, u.input.chunkSize).keyCommitment.toString('hex') === done.cipher.keyCommitment;
    state.completed = done;
    state.keyHex = key.toString('hex');
    u.status = 'completed';
    return json(200, listedWithData(u.input));
  }) as typeof fetch;
  const client = new ProvenaClient({ baseUrl: 'http://api.test', chainId: 31337, signer: Wallet.createRandom(), fetch: fetchImpl });
  return { client, fetch: fetchImpl, state, uploads };
}

let n = 0;
function csv(bytes: number): string {
  const p = join(dir, `${n++}.csv`);
  const row = 'id,text\n' + '1,abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(Math.ceil(bytes / 38));
  writeFileSync(p, row.slice(0, bytes));
  return p;
}


const CHUNK = 64 * 1024;

describe('the state file', () => {
  it('lives in a 0700 directory (tightened if looser) as a 0600 file, and round-trips', async () => {
    const stateDir = join(dir, 'loose');
    mkdirSync(stateDir, { mode: 0o755 });
    chmodSync(stateDir, 0o755);
    await ensureStateDir(stateDir);
    const file = stateFilePath(stateDir, 'http://api.test/', 'ds_1', '/data/x.csv');
    expect(file).toBe(stateFilePath(stateDir, 'http://api.test', 'ds_1', '/data/x.csv'));
    expect(file).not.toBe(stateFilePath(stateDir, 'http://api.test', 'ds_1', '/data/y.csv'));
    const state: UploadState = {
      v: 1, apiUrl: 'http://api.test', datasetId: 'ds_1', source: '/data/x.csv', uploadId: 'up_1', dataVersion: 1, format: 'csv',
      dataKey: 'ab'.repeat(32), salt: 'cd'.repeat(32), chunkSize: CHUNK, plaintextSize: 10, identity: { size: 10, mtimeMs: 1, ino: 2 }, parts: {}, createdAt: 'now',
    };
    await writeUploadState(file, state);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await readUploadState(file)).toEqual(state);
    writeFileSync(file, '{"v":2}');
    expect(await codeOf(readUploadState(file))).toBe('UPLOAD_RESUME_MISMATCH');
  });
});

describe('uploadDataset against a fake API', () => {
  it('seals the data key to the gate with the session context and lists every chunk', async () => {
    const api = fakeApi();
    const src = csv(11 * 1024 * 1024);
    await uploadDataset(api.client, 'ds_1', src, { chunkSize: CHUNK, stateDir: join(dir, 's1'), fetch: api.fetch });
    expect(api.state.keyOk).toBe(true);
    expect(api.state.completed?.chunks).toHaveLength(planUpload(statSync(src).size, CHUNK).chunkCount);
    expect(api.state.completed?.sealedDataKey.context).toBe(uploadKeyContext('ds_1', 1, 'up_00000000000000000000000000'));
    expect(api.state.keyHex).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(api.state.completed)).not.toContain(api.state.keyHex); // sealed, never in the clear
  });

  it('skips a part S3 got before a crash kept it out of the state, after checking its MD5 ETag', async () => {
    const api = fakeApi();
    const src = csv(11 * 1024 * 1024);
    const stateDir = join(dir, 's2');
    const crash = new AbortController();
    const opts: UploadOptions = { chunkSize: CHUNK, stateDir, concurrency: 1, fetch: api.fetch };
    await expect(uploadDataset(api.client, 'ds_1', src, { ...opts, signal: crash.signal, onProgress: (p) => p.partsDone === 1 && crash.abort(new Error('crash')) })).rejects.toThrow('crash');
    // Forget part 1 in the state, as if the process died between S3's answer and the state write.
    const file = join(stateDir, readdirSync(stateDir)[0]!);
    const state = (await readUploadState(file))!;
    state.parts = {};
    await writeUploadState(file, state);
    const putsBefore = api.state.puts;

    await uploadDataset(api.client, 'ds_1', src, opts);

    expect(api.state.puts - putsBefore).toBe(planUpload(statSync(src).size, CHUNK).parts.length - 1);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('retries a part on 5xx answers and gives up at once on a 4xx, keeping the state to resume', async () => {
    const api = fakeApi();
    const src = csv(200_000);
    api.state.putStatuses = [503, 500];
    await uploadDataset(api.client, 'ds_1', src, { chunkSize: CHUNK, stateDir: join(dir, 's3'), fetch: api.fetch, retryDelayMs: 1 });
    expect(api.state.puts).toBe(3);

    const again = fakeApi();
    again.state.putStatuses = [403];
    expect(await codeOf(uploadDataset(again.client, 'ds_1', csv(200_000), { chunkSize: CHUNK, stateDir: join(dir, 's4'), fetch: again.fetch, retryDelayMs: 1 }))).toBe('UPLOAD_PART_FAILED');
    expect(again.state.puts).toBe(1);
    expect(readdirSync(join(dir, 's4'))).toHaveLength(1);
  });

  it('keeps memory flat on a 200 MiB file: peak RSS grows by far less than the file', async () => {
    const api = fakeApi();
    const src = join(dir, 'big.csv');
    const fd = openSync(src, 'w');
    const block = Buffer.from('id,text\n' + 'x'.repeat(1024 * 1024 - 9) + '\n');
    for (let i = 0; i < 200; i++) writeSync(fd, block);
    closeSync(fd);
    const base = process.memoryUsage().rss;
    let peak = base;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const t0 = Date.now();
    try {
      await uploadDataset(api.client, 'ds_1', src, { stateDir: join(dir, 's5'), fetch: api.fetch, onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
    } finally {
      clearInterval(sample);
    }
    const grewMiB = (peak - base) / 2 ** 20;
    process.stdout.write(`upload of 200 MiB: peak RSS +${grewMiB.toFixed(1)} MiB over ${(base / 2 ** 20).toFixed(0)} MiB, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    expect(grewMiB).toBeLessThan(128);
  }, 180_000); // 200 MiB through AES-GCM + SHA-256: minutes when the two cores are shared (this test is about memory, not time)
});

describe('formatProgress', () => {
  it('shows percent, MB/s, ETA and parts', () => {
    expect(formatProgress({ bytesDone: 45, bytesTotal: 100, partsDone: 9, partsTotal: 20, partsSkipped: 2, bytesPerSecond: 12_300_000, etaSeconds: 42 }, 10)).toBe(
      '[#####.....]  45.0%  12.3 MB/s  ETA 00:42  parts 9/20 (2 resumed)',
    );
    expect(formatProgress({ bytesDone: 0, bytesTotal: 100, partsDone: 0, partsTotal: 3, partsSkipped: 0, bytesPerSecond: 0, etaSeconds: Infinity }, 4)).toContain('ETA --:--');
  });
});
