/**
 * The worker agent's data pipeline on the embedded stack (issue 10, job loop): two owners' datasets, a lab's job
 * over both, a fresh worker key approved through the real attestation routes with the development attestor, then
 * each dataset's key released under the job grant (signed by the attested key), the ciphertext verified and
 * decrypted in memory and parsed into rows; any second attested worker of the job derives the same checkpoint key.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Wallet, hexlify, randomBytes } from 'ethers';
import { deriveCheckpointKey } from '../shared/crypto/artifact.js';
import { routes } from '../shared/http/routes.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import { anonymizeTable } from '../gpu-workers/agent/anonymizer/index.js';
import { devAttestor } from '../gpu-workers/agent/attestor.js';
import { fetchJobDataset, type FetchedDataset } from '../gpu-workers/agent/dataFetch.js';
import { buyLicense, licenseManager, uploadBytes } from './support/data.js';
import { codeOf } from './support/errors.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, stackInfo } from './support/stack.js';
import { tabularCsv, tabularRows } from './support/workerData.js';

const columns = [
  { name: 'x1', type: 'float' as const },
  { name: 'x2', type: 'float' as const },
  { name: 'city', type: 'categorical' as const },
  { name: 'y', type: 'string' as const },
];

async function publish(owner: Wallet, title: string, n: number, seed: number): Promise<Dataset> {
  const api = clientFor(owner);
  const created = await api.createDataset(listing(owner.address, { title, dataSchema: { kind: 'tabular', columns }, anonymization: { identifierColumns: [], redactTextPii: true } }));
  await api.registerDataset(created.id);
  return uploadBytes(api, created.id, Buffer.from(tabularCsv(n, seed)));
}

async function attestedWorker(jobId: string): Promise<Wallet> {
  const api = clientFor();
  const worker = new Wallet(hexlify(randomBytes(32)));
  const { nonce } = await api.call(routes.issueAttestationNonce, { params: { jobId } });
  const { evidence } = await devAttestor(stackInfo().dataDir).attest({ publicKey: worker.signingKey.publicKey, nonce });
  await api.call(routes.attestWorker, { params: { jobId }, body: { evidence, workerPublicKey: worker.signingKey.publicKey, nonce } });
  return worker;
}

/** A freshly attested worker key of `jobId`, its API client and the chain id. */
async function attestedSession(jobId: string): Promise<{ worker: Wallet; api: ReturnType<typeof clientFor>; chainId: number }> {
  const worker = await attestedWorker(jobId);
  const api = clientFor(worker);
  const { chainId } = await api.health();
  return { worker, api, chainId };
}

describe('worker data pipeline', () => {
  let a: Dataset;
  let b: Dataset;
  let jobId: string;
  let licenseId: string;
  const fetched: FetchedDataset[] = [];
  afterAll(() => fetched.forEach((f) => f.dataKey.fill(0)));

  beforeAll(async () => {
    a = await publish(newWallet(), 'Worker rows A', 120, 1);
    b = await publish(newWallet(), 'Worker rows B', 80, 2);
    const bought = await buyLicense(18, [a.chainDatasetId as string, b.chainDatasetId as string]);
    licenseId = bought.licenseId;
    const receipt = await (await licenseManager(bought.lab).openJob(BigInt(licenseId), 1_000_000n, 1_000_000n)).wait();
    const lm = licenseManager(bought.lab);
    jobId = receipt!.logs.map((l) => lm.interface.parseLog(l)).find((p) => p?.name === 'JobOpened')!.args[0].toString();
  }, 120_000);

  it('fetches both datasets with an attested key, every row as the owners uploaded it', async () => {
    const { worker, api, chainId } = await attestedSession(jobId);

    for (const d of [a, b]) fetched.push(await fetchJobDataset(api, worker, chainId, { jobId, licenseId }, await api.getDataset(d.id)));

    expect(fetched[0]!.rows).toEqual(tabularRows(120, 1));
    expect(fetched[1]!.rows).toEqual(tabularRows(80, 2));
    expect(fetched.map((f) => f.manifestCid)).toEqual([a.data!.manifestCid, b.data!.manifestCid]);
    const { rows, report } = anonymizeTable(fetched[0]!.rows, (await api.getDataset(a.id)).anonymization, randomBytes(32));
    expect(rows).toHaveLength(120);
    expect(report.rowsOut).toBe(120);
  }, 60_000);

  it('gives a second attested worker of the job the same data keys, so it derives the same checkpoint key', async () => {
    const second = await attestedWorker(jobId);
    const api = clientFor(second);
    const { chainId } = await api.health();
    const again = [await fetchJobDataset(api, second, chainId, { jobId, licenseId }, await api.getDataset(a.id), a.data!.manifestCid), await fetchJobDataset(api, second, chainId, { jobId, licenseId }, await api.getDataset(b.id))];

    const k1 = deriveCheckpointKey(jobId, new Map(fetched.map((f) => [f.datasetId, f.dataKey])));
    const k2 = deriveCheckpointKey(jobId, new Map(again.map((f) => [f.datasetId, f.dataKey])));

    expect(k1.equals(k2)).toBe(true);
    again.forEach((f) => f.dataKey.fill(0));
  }, 60_000);

  it('refuses a data version larger than the worker holds before downloading it, and takes one exactly its size', async () => {
    const { worker, api, chainId } = await attestedSession(jobId);
    const listed = await api.getDataset(a.id);
    const size = listed.data!.plaintextSize;
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const downloads = () => fetchSpy.mock.calls.filter(([url]) => String(url instanceof Request ? url.url : url).includes(listed.data!.objectKey)).length;

    try {
      const err = await fetchJobDataset(api, worker, chainId, { jobId, licenseId }, listed, undefined, size - 1).catch((e: unknown) => e as { code?: string; details?: unknown });
      expect(err).toMatchObject({ code: 'WORKER_DATA_TOO_LARGE', details: { datasetId: a.id, version: listed.data!.version, bytes: size, maxBytes: size - 1 } });
      expect(downloads()).toBe(0);

      const exact = await fetchJobDataset(api, worker, chainId, { jobId, licenseId }, listed, undefined, size);
      expect(exact.rows).toEqual(tabularRows(120, 1));
      expect(downloads()).toBe(1);
      exact.dataKey.fill(0);
    } finally {
      fetchSpy.mockRestore();
    }
  }, 60_000);

  it('zeroes the data key it opened when the data then fails (here: rows that do not parse as the schema says)', async () => {
    const { worker, api, chainId } = await attestedSession(jobId);
    const listed = await api.getDataset(a.id);
    // "city" holds words: read as a float column, the rows fail to parse after the key was opened and the data decrypted.
    const misdeclared: Dataset = { ...listed, dataSchema: { kind: 'tabular', columns: columns.map((c) => (c.name === 'city' ? { ...c, type: 'float' as const } : c)) } };
    // What each 32-byte buffer held when it was zeroed: dataset a's data key (known from the first test) must be one.
    const zeroed: Buffer[] = [];
    const realFill = Buffer.prototype.fill;
    const fill = jest.spyOn(Buffer.prototype, 'fill').mockImplementation(function (this: Buffer, ...args: unknown[]) {
      if (this.length === 32) zeroed.push(Buffer.from(this));
      return (realFill as (...a: unknown[]) => Buffer).apply(this, args);
    } as unknown as (...args: unknown[]) => Buffer);

    try {
      const code = await codeOf(fetchJobDataset(api, worker, chainId, { jobId, licenseId }, misdeclared));
      expect(code).toBe('WORKER_DATA_INVALID');
    } finally {
      fill.mockRestore();
    }
    expect(fetched[0]!.datasetId).toBe(a.id);
    expect(zeroed.some((k) => k.equals(fetched[0]!.dataKey))).toBe(true);
  }, 60_000);

  it('gets no key for a worker key that was never attested', async () => {
    const stranger = new Wallet(hexlify(randomBytes(32)));
    const api = clientFor(stranger);
    const { chainId } = await api.health();

    const code = await codeOf(fetchJobDataset(api, stranger, chainId, { jobId, licenseId }, await api.getDataset(a.id)));

    expect(code).toBe('KEY_ACCESS_DENIED');
  }, 60_000);
});
