/**
 * The owner-side upload (shared/sdk/upload.ts, `provena dataset upload`) end to end on the embedded stack:
 * presigned multipart PUTs to s3rver, completion by the real API, resume after a crash, refusal of a changed
 * source, and the data coming back byte for byte to a license holder.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { devAccountKey } from '../stack/embeddedChain.js';
import { fetchDataset } from '../shared/sdk/fetchData.js';
import { uploadDataset, type UploadOptions, type UploadProgress } from '../shared/sdk/upload.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import { planUpload } from '../shared/schemas/upload.js';
import { buyLicense, uploadBytes } from './support/data.js';
import { runCli } from './support/cli.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';
import { codeOf } from './support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-upload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHUNK = 64 * 1024;
/** ~12 MiB of CSV-looking text: with 64 KiB chunks that is 3 parts (two of >= 5 MiB and a remainder). */
function bigCsv(path: string, bytes = 12 * 1024 * 1024 + 12_345): string {
  const header = 'id,email,amount\n';
  const row = (i: number) => `${i},user${i}@example.com,${(i * 7) % 1000}\n`;
  const lines: string[] = [header];
  let size = header.length;
  for (let i = 0; size < bytes; i++) {
    const r = row(i);
    lines.push(r);
    size += r.length;
  }
  writeFileSync(path, lines.join('').slice(0, bytes));
  return path;
}


/** A fetch that counts the part PUTs it passes on. */
function countingFetch(): { fetch: typeof fetch; puts: () => number } {
  let n = 0;
  return {
    fetch: (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      if (init?.method === 'PUT') n += 1;
      return fetch(input, init);
    }) as typeof fetch,
    puts: () => n,
  };
}

async function registeredDataset(owner: Wallet, overrides: Parameters<typeof listing>[1] = {}): Promise<Dataset> {
  const api = clientFor(owner);
  return api.registerDataset((await api.createDataset(listing(owner.address, overrides))).id);
}

describe('uploadDataset on the embedded stack', () => {
  const owner = newWallet();
  const api = clientFor(owner);
  const stateDir = join(dir, 'state');

  it('uploads a multi-part file and publishes it as the listing data, which a licensee decrypts byte for byte', async () => {
    const ds = await registeredDataset(owner, { license: { ...listing(owner.address).license, rawAccess: true } });
    const src = bigCsv(join(dir, 'rows.csv'));
    const size = statSync(src).size;
    expect(planUpload(size, CHUNK).parts.length).toBeGreaterThanOrEqual(3);
    const progress: UploadProgress[] = [];
    const counter = countingFetch();

    const done = await uploadDataset(api, ds.id, src, { chunkSize: CHUNK, stateDir, fetch: counter.fetch, onProgress: (p) => progress.push(p) });

    expect(done.data).toMatchObject({ version: 1, format: 'csv', plaintextSize: size });
    expect(done.data?.manifestCid).toMatch(/^b/);
    expect(counter.puts()).toBe(planUpload(size, CHUNK).parts.length);
    const last = progress[progress.length - 1]!;
    expect(last).toMatchObject({ bytesDone: last.bytesTotal, partsDone: last.partsTotal, etaSeconds: 0 });
    expect(readdirSync(stateDir)).toEqual([]); // the state (with its key) is gone after completion

    const lab = new Wallet(devAccountKey(15), provider());
    const { licenseId } = await buyLicense(15, [done.chainDatasetId as string]);
    const out = join(dir, 'fetched.csv');
    expect(await fetchDataset(clientFor(lab), lab, ds.id, { grant: { type: 'license', licenseId }, out })).toBe(size);
    expect(readFileSync(out).equals(readFileSync(src))).toBe(true);
  }, 120_000);

  it('resumes after a crash, uploading only the parts S3 does not have', async () => {
    const ds = await registeredDataset(owner);
    const src = bigCsv(join(dir, 'resume.csv'));
    const partsTotal = planUpload(statSync(src).size, CHUNK).parts.length;
    const crash = new AbortController();
    const first = countingFetch();
    const opts: UploadOptions = { chunkSize: CHUNK, stateDir, concurrency: 1 };

    const aborted = uploadDataset(api, ds.id, src, { ...opts, fetch: first.fetch, signal: crash.signal, onProgress: (p) => p.partsDone >= 1 && crash.abort(new Error('simulated crash')) });
    await expect(aborted).rejects.toThrow('simulated crash');
    expect(first.puts()).toBe(1);
    const [stateFile] = readdirSync(stateDir);
    expect(statSync(join(stateDir, stateFile!)).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(Object.keys((JSON.parse(readFileSync(join(stateDir, stateFile!), 'utf8')) as { parts: object }).parts)).toEqual(['1']);

    const second = countingFetch();
    const starts: boolean[] = [];
    const done = await uploadDataset(api, ds.id, src, { ...opts, fetch: second.fetch, onStart: (s) => starts.push(s.resumed) });

    expect(starts).toEqual([true]);
    expect(second.puts()).toBe(partsTotal - 1);
    expect(done.data).toMatchObject({ version: 1, plaintextSize: statSync(src).size });
    expect(readdirSync(stateDir)).toEqual([]);
  }, 120_000);

  it('refuses to resume a changed source, and starts over with restart', async () => {
    const ds = await registeredDataset(owner);
    const src = bigCsv(join(dir, 'changed.csv'));
    const crash = new AbortController();
    const opts: UploadOptions = { chunkSize: CHUNK, stateDir, concurrency: 1 };
    await expect(uploadDataset(api, ds.id, src, { ...opts, signal: crash.signal, onProgress: (p) => p.partsDone >= 1 && crash.abort(new Error('crash')) })).rejects.toThrow('crash');
    appendFileSync(src, '999999,late@example.com,1\n');

    expect(await codeOf(uploadDataset(api, ds.id, src, opts))).toBe('UPLOAD_SOURCE_CHANGED');
    expect(readdirSync(stateDir)).toHaveLength(1); // kept: the user decides

    const done = await uploadDataset(api, ds.id, src, { ...opts, restart: true });
    expect(done.data).toMatchObject({ version: 1, plaintextSize: statSync(src).size });
    expect(readdirSync(stateDir)).toEqual([]);
  }, 120_000);

  it('detects a source edited in place with its size and time restored, by the re-encrypted chunk digests', async () => {
    const ds = await registeredDataset(owner);
    const src = bigCsv(join(dir, 'sneaky.csv'));
    const before = statSync(src);
    const crash = new AbortController();
    const opts: UploadOptions = { chunkSize: CHUNK, stateDir, concurrency: 1 };
    await expect(uploadDataset(api, ds.id, src, { ...opts, signal: crash.signal, onProgress: (p) => p.partsDone >= 1 && crash.abort(new Error('crash')) })).rejects.toThrow('crash');
    const fd = openSync(src, 'r+'); // same inode, same size
    writeSync(fd, Buffer.from('X'), 0, 1, 100);
    closeSync(fd);
    // Restore the identity the state recorded (as a coarse-mtime filesystem or a time-preserving tool would).
    utimesSync(src, before.atime, before.mtime);
    const [stateFile] = readdirSync(stateDir);
    const statePath = join(stateDir, stateFile!);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { identity: { mtimeMs: number } };
    state.identity.mtimeMs = statSync(src).mtimeMs;
    writeFileSync(statePath, JSON.stringify(state), { mode: 0o600 });
    const counter = countingFetch();

    expect(await codeOf(uploadDataset(api, ds.id, src, { ...opts, fetch: counter.fetch }))).toBe('UPLOAD_RESUME_MISMATCH');
    expect(counter.puts()).toBe(0);
    expect((await api.getDataset(ds.id)).data).toBeUndefined();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('uploads a folder of text files as text-folder with its file layout', async () => {
    const ds = await registeredDataset(owner);
    const folder = join(dir, 'notes');
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(join(folder, 'b'), { recursive: true });
    writeFileSync(join(folder, 'a.txt'), 'first note\n');
    writeFileSync(join(folder, 'b', 'c.txt'), 'second note\n');
    const done = await uploadDataset(api, ds.id, folder, { stateDir });
    expect(done.data).toMatchObject({ format: 'text-folder', plaintextSize: 23 });
  }, 60_000);
});

const cli = runCli;

describe('provena dataset upload', () => {
  it('uploads with a progress bar on stderr and prints the data manifest CID', async () => {
    const owner = Wallet.createRandom() as unknown as Wallet;
    const ds = await registeredDataset(owner);
    const keyFile = join(dir, 'cli.key');
    writeFileSync(keyFile, `${owner.privateKey}\n`, { mode: 0o600 });
    const src = join(dir, 'cli.jsonl');
    writeFileSync(src, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, text: randomBytes(40).toString('hex') })).join('\n'));
    const cliState = join(dir, 'cli-state');
    const env = { PROVENA_API_URL: stackInfo().apiUrl };

    const r = await cli(['--key-file', keyFile, 'dataset', 'upload', ds.id, src, '--chunk-size', '0.0625', '--state-dir', cliState], env);

    expect(r.stderr).toContain('starting upload up_');
    expect(r.stderr).toContain('SECRET data key');
    expect(r.stderr).toMatch(/100\.0%\s+[\d.]+ MB\/s\s+ETA 00:00/);
    expect(r.code).toBe(0);
    const listed = await clientFor().getDataset(ds.id);
    expect(r.stdout).toContain(`data manifest ${listed.data?.manifestCid}`);
    expect(existsSync(cliState) && readdirSync(cliState)).toEqual([]);

    const bad = await cli(['--key-file', keyFile, 'dataset', 'upload', ds.id, src, '--format', 'parquet', '--state-dir', cliState, '--no-progress'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('UPLOAD_SOURCE_INVALID');

    const help = await cli(['dataset', 'upload', '--help'], env);
    expect(help.stdout).toContain('--restart');
    expect(help.stdout).toContain('~/.provena/uploads');
  }, 120_000);
});

describe('listing facts measured from the data (issue 8, item 7)', () => {
  const owner = newWallet();
  const api = clientFor(owner);

  it('shows the 20,000 rows and bytes counted while encrypting, and flags the declared 420,000 rows and 1.25 GB', async () => {
    const ds = await registeredDataset(owner, { sizeBytes: 1_250_000_000, sampleCount: 420_000 });
    const rows = ['id,email,amount', ...Array.from({ length: 20_000 }, (_, i) => `${i},user${i}@example.com,${(i * 7) % 1000}`)];
    const src = join(dir, 'twenty-thousand.csv');
    writeFileSync(src, `${rows.join('\n')}\n`);
    const size = statSync(src).size;

    const done = await uploadDataset(api, ds.id, src, { chunkSize: CHUNK, stateDir: join(dir, 'measured-state') });

    expect(done.data?.measured).toEqual({ bytes: size, rows: 20_000 });
    expect(done.data?.declaredMismatch).toEqual({ sizeBytes: 1_250_000_000, sampleCount: 420_000 });
    const shown = await clientFor().getDataset(ds.id);
    expect(shown.data?.measured?.rows).toBe(20_000);
    expect(shown.data?.declaredMismatch?.sampleCount).toBe(420_000);
  });

  it('shows no mismatch flag once the owner declares what was measured', async () => {
    const ds = await registeredDataset(owner, { sizeBytes: 1_250_000_000, sampleCount: 420_000 });
    const plaintext = Buffer.from('id\n1\n2\n3\n');
    const uploaded = await uploadBytes(api, ds.id, plaintext, CHUNK, { bytes: plaintext.length, rows: 3 });
    expect(uploaded.data?.declaredMismatch).toEqual({ sizeBytes: 1_250_000_000, sampleCount: 420_000 });

    const fixed = await api.updateDataset(ds.id, { sizeBytes: plaintext.length, sampleCount: 3, expectedVersion: uploaded.version });

    expect(fixed.data?.measured).toEqual({ bytes: plaintext.length, rows: 3 });
    expect(fixed.data?.declaredMismatch).toBeUndefined();
  });

  it('refuses a completion whose measured bytes are not the uploaded plaintext size, and lists nothing', async () => {
    const ds = await registeredDataset(owner);
    const plaintext = Buffer.from('id\n1\n');

    expect(await codeOf(uploadBytes(api, ds.id, plaintext, CHUNK, { bytes: plaintext.length + 1, rows: 1 }))).toBe('VALIDATION_FAILED');

    expect((await clientFor().getDataset(ds.id)).data).toBeUndefined();
  });
});
