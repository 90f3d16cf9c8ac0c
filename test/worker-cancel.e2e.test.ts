/**
 * A cancelled job through a worker, end to end (issue 10: "a cancelled job stops paying and releases no more
 * keys"): a `provena-worker` process runs a lab's job and is being paid; the lab cancels it with the CLI
 * (`provena job cancel`, `endJob` on chain). The worker stops at its next checkpoint and exits; nothing is paid
 * after the cancel (the API refuses reports, and the contract refuses any report mined after the cancel); a key request under the job after the cancel is refused with `JOB_NOT_ACTIVE`; the lease is
 * released.
 */
import { describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { createDynamoClient } from '../shared/adapters/aws/dynamo.js';
import { DynamoJobRepo } from '../shared/adapters/aws/DynamoJobRepo.js';
import { DevAttestor } from '../shared/attestation/devAttestor.js';
import { routes } from '../shared/http/routes.js';
import { requestDataKey } from '../shared/sdk/fetchData.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS } from '../stack/stack.js';
import { runCli } from './support/cli.js';
import { buyLicense, licenseManager } from './support/data.js';
import { codeOf } from './support/errors.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';
import { tabularCsv, tabularRecipe } from './support/workerData.js';
import { getJob, openAndSubmitJob, publishCsv, requireTrainer, workerE2e } from './support/workerE2e.js';

const LAB = 24; // past Hardhat's 20 funded accounts: given ETH by hardhat_setBalance (no other test uses it)
const { logs, until, ...e2e } = workerE2e('provena-cancel-e2e-');

describe('a job the lab cancels while a worker trains it', () => {
  it('stops at the next checkpoint, pays nothing after the cancel, refuses keys with JOB_NOT_ACTIVE, and releases the lease', async () => {
    requireTrainer();
    const info = stackInfo();
    const d = await publishCsv(newWallet(), tabularCsv(240, 41), { price: '9', overrides: { title: 'Cancel rows' } });
    const labKey = devAccountKey(LAB);
    await provider().send('hardhat_setBalance', [new Wallet(labKey).address, '0x56BC75E2D63100000']);
    const bought = await buyLicense(LAB, [d.chainDatasetId as string]);
    // Long enough that it is still training when cancelled: the tiny MLP trains ~100 steps/s alone while its
    // checkpoint commits lag behind it, and the cancel goes out only after a paid report plus a CLI start. At 60
    // epochs (900 steps) a loaded run saw the trainer finish first, so the cancel met the model upload instead
    // ("job cancelled on chain: stopping, nothing more is reported") and no checkpoint followed it. 400 epochs is
    // 6,000 steps; the worker still stops at the first checkpoint after the cancel, so the test is no longer.
    const { jobId } = await openAndSubmitJob(bought, tabularRecipe({ epochs: 400, batchSize: 16 }));
    // A second attested key for the job (as another attested worker would hold): it gets a key before the cancel.
    const probe = Wallet.createRandom();
    const { nonce } = await clientFor().call(routes.issueAttestationNonce, { params: { jobId } });
    const evidence = DevAttestor.open(info.dataDir, { now: new Date() }).bundle({ nonce, publicKey: probe.signingKey.publicKey, now: new Date() });
    await clientFor().call(routes.attestWorker, { params: { jobId }, body: { evidence, workerPublicKey: probe.signingKey.publicKey, nonce } });
    const keyRequest = () => requestDataKey(clientFor(probe as unknown as Wallet), probe as unknown as Wallet, info.chainId, d.id, d.data?.version ?? 1, { type: 'job', jobId });
    expect((await keyRequest()).manifestCid).toBe(d.data!.manifestCid);

    const worker = e2e.worker(STACK_WORKER_OPERATOR_ACCOUNTS[0], 'cancel-worker');
    // Paying: a checkpoint committed and a report mined.
    await until('a paid report', async () => ((await getJob(jobId)).reports.some((r) => BigInt(r.paid) > 0n) ? true : undefined), 240_000);

    const cancelStartedAt = Date.now();
    const cancelled = await runCli(['--json', 'job', 'cancel', jobId], { PROVENA_API_URL: info.apiUrl, PROVENA_CHAIN_RPC_URL: info.rpcUrl, PROVENA_PRIVATE_KEY: labKey });
    expect(cancelled.code).toBe(0);
    const cancelBlock = (JSON.parse(cancelled.stdout) as { blockNumber: number }).blockNumber;
    const atCancel = await getJob(jobId);
    const settledAtCancel = await licenseManager(provider() as never).settledSamples(BigInt(jobId), BigInt(d.chainDatasetId as string));

    expect(await worker.exited).toBe(0);
    const after = await getJob(jobId);

    // It stopped at its next checkpoint: one more committed after the cancel, then out, as `cancelled`.
    // (told by the heartbeat, or by a report the chain refused as JOB_NOT_ACTIVE, whichever came first; the
    // refusal can come before `atCancel` is read, so the checkpoint is told by its commit time, not by the count)
    expect(logs.some((l) => /job cancelled( on chain \(report refused\))?: stopping at the next checkpoint/.test(l))).toBe(true);
    expect(logs.some((l) => l.includes('"outcomes":["cancelled"]'))).toBe(true);
    expect(after.status).toBe('cancelled');
    expect(after.checkpoints.length).toBeGreaterThanOrEqual(atCancel.checkpoints.length);
    expect(after.checkpoints.some((c) => Date.parse(c.committedAt) >= cancelStartedAt)).toBe(true);
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
