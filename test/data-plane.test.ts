/**
 * The encrypted data plane end to end on the embedded stack: gasless registration, encrypted upload, the key
 * gate deciding against the real chain, and download for the entitled — with each attack the issue lists
 * failing with its code, writing no plaintext.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { DatasetRegistry__factory } from '../contracts/typechain/index.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { S3BlobStore } from '../shared/adapters/aws/S3BlobStore.js';
import { ProvenaError } from '../shared/errors.js';
import { fetchDataset, requestDataKey } from '../shared/sdk/fetchData.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import { buyLicense, chainNow, licenseManager, openAttestedJob, uploadBytes } from './support/data.js';
import { runCli } from './support/cli.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';
import { codeOf } from './support/errors.js';
import { EMBEDDED_S3_DEV_CREDENTIALS } from '../stack/embeddedS3.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const CSV = Buffer.from(Array.from({ length: 6000 }, (_, i) => `${i},user${i}@example.com,${20 + (i % 50)},${(i * 7) % 1000}`).join('\n'));

/** Lab wallets: dev accounts (funded) as ethers Wallets, so they can both transact and open sealed keys. */
const labWallet = (i: number) => new Wallet(devAccountKey(i), provider());

describe('encrypted data plane', () => {
  const owner = newWallet();
  const api = clientFor(owner);
  let open: Dataset; // raw access allowed for license holders
  let trainingOnly: Dataset; // keys only for attested workers
  let other: Dataset; // a second dataset, for wrong-dataset licenses

  beforeAll(async () => {
    open = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'Open rows', license: { ...listing(owner.address).license, rawAccess: true } }))).id);
    trainingOnly = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'Training only' }))).id);
    other = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'Other' }))).id);
    open = await uploadBytes(api, open.id, CSV);
    trainingOnly = await uploadBytes(api, trainingOnly.id, CSV);
  }, 120_000);

  it('registers listings on chain without gas for the owner and records the registry id', async () => {
    expect(open.chainDatasetId).toMatch(/^[1-9][0-9]*$/);
    expect(new Set([open.chainDatasetId, trainingOnly.chainDatasetId, other.chainDatasetId]).size).toBe(3);
    expect(await provider().getBalance(owner.address)).toBe(0n);
  });

  it("records the listing's new manifest (which names the encrypted manifest) on the registry, gaslessly", async () => {
    const registry = DatasetRegistry__factory.connect(stackInfo().deployment.contracts.DatasetRegistry as string, provider());
    expect(open.chainManifestCid).not.toBe(open.manifestCid); // the upload made a new listing version
    const synced = await api.registerDataset(open.id);
    expect(synced.chainManifestCid).toBe(open.manifestCid);
    expect(synced.version).toBe(open.version);
    const onChain = await registry.getDataset(BigInt(open.chainDatasetId as string));
    expect(onChain.manifestCid).toBe(open.manifestCid);
    expect(await provider().getBalance(owner.address)).toBe(0n);
    expect(await codeOf(api.registerDataset(open.id))).toBe('DATASET_ALREADY_REGISTERED');
  });

  it('publishes the upload as a new data version with an encrypted manifest', () => {
    expect(open.data).toMatchObject({ version: 1, format: 'csv', plaintextSize: CSV.length });
    expect(open.data?.ciphertextSize).toBeGreaterThan(CSV.length);
  });

  it('refuses an upload by someone else, and before registration', async () => {
    const intruder = clientFor(newWallet());
    const body = { format: 'csv', plaintextSize: 10, chunkSize: 65536 };
    expect(await codeOf(intruder.request('POST', `/v1/datasets/${open.id}/uploads`, { signed: true, body }))).toBe('FORBIDDEN_NOT_OWNER');
    const fresh = await api.createDataset(listing(owner.address));
    expect(await codeOf(api.request('POST', `/v1/datasets/${fresh.id}/uploads`, { signed: true, body }))).toBe('DATASET_NOT_REGISTERED');
  });

  it('lets a license holder fetch and decrypt the data, byte for byte', async () => {
    const lab = labWallet(5);
    const { licenseId } = await buyLicense(5, [open.chainDatasetId as string]);
    const out = join(dir, 'fetched.csv');
    const n = await fetchDataset(clientFor(lab), lab, open.id, { grant: { type: 'license', licenseId }, out });
    expect(n).toBe(CSV.length);
    expect(readFileSync(out).equals(CSV)).toBe(true);
  });

  describe('the key gate refuses, with a code, and releases nothing', () => {
    it('a caller without a license (someone else\'s license id)', async () => {
      const { licenseId } = await buyLicense(6, [open.chainDatasetId as string]);
      const stranger = Wallet.createRandom();
      const w = new Wallet(stranger.privateKey);
      expect(await codeOf(requestDataKey(clientFor(w), w, stackInfo().chainId, open.id, 1, { type: 'license', licenseId }))).toBe('KEY_ACCESS_DENIED');
    });

    it('a license for another dataset', async () => {
      const { licenseId } = await buyLicense(6, [other.chainDatasetId as string]);
      const lab = labWallet(6);
      expect(await codeOf(requestDataKey(clientFor(lab), lab, stackInfo().chainId, open.id, 1, { type: 'license', licenseId }))).toBe('LICENSE_WRONG_DATASET');
    });

    it('an expired license', async () => {
      const { licenseId } = await buyLicense(7, [open.chainDatasetId as string], { expiresIn: 2 });
      // Let the chain's clock pass the expiry (wall time; no time travel that would disturb other tests).
      while ((await chainNow()) <= (await (await import('./support/data.js')).licenseManager(labWallet(7)).getLicense(BigInt(licenseId))).expiry) {
        await new Promise((r) => setTimeout(r, 1000));
        await provider().send('evm_mine', []);
      }
      const lab = labWallet(7);
      expect(await codeOf(requestDataKey(clientFor(lab), lab, stackInfo().chainId, open.id, 1, { type: 'license', licenseId }))).toBe('LICENSE_EXPIRED');
    });

    it('a license holder on a training-only dataset (labs never get raw data)', async () => {
      const { licenseId } = await buyLicense(8, [trainingOnly.chainDatasetId as string]);
      const lab = labWallet(8);
      expect(await codeOf(requestDataKey(clientFor(lab), lab, stackInfo().chainId, trainingOnly.id, 1, { type: 'license', licenseId }))).toBe('KEY_ACCESS_DENIED');
    });

    it('a replayed key request', async () => {
      const { licenseId } = await buyLicense(9, [open.chainDatasetId as string]);
      const lab = labWallet(9);
      const client = clientFor(lab);
      const first = await requestDataKey(client, lab, stackInfo().chainId, open.id, 1, { type: 'license', licenseId });
      expect(first.key.kind).toBe('sealed');
      const { SigningKey } = await import('ethers');
      const { signKeyRequest } = await import('../shared/crypto/keyRequest.js');
      const { keyRequestDomain } = await import('../shared/eip712.js');
      const publicKey = SigningKey.computePublicKey(lab.signingKey.publicKey, true);
      const grant = { type: 'license' as const, licenseId };
      const proof = await signKeyRequest(lab, keyRequestDomain(stackInfo().chainId), { datasetId: open.id, version: 1, grant, requesterPublicKey: publicKey });
      const body = { version: 1, grant, requester: { address: lab.address, publicKey }, proof };
      await client.request('POST', `/v1/datasets/${open.id}/keys`, { body });
      expect(await codeOf(client.request('POST', `/v1/datasets/${open.id}/keys`, { body }))).toBe('KEY_REQUEST_REPLAYED');
    });
  });

  it('releases a training-only key to a worker attested for a job on a license for it', async () => {
    const { licenseId, lab } = await buyLicense(10, [trainingOnly.chainDatasetId as string]);
    const worker = new Wallet(Wallet.createRandom().privateKey);
    const jobId = await openAttestedJob(lab, licenseId, worker.address);
    const out = join(dir, 'worker.csv');
    expect(await fetchDataset(clientFor(worker), worker, trainingOnly.id, { grant: { type: 'job', jobId }, out })).toBe(CSV.length);
    expect(readFileSync(out).equals(CSV)).toBe(true);
    // A worker of another job is refused.
    const otherWorker = new Wallet(Wallet.createRandom().privateKey);
    expect(await codeOf(requestDataKey(clientFor(otherWorker), otherWorker, stackInfo().chainId, trainingOnly.id, 1, { type: 'job', jobId }))).toBe('KEY_ACCESS_DENIED');
  });

  // Issue 8, item 9: before, a lab could end its job seconds after opening it and its worker kept receiving keys
  // (the approval outlived the job). Now the gate's worker condition asks LicenseManager.isJobActive.
  it('refuses the still-approved worker of a job once the lab ended it', async () => {
    const { licenseId, lab } = await buyLicense(12, [trainingOnly.chainDatasetId as string]);
    const worker = new Wallet(Wallet.createRandom().privateKey);
    const jobId = await openAttestedJob(lab, licenseId, worker.address);
    const grant = { type: 'job' as const, jobId };
    const before = await fetchDataset(clientFor(worker), worker, trainingOnly.id, { grant, out: join(dir, 'worker-before-end.csv') });

    await (await licenseManager(lab).endJob(BigInt(jobId))).wait();

    expect(before).toBe(CSV.length);
    expect(await codeOf(requestDataKey(clientFor(worker), worker, stackInfo().chainId, trainingOnly.id, 1, grant))).toBe('JOB_NOT_ACTIVE');
  });

  describe('download integrity: no plaintext file on failure', () => {
    const info = stackInfo();
    const s3 = new S3BlobStore({ bucket: 'provena-data', region: 'us-east-1', endpoint: info.s3Endpoint, forcePathStyle: true, credentials: EMBEDDED_S3_DEV_CREDENTIALS });

    async function fetchAfter(mutate: (c: Buffer) => Buffer, name: string): Promise<string> {
      const ds = await api.registerDataset((await api.createDataset(listing(owner.address, { title: name, license: { ...listing(owner.address).license, rawAccess: true } }))).id);
      const up = await uploadBytes(api, ds.id, CSV);
      const key = up.data?.objectKey as string;
      const original = Buffer.concat(await (await s3.get(key)).toArray());
      await s3.put(key, mutate(original));
      const { licenseId } = await buyLicense(11, [ds.chainDatasetId as string]);
      const lab = labWallet(11);
      const out = join(dir, `${name}.csv`);
      const code = await codeOf(fetchDataset(clientFor(lab), lab, ds.id, { grant: { type: 'license', licenseId }, out }));
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes(name))).toEqual([]);
      return code;
    }

    it('a tampered chunk', async () => {
      expect(await fetchAfter((c) => { const t = Buffer.from(c); t[100] = (t[100] as number) ^ 1; return t; }, 'tampered')).toBe('CHUNK_DIGEST_MISMATCH');
    });

    it('reordered chunks', async () => {
      const size = 64 * 1024 + 16;
      expect(await fetchAfter((c) => Buffer.concat([c.subarray(size, 2 * size), c.subarray(0, size), c.subarray(2 * size)]), 'reordered')).toBe('CHUNK_DIGEST_MISMATCH');
    });

    it('a truncated object', async () => {
      expect(await fetchAfter((c) => c.subarray(0, c.length - 100), 'truncated')).toBe('CIPHERTEXT_TRUNCATED');
    });

    it('a wrong manifest CID', async () => {
      const { licenseId } = await buyLicense(12, [open.chainDatasetId as string]);
      const lab = labWallet(12);
      const out = join(dir, 'wrongcid.csv');
      const code = await codeOf(fetchDataset(clientFor(lab), lab, open.id, { grant: { type: 'license', licenseId }, out, expectedManifestCid: trainingOnly.data?.manifestCid as string }));
      expect(code).toBe('MANIFEST_MISMATCH');
      expect(existsSync(out)).toBe(false);
    });

    it('a released key opened with the wrong private key', async () => {
      const { licenseId } = await buyLicense(13, [open.chainDatasetId as string]);
      const lab = labWallet(13);
      const answer = await requestDataKey(clientFor(lab), lab, stackInfo().chainId, open.id, 1, { type: 'license', licenseId });
      const { decryptReleasedKey } = await import('../shared/crypto/keyRelease.js');
      expect(() => decryptReleasedKey(Wallet.createRandom().privateKey, answer.key)).toThrow(ProvenaError);
    });
  });

  it('rejects a completion whose sealed key is not the encryption key (DATA_KEY_MISMATCH) and lists nothing', async () => {
    const ds = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'Wrong key' }))).id);
    const err = await codeOf(uploadBytesWithWrongKey(ds.id));
    expect(err).toBe('DATA_KEY_MISMATCH');
    expect((await api.getDataset(ds.id)).data).toBeUndefined();
  });

  async function uploadBytesWithWrongKey(datasetId: string): Promise<unknown> {
    const { encryptStream, generateDataKey } = await import('../shared/crypto/chunkedAead.js');
    const { sealToPublicKey } = await import('../shared/crypto/ecies.js');
    const { cipherParamsOf } = await import('../shared/schemas/encryptedManifest.js');
    const gate = await api.keyGate();
    const { body: session } = await api.request<{ uploadId: string; dataVersion: number; keyContext: string; parts: { partNumber: number; url: string }[] }>(
      'POST', `/v1/datasets/${datasetId}/uploads`, { signed: true, body: { format: 'csv', plaintextSize: 1000, chunkSize: 65536 } });
    const enc = encryptStream((async function* () { yield Buffer.alloc(1000, 1); })(), { key: generateDataKey(), datasetId, version: session.dataVersion, chunkSize: 65536 });
    const chunks: Buffer[] = [];
    for await (const c of enc) chunks.push(c.ciphertext);
    const part = session.parts[0] as { partNumber: number; url: string };
    const res = await fetch(part.url, { method: 'PUT', body: Buffer.concat(chunks) });
    const s = enc.summary();
    return api.request('POST', `/v1/datasets/${datasetId}/uploads/${session.uploadId}/complete`, {
      signed: true,
      body: {
        parts: [{ partNumber: 1, etag: (res.headers.get('etag') ?? '').replaceAll('"', '') }],
        cipher: cipherParamsOf(s),
        chunks: s.chunks.map((c) => ({ ciphertextSize: c.ciphertextSize, sha256: c.sha256 })),
        sealedDataKey: sealToPublicKey(gate.publicKey, generateDataKey(), session.keyContext),
      },
    });
  }
});

describe('the CLI for the data plane', () => {
  const cli = (args: string[]) => runCli(args, { PROVENA_API_URL: stackInfo().apiUrl });

  it('registers, uploads and fetches a dataset as the README shows', async () => {
    const owner = Wallet.createRandom();
    const ownerKey = join(dir, 'cli-owner.key');
    writeFileSync(ownerKey, owner.privateKey, { mode: 0o600 });
    const ds = await clientFor(new Wallet(owner.privateKey)).createDataset(listing(owner.address, { license: { ...listing(owner.address).license, rawAccess: true } }));

    const reg = await cli(['--key-file', ownerKey, 'dataset', 'register', ds.id]);
    expect(reg.stderr).toBe('');
    expect(reg.stdout).toMatch(/registered ds_\w+ as registry dataset \d+/);

    const src = join(dir, 'cli-rows.csv');
    writeFileSync(src, CSV);
    const up = await cli(['--key-file', ownerKey, 'dataset', 'upload', ds.id, src, '--no-progress', '--state-dir', join(dir, 'state')]);
    expect(up.code).toBe(0);

    const chainDatasetId = (await clientFor().getDataset(ds.id)).chainDatasetId as string;
    const { licenseId } = await buyLicense(14, [chainDatasetId]);
    const labKey = join(dir, 'cli-lab.key');
    writeFileSync(labKey, devAccountKey(14), { mode: 0o600 });
    const out = join(dir, 'cli-out.csv');
    const got = await cli(['--key-file', labKey, 'dataset', 'fetch', ds.id, '--license', licenseId, '-o', out]);
    expect(got.stdout).toContain('every chunk verified');
    expect(readFileSync(out).equals(CSV)).toBe(true);

    const refused = await cli(['--key-file', ownerKey, 'dataset', 'fetch', ds.id, '--license', licenseId, '-o', join(dir, 'nope.csv')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('KEY_ACCESS_DENIED');
    expect(existsSync(join(dir, 'nope.csv'))).toBe(false);
  });
});
