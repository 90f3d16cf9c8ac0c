/**
 * Training jobs through the API on the embedded stack (issue 9, labs; issue 10, the job loop), with the test
 * process playing the worker over the real routes: a lab buys a license over two datasets of two owners, opens a
 * job on chain and submits it; a worker operator leases it, attests with the development attestor, commits a
 * checkpoint, has usage reports relayed (royalties = samples × price, to the wei), loses its lease to another
 * operator, and the second finishes the job with a signed receipt anchored on chain.
 *
 * The stack runs with PROVENA_JOB_LEASE_SECONDS=9 (test/support/globalSetup.js) so a lease can expire here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { keccak256, NonceManager, parseEther, toUtf8Bytes, Wallet, type Signer } from 'ethers';
import { DatasetRegistry__factory, MockUSD__factory } from '../contracts/typechain/index.js';
import { DevAttestor } from '../shared/attestation/devAttestor.js';
import { sealToPublicKey } from '../shared/crypto/ecies.js';
import { licenseManagerDomain, signFinalReport, signUsageReport } from '../shared/eip712.js';
import { canonicalJson } from '../shared/encoding/canonicalJson.js';
import { cidOfBytes } from '../shared/encoding/unixfs.js';
import { routes } from '../shared/http/routes.js';
import type { ProvenaClient } from '../shared/sdk/client.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import type { JobSubmitInput, ReceiptBody, UsageReportWire } from '../shared/schemas/job.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS } from '../stack/stack.js';
import { chainNow, licenseManager } from './support/data.js';
import { runCli } from './support/cli.js';
import { codeOf } from './support/errors.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';

/** Pays gas for the test's fresh wallets (no other test uses it). */
const FAUCET_ACCOUNT = 4;
const LEASE_SECONDS = Number(process.env.PROVENA_JOB_LEASE_SECONDS ?? 9);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const recipe: JobSubmitInput['recipe'] = {
  kind: 'tabular-classifier',
  label: 'amount',
  features: [{ name: 'age', type: 'numeric' }, { name: 'zip', type: 'categorical' }],
  embeddingDim: 4,
  epochs: 2,
  batchSize: 32,
  lr: 0.01,
  hiddenSizes: [16],
  seed: 7,
  validationFraction: 0.2,
};

let faucet: NonceManager;
/** A fresh wallet with gas and `usd` MockUSD (a NonceManager: ethers caches nonces for 250 ms otherwise). */
async function fundedWallet(usd = 0n): Promise<{ signer: NonceManager; address: string; privateKey: string }> {
  const w = Wallet.createRandom().connect(provider());
  const signer = new NonceManager(w);
  await (await faucet.sendTransaction({ to: w.address, value: parseEther('10') })).wait();
  if (usd > 0n) await (await MockUSD__factory.connect(stackInfo().deployment.contracts.PaymentToken as string, signer).mint(w.address, usd)).wait();
  return { signer, address: w.address, privateKey: w.privateKey };
}

async function buy(lab: Signer, chainDatasetIds: string[], budget: bigint, expiresIn = 30 * 24 * 3600): Promise<string> {
  const lm = licenseManager(lab);
  const token = MockUSD__factory.connect(stackInfo().deployment.contracts.PaymentToken as string, lab);
  await (await token.approve(await lm.getAddress(), budget)).wait();
  const receipt = await (await lm.purchase(chainDatasetIds.map(BigInt), chainDatasetIds.map(() => 2n ** 96n - 1n), budget, (await chainNow()) + expiresIn)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = lm.interface.parseLog(log);
    if (parsed?.name === 'LicensePurchased') return String(parsed.args[0]);
  }
  throw new Error('no LicensePurchased event');
}

async function openJob(lab: Signer, licenseId: string, budget = 1_000_000n): Promise<string> {
  const lm = licenseManager(lab);
  const receipt = await (await lm.openJob(BigInt(licenseId), budget, budget)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = lm.interface.parseLog(log);
    if (parsed?.name === 'JobOpened') return String(parsed.args[0]);
  }
  throw new Error('no JobOpened event');
}

const operatorA = new Wallet(devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[0]));
const operatorB = new Wallet(devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[1]));
const lease = (op: ProvenaClient, waitSeconds = 2) => op.call(routes.leaseJob, { body: { workerId: 'test-worker', modes: ['nitro'], waitSeconds } });

/** Leases until a job comes (the queue hides a message until its visibility ends). */
async function leaseUntilAssigned(op: ProvenaClient, deadlineMs: number) {
  for (;;) {
    const r = await lease(op, 5);
    if (r.assignment) return r.assignment;
    if (Date.now() > deadlineMs) throw new Error('no job was leasable in time');
  }
}

async function putObject(url: string, bytes: Uint8Array): Promise<void> {
  const res = await fetch(url, { method: 'PUT', body: bytes });
  if (!res.ok) throw new Error(`PUT: HTTP ${res.status}`);
}

describe('training jobs through the API', () => {
  const ownerA = newWallet();
  const ownerB = newWallet();
  let dsA: Dataset; // price 25
  let dsB: Dataset; // price 40
  let lab: NonceManager;
  let labAddress: string;
  let labKey: string;
  let labApi: ProvenaClient;
  let licenseId: string;
  let jobId: string;
  let gpuJob: string;
  let input: JobSubmitInput;
  const modelKey = Wallet.createRandom();
  const worker = Wallet.createRandom();
  const opA = clientFor(operatorA);
  const opB = clientFor(operatorB);
  let tokenA: number;
  let domain: ReturnType<typeof licenseManagerDomain>;

  const report = (samples: [number, number]): UsageReportWire => ({
    jobId,
    datasetIds: [dsA.chainDatasetId as string, dsB.chainDatasetId as string],
    samples: samples.map(String),
    amounts: [String(BigInt(samples[0]) * 25n), String(BigInt(samples[1]) * 40n)],
  });
  const sign = (r: UsageReportWire) => signUsageReport(worker, domain, { jobId: BigInt(r.jobId), datasetIds: r.datasetIds.map(BigInt), samples: r.samples.map(BigInt), amounts: r.amounts.map(BigInt) });
  const settled = async (chainDatasetId: string) => licenseManager(lab).settledSamples(BigInt(jobId), BigInt(chainDatasetId));

  beforeAll(async () => {
    faucet = new NonceManager(new Wallet(devAccountKey(FAUCET_ACCOUNT), provider()));
    domain = licenseManagerDomain(stackInfo().chainId, stackInfo().deployment.contracts.LicenseManager as string);
    const apiA = clientFor(ownerA);
    const apiB = clientFor(ownerB);
    const terms = listing(ownerA.address).license;
    dsA = await apiA.registerDataset((await apiA.createDataset(listing(ownerA.address, { title: 'Jobs A' }))).id);
    dsB = await apiB.registerDataset((await apiB.createDataset(listing(ownerB.address, { title: 'Jobs B', license: { ...terms, pricePerSample: '40' } }))).id);
    ({ signer: lab, address: labAddress, privateKey: labKey } = await fundedWallet(100_000_000n));
    labApi = clientFor(lab);
    licenseId = await buy(lab, [dsA.chainDatasetId as string, dsB.chainDatasetId as string], 10_000_000n);
    jobId = await openJob(lab, licenseId);
    input = { jobId, recipe, modelKey: modelKey.signingKey.publicKey };
  }, 120_000);

  describe('submit refuses a job the chain does not show, and queues nothing', () => {
    it('an unknown job id', async () => {
      expect(await codeOf(labApi.call(routes.submitJob, { body: { ...input, jobId: '987654321' } }))).toBe('JOB_UNKNOWN_ON_CHAIN');
    });

    it("a caller who does not hold the job's license", async () => {
      expect(await codeOf(clientFor(newWallet()).call(routes.submitJob, { body: input }))).toBe('JOB_NOT_LICENSE_HOLDER');
    });

    it('an invalid recipe (the schema the trainer also uses)', async () => {
      expect(await codeOf(labApi.call(routes.submitJob, { body: { ...input, recipe: { ...recipe, epochs: 0 } } }))).toBe('VALIDATION_FAILED');
    });

    it('a job the lab already ended on chain', async () => {
      const ended = await openJob(lab, licenseId, 1000n);
      await (await licenseManager(lab).endJob(BigInt(ended))).wait();
      expect(await codeOf(labApi.call(routes.submitJob, { body: { ...input, jobId: ended } }))).toBe('JOB_NOT_ACTIVE');
    });

    it('a job whose license expired', async () => {
      const shortLicense = await buy(lab, [dsA.chainDatasetId as string], 10_000n, 8);
      const job = await openJob(lab, shortLicense, 1000n);
      const expiry = Number((await licenseManager(lab).getLicense(BigInt(shortLicense))).expiry);
      while ((await chainNow()) <= expiry) {
        await sleep(1000);
        await provider().send('evm_mine', []);
      }
      expect(await codeOf(labApi.call(routes.submitJob, { body: { ...input, jobId: job } }))).toBe('LICENSE_EXPIRED');
    }, 60_000);

    it('a job over a registry dataset with no listing here', async () => {
      const registry = DatasetRegistry__factory.connect(stackInfo().deployment.contracts.DatasetRegistry as string, lab);
      const stray = await cidOfBytes(randomBytes(32));
      const receipt = await (await registry.register({ manifestCid: stray, pricePerSample: 5n, split: { recipients: [labAddress], bps: [10_000], merkleRoot: `0x${'00'.repeat(32)}`, totalUnits: 0n } })).wait();
      const chainId = String(registry.interface.parseLog(receipt?.logs.find((l) => registry.interface.parseLog(l)?.name === 'DatasetRegistered') ?? receipt!.logs[0]!)?.args[0]);
      const job = await openJob(lab, await buy(lab, [chainId], 10_000n), 1000n);
      expect(await codeOf(labApi.call(routes.submitJob, { body: { ...input, jobId: job } }))).toBe('JOB_DATASET_NOT_LISTED');
    });

    it('so no worker can lease any of them, nor the open job before it is submitted', async () => {
      expect((await lease(opA, 1)).assignment).toBeNull();
    });
  });

  it('leaves a job whose listing allows only confidential-GPU workers to such a worker', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const terms = listing(owner.address).license;
    const gpuOnly = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'GPU TEE only', license: { ...terms, workerModes: ['confidential-gpu'] } }))).id);
    gpuJob = await openJob(lab, await buy(lab, [gpuOnly.chainDatasetId as string], 10_000n), 1000n);
    const job = gpuJob;
    await labApi.call(routes.submitJob, { body: { ...input, jobId: job } });

    expect((await lease(opA, 1)).assignment).toBeNull();
    const gpu = await opA.call(routes.leaseJob, { body: { workerId: 'gpu-worker', modes: ['confidential-gpu'], waitSeconds: 5 } });
    expect(gpu.assignment?.lease.jobId).toBe(job);
    await opA.call(routes.releaseLease, { params: { jobId: job }, body: { fencingToken: gpu.assignment?.lease.fencingToken as number, reason: 'failed', error: { code: 'TEST_DONE', message: 'not trained in this test' } } });
  }, 30_000);

  it('accepts the holder\'s job with its listings, terms and the chain\'s figures; the same body again answers the first result, another body a conflict', async () => {
    const job = await labApi.call(routes.submitJob, { body: input });

    expect(job).toMatchObject({ id: jobId, licenseId, holder: labAddress, status: 'queued', budget: '1000000', spent: '0', attempts: 0 });
    expect(job.datasets).toEqual([
      { datasetId: dsA.id, chainDatasetId: dsA.chainDatasetId, pricePerSample: '25', settledSamples: '0', paid: '0' },
      { datasetId: dsB.id, chainDatasetId: dsB.chainDatasetId, pricePerSample: '40', settledSamples: '0', paid: '0' },
    ]);
    expect(await labApi.call(routes.submitJob, { body: input })).toEqual(job);
    expect(await codeOf(labApi.call(routes.submitJob, { body: { ...input, maxEpsilon: 3 } }))).toBe('JOB_SUBMIT_CONFLICT');
  });

  it('refuses a lease to a key that is not a worker operator', async () => {
    expect(await codeOf(lease(clientFor(newWallet()), 0))).toBe('WORKER_NOT_OPERATOR');
  });

  it('leases the submitted job once, with fencing token 1, to an operator', async () => {
    const assignment = await leaseUntilAssigned(opA, Date.now() + 20_000);
    tokenA = assignment.lease.fencingToken;

    expect(assignment.lease).toMatchObject({ jobId, fencingToken: 1, heartbeatSeconds: Math.max(1, Math.floor(LEASE_SECONDS / 3)) });
    expect(assignment.job).toMatchObject({ id: jobId, status: 'attesting', attempts: 1 });
    expect(assignment.resumeFrom).toBeUndefined();
    expect((await lease(opB, 0)).assignment).toBeNull();
  });

  it('lets the lease holder attest its key, report running, commit a checkpoint, and relays its reports: royalties = samples × price to the wei', async () => {
    const nonce = (await clientFor().call(routes.issueAttestationNonce, { params: { jobId } })).nonce;
    const evidence = DevAttestor.open(stackInfo().dataDir, { now: new Date() }).bundle({ nonce, publicKey: worker.signingKey.publicKey, now: new Date() });
    const attested = await clientFor().call(routes.attestWorker, { params: { jobId }, body: { evidence, workerPublicKey: worker.signingKey.publicKey, nonce } });
    const running = await opA.call(routes.postJobEvent, { params: { jobId }, body: { fencingToken: tokenA, event: { type: 'running', manifests: { [dsA.id]: 'bafyA', [dsB.id]: 'bafyB' }, worker: { address: worker.address, mode: attested.mode } } } });
    expect(running).toMatchObject({ status: 'running', worker: { address: worker.address, mode: attested.mode, evidenceHash: attested.evidenceHash } });

    const ciphertext = randomBytes(3000);
    const upload = await opA.call(routes.createArtifactUpload, { params: { jobId }, body: { fencingToken: tokenA, kind: 'checkpoint', bytes: ciphertext.length, sha256: sha256(ciphertext) } });
    expect(await codeOf(opA.call(routes.commitCheckpoint, { params: { jobId }, body: { fencingToken: tokenA, objectKey: upload.objectKey, sha256: sha256(ciphertext), bytes: ciphertext.length, position: { epoch: 0, step: 10, globalStep: 10 }, samples: { [dsA.id]: 100, [dsB.id]: 50 } } }))).toBe('JOB_ARTIFACT_MISSING');
    await putObject(upload.uploadUrl, ciphertext);
    expect(await codeOf(opA.call(routes.commitCheckpoint, { params: { jobId }, body: { fencingToken: tokenA, objectKey: upload.objectKey, sha256: sha256(ciphertext), bytes: ciphertext.length + 1, position: { epoch: 0, step: 10, globalStep: 10 }, samples: { [dsA.id]: 100, [dsB.id]: 50 } } }))).toBe('JOB_ARTIFACT_SIZE_MISMATCH');
    const checkpoint = await opA.call(routes.commitCheckpoint, { params: { jobId }, body: { fencingToken: tokenA, objectKey: upload.objectKey, sha256: sha256(ciphertext), bytes: ciphertext.length, position: { epoch: 0, step: 10, globalStep: 10 }, samples: { [dsA.id]: 100, [dsB.id]: 50 } } });
    expect(checkpoint).toMatchObject({ fencingToken: tokenA, bytes: 3000 });

    const first = report([60, 20]);
    const r1 = await opA.call(routes.submitUsageReport, { params: { jobId }, body: { fencingToken: tokenA, report: first, signature: await sign(first) } });
    const second = report([100, 50]);
    const r2 = await opA.call(routes.submitUsageReport, { params: { jobId }, body: { fencingToken: tokenA, report: second, signature: await sign(second) } });

    expect(r1).toMatchObject({ paid: String(60n * 25n + 20n * 40n), samples: { [dsA.id]: 60, [dsB.id]: 20 } });
    expect(r2.paid).toBe(String(40n * 25n + 30n * 40n));
    expect(await settled(dsA.chainDatasetId as string)).toBe(100n);
    expect(await settled(dsB.chainDatasetId as string)).toBe(50n);
    const lm = licenseManager(lab);
    expect(await lm.claimable(BigInt(dsA.chainDatasetId as string), ownerA.address)).toBe(100n * 25n);
    expect(await lm.claimable(BigInt(dsB.chainDatasetId as string), ownerB.address)).toBe(50n * 40n);
    const job = await clientFor().call(routes.getJob, { params: { jobId } });
    expect(job).toMatchObject({ status: 'checkpointed', spent: String(100n * 25n + 50n * 40n) });
    expect(job.datasets.map((d) => [d.settledSamples, d.paid])).toEqual([['100', '2500'], ['50', '2000']]);
    expect(job.reports.map((r) => r.txHash)).toEqual([r1.txHash, r2.txHash]);
  }, 60_000);

  it('refuses a report beyond the last committed checkpoint, and pays nothing', async () => {
    const beyond = report([101, 50]);

    expect(await codeOf(opA.call(routes.submitUsageReport, { params: { jobId }, body: { fencingToken: tokenA, report: beyond, signature: await sign(beyond) } }))).toBe('JOB_REPORT_BEYOND_CHECKPOINT');
    expect(await settled(dsA.chainDatasetId as string)).toBe(100n);
  });

  it('renews the lease on heartbeat while the job is open', async () => {
    const beat = await opA.call(routes.heartbeatLease, { params: { jobId }, body: { fencingToken: tokenA } });
    expect(beat).toMatchObject({ cancel: false, lease: { jobId, fencingToken: tokenA } });
  });

  it('refuses an expired lease, lets another operator take the job from its checkpoint, then refuses the stale token everywhere', async () => {
    await sleep((LEASE_SECONDS + 1) * 1000);
    expect(await codeOf(opA.call(routes.heartbeatLease, { params: { jobId }, body: { fencingToken: tokenA } }))).toBe('JOB_LEASE_EXPIRED');

    const assignment = await leaseUntilAssigned(opB, Date.now() + 30_000);
    expect(assignment.lease.fencingToken).toBe(tokenA + 1);
    expect(assignment.job.attempts).toBe(2);
    expect(assignment.resumeFrom).toMatchObject({ bytes: 3000, samples: { [dsA.id]: 100, [dsB.id]: 50 } });
    expect((await fetch(assignment.resumeFrom?.downloadUrl as string)).status).toBe(200);

    const again = report([100, 50]);
    expect(await codeOf(opA.call(routes.heartbeatLease, { params: { jobId }, body: { fencingToken: tokenA } }))).toBe('JOB_LEASE_STALE');
    expect(await codeOf(opA.call(routes.submitUsageReport, { params: { jobId }, body: { fencingToken: tokenA, report: again, signature: await sign(again) } }))).toBe('JOB_LEASE_STALE');
    expect(await codeOf(opA.call(routes.releaseLease, { params: { jobId }, body: { fencingToken: tokenA, reason: 'failed' } }))).toBe('JOB_LEASE_STALE');
    expect(await codeOf(opA.call(routes.heartbeatLease, { params: { jobId }, body: { fencingToken: tokenA + 1 } }))).toBe('JOB_LEASE_NOT_HOLDER');
    expect((await clientFor().call(routes.getJob, { params: { jobId } })).status).toBe('attesting');
  }, 60_000);

  it('finishes the job with a receipt signed by the attested key: done, receiptOf = keccak256(CID) on chain, the sealed model downloadable', async () => {
    const tokenB = tokenA + 1;
    const model = randomBytes(5000);
    const upload = await opB.call(routes.createArtifactUpload, { params: { jobId }, body: { fencingToken: tokenB, kind: 'model', bytes: model.length, sha256: sha256(model) } });
    await putObject(upload.uploadUrl, model);
    const anonymization = { schema: 'provena.anonymization-report/v1' as const, rowsIn: 100, rowsOut: 100, rowsSuppressed: 0, planRows: 100, kAnonymity: null, columns: { dropped: [], pseudonymized: [], scannedForPii: [] }, piiCounts: { email: 0, phone: 0, card: 0, iban: 0, ipv4: 0, ipv6: 0, eth_address: 0, ssn: 0, dob: 0, name: 0, identifier: 0 } };
    const anonymizationReportHash = `0x${sha256(Buffer.from(canonicalJson(anonymization)))}`;
    const job = await clientFor().call(routes.getJob, { params: { jobId } });
    const body: ReceiptBody = {
      schema: 'provena.receipt/v1',
      chainId: stackInfo().chainId,
      licenseManager: stackInfo().deployment.contracts.LicenseManager as string,
      jobId,
      licenseId,
      datasets: [dsA, dsB].map((d, i) => ({ datasetId: d.id, chainDatasetId: d.chainDatasetId as string, version: 1, manifestCid: `bafy${i}`, samples: i === 0 ? 120 : 60, anonymization, anonymizationReportHash })),
      recipeHash: job.recipeHash,
      model: { sha256: sha256(model), bytes: model.length },
      worker: { address: worker.address, mode: 'nitro', evidenceHash: job.worker?.evidenceHash as string, measurement: 'ab'.repeat(48) },
      dp: null,
      metrics: { accuracy: 0.9 },
      createdAt: new Date().toISOString(),
    };
    const receipt = { body, signature: await worker.signMessage(canonicalJson(body)) };
    const receiptCid = await cidOfBytes(new TextEncoder().encode(canonicalJson(receipt)));
    const final = report([120, 60]);
    const signature = await signFinalReport(worker, domain, { jobId: BigInt(jobId), datasetIds: final.datasetIds.map(BigInt), samples: final.samples.map(BigInt), amounts: final.amounts.map(BigInt), receiptCid });
    const jobModel = { objectKey: upload.objectKey, sha256: sha256(model), bytes: 4000, encryptedBytes: model.length };
    const sealedKey = sealToPublicKey(modelKey.signingKey.publicKey, randomBytes(32), `provena-model:${jobId}`);
    const forged = { body, signature: await Wallet.createRandom().signMessage(canonicalJson(body)) };
    expect(await codeOf(opB.call(routes.submitJobResult, { params: { jobId }, body: { fencingToken: tokenB, model: jobModel, sealedKey, receipt: forged, receiptCid, report: final, signature } }))).toBe('JOB_RECEIPT_SIGNATURE_INVALID');
    expect(await codeOf(opB.call(routes.submitJobResult, { params: { jobId }, body: { fencingToken: tokenB, model: jobModel, sealedKey, receipt, receiptCid: await cidOfBytes(randomBytes(8)), report: final, signature } }))).toBe('JOB_RECEIPT_CID_MISMATCH');
    expect(await licenseManager(lab).receiptOf(BigInt(jobId))).toBe(`0x${'00'.repeat(32)}`);

    const result = await opB.call(routes.submitJobResult, { params: { jobId }, body: { fencingToken: tokenB, model: jobModel, sealedKey, receipt, receiptCid, report: final, signature } });

    expect(result).toMatchObject({ receiptCid, paid: String(20n * 25n + 10n * 40n) });
    expect(await licenseManager(lab).receiptOf(BigInt(jobId))).toBe(keccak256(toUtf8Bytes(receiptCid)));
    const done = await clientFor().call(routes.getJob, { params: { jobId } });
    expect(done).toMatchObject({ status: 'done', receipt: { cid: receiptCid, txHash: result.txHash }, model: jobModel, spent: String(120n * 25n + 60n * 40n) });
    expect(done.reports.at(-1)).toMatchObject({ final: true, txHash: result.txHash });
    const download = await clientFor().call(routes.getJobModel, { params: { jobId } });
    expect(download).toMatchObject({ jobId, receiptCid, sealedKey, model: jobModel });
    expect(Buffer.from(await (await fetch(download.downloadUrl)).arrayBuffer()).equals(model)).toBe(true);
    expect(await codeOf(opB.call(routes.heartbeatLease, { params: { jobId }, body: { fencingToken: tokenB } }))).toBe('JOB_ALREADY_FINISHED');
  }, 60_000);

  it('lists the holder\'s submitted jobs, newest first', async () => {
    const page = await clientFor().call(routes.listJobs, { query: { holder: labAddress } });
    expect(page.items.map((j) => j.id)).toEqual([jobId, gpuJob]);
    expect(page.items.map((j) => j.status)).toEqual(['done', 'failed']);
  });

  it('refuses to submit a job already finalized on chain', async () => {
    const finished = await openJob(lab, licenseId, 1000n);
    const key = Wallet.createRandom();
    const nonce = (await clientFor().call(routes.issueAttestationNonce, { params: { jobId: finished } })).nonce;
    const evidence = DevAttestor.open(stackInfo().dataDir, { now: new Date() }).bundle({ nonce, publicKey: key.signingKey.publicKey, now: new Date() });
    await clientFor().call(routes.attestWorker, { params: { jobId: finished }, body: { evidence, workerPublicKey: key.signingKey.publicKey, nonce } });
    const zero = { jobId: BigInt(finished), datasetIds: [BigInt(dsA.chainDatasetId as string)], samples: [0n], amounts: [0n] };
    const cid = await cidOfBytes(randomBytes(16));
    await (await licenseManager(lab).finalizeJob(zero, cid, await signFinalReport(key, domain, { ...zero, receiptCid: cid }))).wait();

    expect(await codeOf(labApi.call(routes.submitJob, { body: { ...input, jobId: finished } }))).toBe('JOB_ALREADY_FINISHED');
  });

  it('answers cancel on heartbeat once the lab ended the job on chain; the job reads cancelled', async () => {
    const second = await openJob(lab, licenseId, 1000n);
    await labApi.call(routes.submitJob, { body: { ...input, jobId: second } });
    const assignment = await leaseUntilAssigned(opA, Date.now() + 20_000);
    expect(assignment.lease.jobId).toBe(second);
    expect((await opA.call(routes.heartbeatLease, { params: { jobId: second }, body: { fencingToken: assignment.lease.fencingToken } })).cancel).toBe(false);

    await (await licenseManager(lab).endJob(BigInt(second))).wait();

    expect((await opA.call(routes.heartbeatLease, { params: { jobId: second }, body: { fencingToken: assignment.lease.fencingToken } })).cancel).toBe(true);
    expect((await clientFor().call(routes.getJob, { params: { jobId: second } })).status).toBe('cancelled');
    const released = await opA.call(routes.releaseLease, { params: { jobId: second }, body: { fencingToken: assignment.lease.fencingToken, reason: 'interrupted' } });
    expect(released.status).toBe('cancelled');
    expect((await lease(opB, 1)).assignment).toBeNull();
  }, 60_000);

  it('does the same from the CLI: job submit opens the job from the lab\'s key and submits it, job show reads it, job cancel ends it on chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provena-job-cli-'));
    writeFileSync(join(dir, 'recipe.json'), JSON.stringify(recipe));
    writeFileSync(join(dir, 'lab.pub'), `${modelKey.signingKey.publicKey}\n`);
    const cli = (args: string[]) => runCli(['--json', ...args], { PROVENA_API_URL: stackInfo().apiUrl, PROVENA_CHAIN_RPC_URL: stackInfo().rpcUrl, PROVENA_PRIVATE_KEY: labKey });
    try {
      const submitted = await cli(['job', 'submit', '--license', licenseId, '--recipe', join(dir, 'recipe.json'), '--model-key', join(dir, 'lab.pub'), '--budget', '0.001', '--max-rate', '0.0005/s']);
      expect(submitted.stderr).toBe('');
      const job = JSON.parse(submitted.stdout) as { id: string; status: string; licenseId: string; budget: string };
      expect(job).toMatchObject({ status: 'queued', licenseId });
      expect((await licenseManager(lab).getJob(BigInt(job.id))).budget).toBe(BigInt(job.budget));

      const shown = await cli(['job', 'show', job.id]);
      expect(JSON.parse(shown.stdout)).toMatchObject({ id: job.id, status: 'queued' });

      const cancelled = await cli(['job', 'cancel', job.id]);
      expect(cancelled.code).toBe(0);
      const twice = await cli(['job', 'cancel', job.id]);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain('error JOB_NOT_ACTIVE: endJob would revert: LicenseManager_JobEnded');
      expect(JSON.parse((await cli(['job', 'show', job.id])).stdout)).toMatchObject({ id: job.id, status: 'cancelled' });
      expect((await lease(opB, 1)).assignment).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
