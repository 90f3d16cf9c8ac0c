/**
 * A cancelled job through a worker, end to end (issue 10: "a cancelled job stops paying and releases no more
 * keys"): a `provena-worker` process runs a lab's job and is being paid; the lab cancels it with the CLI
 * (`provena job cancel`, `endJob` on chain). The worker stops at its next checkpoint and exits; nothing is paid
 * after the cancel (the API refuses reports, and the contract refuses any report mined after the cancel); a key request under the job after the cancel is refused with `JOB_NOT_ACTIVE`; the lease is
 * released.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { SigningKey, Wallet } from 'ethers';
import { startLocalWorker, type LocalWorker } from '../gpu-workers/agent/localWorker.js';
import { checkTrainerRuntime } from '../gpu-workers/trainer/runtime.mjs';
import { createDynamoClient } from '../shared/adapters/aws/dynamo.js';
import { DynamoJobRepo } from '../shared/adapters/aws/DynamoJobRepo.js';
import { DevAttestor } from '../shared/attestation/devAttestor.js';
import { routes } from '../shared/http/routes.js';
import { requestDataKey } from '../shared/sdk/fetchData.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import type { Job } from '../shared/schemas/job.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS } from '../stack/stack.js';
import { runCli } from './support/cli.js';
import { buyLicense, licenseManager, uploadBytes } from './support/data.js';
import { codeOf } from './support/errors.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';
import { tabularCsv, tabularRecipe } from './support/workerData.js';

const LAB = 24; // past Hardhat's 20 funded accounts: given ETH by hardhat_setBalance (no other test uses it)
const dir = mkdtempSync(join(tmpdir(), 'provena-cancel-e2e-'));
const workers: LocalWorker[] = [];
afterAll(() => {
  for (const w of workers) w.kill();
  rmSync(dir, { recursive: true, force: true });
});

const logs: string[] = [];
const getJob = (jobId: string): Promise<Job> => clientFor().call(routes.getJob, { params: { jobId } });

async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; worker logs:\n${logs.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('a job the lab cancels while a worker trains it', () => {
  it('stops at the next checkpoint, pays nothing after the cancel, refuses keys with JOB_NOT_ACTIVE, and releases the lease', async () => {
    if (!checkTrainerRuntime().ok) throw new Error('the trainer venv is missing: npm run setup:trainer');
    const info = stackInfo();
    const owner = newWallet();
    const api = clientFor(owner);
    const base = listing(owner.address);
    const columns = [
      { name: 'x1', type: 'float' as const },
      { name: 'x2', type: 'float' as const },
      { name: 'city', type: 'categorical' as const },
      { name: 'y', type: 'string' as const },
    ];
    const created = await api.createDataset(listing(owner.address, { title: 'Cancel rows', dataSchema: { kind: 'tabular', columns }, anonymization: { identifierColumns: [], redactTextPii: true }, license: { ...base.license, pricePerSample: '9' } }));
    await api.registerDataset(created.id);
    const d: Dataset = await uploadBytes(api, created.id, Buffer.from(tabularCsv(240, 41)));
    const labKey = devAccountKey(LAB);
    await provider().send('hardhat_setBalance', [new Wallet(labKey).address, '0x56BC75E2D63100000']);
    const bought = await buyLicense(LAB, [d.chainDatasetId as string]);
    const lm = licenseManager(bought.lab);
    const opened = await (await lm.openJob(BigInt(bought.licenseId), 5_000_000n, 1_000_000n)).wait();
    const jobId: string = opened!.logs.map((l) => lm.interface.parseLog(l)).find((p) => p?.name === 'JobOpened')!.args[0].toString();
    // Long enough that it is still training when cancelled.
    await clientFor(bought.lab as unknown as Wallet).call(routes.submitJob, {
      body: { jobId, recipe: tabularRecipe({ epochs: 60, batchSize: 16 }), modelKey: SigningKey.computePublicKey(Wallet.createRandom().signingKey.publicKey, true) },
    });
    // A second attested key for the job (as another attested worker would hold): it gets a key before the cancel.
    const probe = Wallet.createRandom();
    const { nonce } = await clientFor().call(routes.issueAttestationNonce, { params: { jobId } });
    const evidence = DevAttestor.open(info.dataDir, { now: new Date() }).bundle({ nonce, publicKey: probe.signingKey.publicKey, now: new Date() });
    await clientFor().call(routes.attestWorker, { params: { jobId }, body: { evidence, workerPublicKey: probe.signingKey.publicKey, nonce } });
    const keyRequest = () => requestDataKey(clientFor(probe as unknown as Wallet), probe as unknown as Wallet, info.chainId, d.id, d.data?.version ?? 1, { type: 'job', jobId });
    expect((await keyRequest()).manifestCid).toBe(d.data!.manifestCid);

    const worker = startLocalWorker({
      apiUrl: info.apiUrl,
      operatorKey: devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[0]),
      devRootDir: info.dataDir,
      workerId: 'cancel-worker',
      env: { PROVENA_WORKER_ONCE: 'true', PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: '10', PROVENA_WORKER_WORK_DIR: join(dir, 'w') },
      onLog: (l) => logs.push(l),
    });
    workers.push(worker);
    // Paying: a checkpoint committed and a report mined.
    await until('a paid report', async () => ((await getJob(jobId)).reports.some((r) => BigInt(r.paid) > 0n) ? true : undefined), 240_000);

    const cancelled = await runCli(['--json', 'job', 'cancel', jobId], { PROVENA_API_URL: info.apiUrl, PROVENA_CHAIN_RPC_URL: info.rpcUrl, PROVENA_PRIVATE_KEY: labKey });
    expect(cancelled.code).toBe(0);
    const cancelBlock = (JSON.parse(cancelled.stdout) as { blockNumber: number }).blockNumber;
    const atCancel = await getJob(jobId);
    const settledAtCancel = await licenseManager(provider() as never).settledSamples(BigInt(jobId), BigInt(d.chainDatasetId as string));

    expect(await worker.exited).toBe(0);
    const after = await getJob(jobId);

    // It stopped at its next checkpoint: one more committed after the cancel, then out, as `cancelled`.
    // (told by the heartbeat, or by a report the chain refused as JOB_NOT_ACTIVE, whichever came first)
    expect(logs.some((l) => /job cancelled( on chain \(report refused\))?: stopping at the next checkpoint/.test(l))).toBe(true);
    expect(logs.some((l) => l.includes('"outcomes":["cancelled"]'))).toBe(true);
    expect(after.status).toBe('cancelled');
    expect(after.checkpoints.length).toBeGreaterThan(atCancel.checkpoints.length);
    // Nothing paid after the cancel: the API refuses reports once the cancel is mined (JOB_NOT_ACTIVE), and the
    // contract refuses any report mined after the lab's endJob (LicenseManager_JobEnded), also the one the API
    // accepted while the cancel was in flight (SECURITY.md: the cancel race). What was mined before the cancel is
    // settled exactly once: the API's recorded reports sum to what the chain settled.
    const blocks = await Promise.all(after.reports.map(async (r) => (await provider().getTransactionReceipt(r.txHash))!.blockNumber));
    expect(blocks.filter((b) => b > cancelBlock)).toEqual([]);
    const settledEnd = await licenseManager(provider() as never).settledSamples(BigInt(jobId), BigInt(d.chainDatasetId as string));
    expect(settledEnd).toBe(settledAtCancel);
    expect(BigInt(after.spent)).toBe(settledEnd * 9n);
    expect(after.reports.reduce((sum, r) => sum + BigInt(r.paid), 0n)).toBe(settledEnd * 9n);
    expect(new Set(after.reports.map((r) => r.txHash)).size).toBe(after.reports.length);
    // No more keys for the job, even to a key approved before the cancel.
    expect(await codeOf(keyRequest())).toBe('JOB_NOT_ACTIVE');
    // The lease went back (the job record holds none), and no worker is given the job again.
    const record = await new DynamoJobRepo(createDynamoClient({ region: 'us-east-1', endpoint: info.dynamodbEndpoint }), 'provena-jobs').get(jobId);
    expect(record?.lease).toBeUndefined();
    const again = await clientFor(new Wallet(devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[1]))).call(routes.leaseJob, { body: { workerId: 'after-cancel', modes: ['nitro'], waitSeconds: 1 } });
    expect(again.assignment?.job.id).not.toBe(jobId);
  }, 600_000);
});
