/**
 * Nitro mode end to end on the embedded stack (issue 10): the worker runs as two processes joined by a Unix socket
 * (the vsock bridge's local end), the enclave (keys, decryption, verification, anonymization, metering, signing,
 * development attestor with a Nitro-format document) and the parent (the trainer, the HTTP proxy). The datasets
 * carry canary PII (emails, names, an email inside free text); the parent's tap records everything it received
 * from the enclave and from the network, and none of the canaries is in it, while the anonymized rows are. The job
 * completes, its evidence says Nitro mode, and royalties reconcile to the wei.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { receiptSigner } from '../gpu-workers/agent/delivery.js';
import { startLocalNitroPair } from '../gpu-workers/agent/nitro/localPair.js';
import { LocalUnixfsContentStore } from '../shared/adapters/ipfs/LocalUnixfsContentStore.js';
import { DevAttestor } from '../shared/attestation/devAttestor.js';
import { modeOf } from '../shared/attestation/policy.js';
import { routes } from '../shared/http/routes.js';
import { requestDataKey } from '../shared/sdk/fetchData.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import { SignedReceipt } from '../shared/schemas/job.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS } from '../stack/stack.js';
import { buyLicense, licenseManager, uploadBytes } from './support/data.js';
import { codeOf } from './support/errors.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';
import { tabularRecipe, tabularRows } from './support/workerData.js';
import { expectPaidAtPrices, getJob, openAndSubmitJob, publishCsv, requireTrainer, TABULAR_COLUMNS, workerE2e } from './support/workerE2e.js';

// Short: a Unix socket path is at most 107 bytes.
const { dir, logs, until, track } = workerE2e('pnitro-');

/** Dev accounts past Hardhat's 20 funded ones, given ETH by `hardhat_setBalance` (no transaction, no nonce race). */
async function fund(index: number): Promise<void> {
  const address = new Wallet(devAccountKey(index)).address;
  await provider().send('hardhat_setBalance', [address, '0x56BC75E2D63100000']);
}

const columns = [
  ...TABULAR_COLUMNS,
  { name: 'email', type: 'string' as const },
  { name: 'full_name', type: 'string' as const },
  { name: 'note', type: 'string' as const },
];

/** Canaries: values that exist only in the raw rows. */
const canaries: string[] = [];

function canaryCsv(n: number, seed: number): string {
  const lines = ['x1,x2,city,y,email,full_name,note'];
  for (const [i, r] of tabularRows(n, seed).entries()) {
    const tag = randomBytes(5).toString('hex');
    const email = `canary.${tag}@provena-canary.org`;
    const name = `Quillon Zarvex${tag.slice(0, 4)}`;
    const hidden = `inner.${tag}@canary-mail.net`;
    canaries.push(email, `Zarvex${tag.slice(0, 4)}`, hidden);
    lines.push(`${r.x1},${r.x2},${r.city},${r.y},${email},${name},row ${i} contact ${hidden} today`);
  }
  return `${lines.join('\n')}\n`;
}

const publish = (owner: Wallet, title: string, price: string, n: number, seed: number): Promise<Dataset> =>
  publishCsv(owner, canaryCsv(n, seed), {
    price,
    overrides: {
      title,
      dataSchema: { kind: 'tabular', columns },
      anonymization: { identifierColumns: ['email'], nameColumns: ['full_name'], freeTextColumns: ['note'], redactTextPii: true },
    },
  });

describe('a job through a Nitro-mode worker (enclave and parent as separate processes)', () => {
  const ownerA = newWallet();
  const ownerB = newWallet();
  let a: Dataset;
  let b: Dataset;
  let jobId: string;

  beforeAll(async () => {
    requireTrainer();
    a = await publish(ownerA, 'Nitro canary rows A', '25', 120, 31);
    b = await publish(ownerB, 'Nitro canary rows B', '40', 100, 32);
    await fund(22);
    const bought = await buyLicense(22, [a.chainDatasetId as string, b.chainDatasetId as string]);
    ({ jobId } = await openAndSubmitJob(bought, tabularRecipe({ epochs: 4, batchSize: 16 })));
  }, 180_000);

  it('runs to completion; the parent never receives a raw row; the evidence says Nitro; royalties reconcile', async () => {
    const tap = join(dir, 'parent-tap.bin');
    const info = stackInfo();
    const operatorKey = devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[0]);
    const { parent, enclave } = startLocalNitroPair({
      apiUrl: info.apiUrl,
      operatorKey,
      devRootDir: info.dataDir,
      socket: join(dir, 'ch.sock'),
      workerId: 'nitro-e2e',
      enclaveEnv: { PROVENA_WORKER_ONCE: 'true', PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: '10', PROVENA_WORKER_WORK_DIR: join(dir, 'enclave') },
      parentEnv: { PROVENA_PARENT_WORK_DIR: join(dir, 'parent'), PROVENA_PARENT_TAP_FILE: tap, PROVENA_PARENT_PROXY_ORIGINS: `${info.apiUrl},${info.s3Endpoint}` },
      onLog: (side, l) => logs.push(`${side} ${l}`),
    });
    track(parent);
    track(enclave);
    // The parent process was never given the operator key (its environment, as the kernel holds it).
    await until('the parent running', async () => (parent.child.pid && existsSync(`/proc/${parent.child.pid}/environ`) ? true : undefined), 10_000);
    const parentEnv = readFileSync(`/proc/${parent.child.pid}/environ`, 'latin1');
    expect(parentEnv).not.toContain('PROVENA_WORKER_OPERATOR_KEY');
    expect(parentEnv).not.toContain(operatorKey.slice(2));

    const done = await until(
      'the job done',
      async () => {
        const j = await getJob(jobId);
        if (j.status === 'failed') throw new Error(`job failed: ${JSON.stringify(j.error)}\n${logs.slice(-40).join('\n')}`);
        return j.status === 'done' ? j : undefined;
      },
      420_000,
    );
    expect(await enclave.exited).toBe(0);
    expect(await parent.exited).toBe(0);

    // The parent received the anonymized rows (the tap works: dropped columns are gone, redaction tags are there) ...
    const received = readFileSync(tap, 'latin1');
    expect(received).toContain('"type":"batch"');
    expect(received).toContain('[EMAIL]');
    expect(received).toContain(String(tabularRows(120, 31)[0]!.x1));
    // ... and not one canary: no raw email, name or email inside free text, in frames, chunks or responses.
    expect(canaries.length).toBe(3 * 220);
    expect(canaries.filter((c) => received.includes(c))).toEqual([]);
    // The trainer ran on the parent and the model came back through the enclave (the parent forwarded its file).
    expect(logs.some((l) => l.startsWith('parent ') && l.includes('"msg":"trainer started"'))).toBe(true);
    expect(logs.some((l) => l.startsWith('parent ') && l.includes('"msg":"trainer exited","status":0'))).toBe(true);

    // The evidence says Nitro mode, and the receipt's signer is the key the registry approved.
    expect(done.worker?.mode).toBe('nitro');
    const receipt = SignedReceipt.parse(await new LocalUnixfsContentStore({ dir: info.ipfsDir }).getJson(done.receipt!.cid));
    expect(receipt.body.worker.mode).toBe('nitro');
    expect(receiptSigner(receipt)).toBe(done.worker!.address);
    expect(receipt.body.datasets.every((d) => d.anonymization.columns.dropped.includes('email') && d.anonymization.piiCounts.email > 0)).toBe(true);

    // Royalties: samples × snapshotted price per dataset, to the wei, and the reports add up to what was spent.
    const samples = Object.fromEntries(receipt.body.datasets.map((d) => [d.datasetId, d.samples]));
    expect(samples[a.id]! + samples[b.id]!).toBe(4 * (220 - Math.floor(220 * 0.25)));
    await expectPaidAtPrices(done, receipt, [[a, 25n, ownerA], [b, 40n, ownerB]]);
  }, 600_000);

  it('gets no key in Nitro mode for a listing whose policy allows only confidential-GPU workers', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const terms = listing(owner.address).license;
    let gpuOnly = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'GPU TEE only (Nitro test)', license: { ...terms, workerModes: ['confidential-gpu'] } }))).id);
    gpuOnly = await uploadBytes(api, gpuOnly.id, Buffer.from('a,b\n1,2\n3,4\n'));
    await fund(23);
    const bought = await buyLicense(23, [gpuOnly.chainDatasetId as string]);
    const lm = licenseManager(bought.lab);
    const opened = await (await lm.openJob(BigInt(bought.licenseId), 1_000_000n, 1_000_000n)).wait();
    const gpuJob: string = opened!.logs.map((l) => lm.interface.parseLog(l)).find((p) => p?.name === 'JobOpened')!.args[0].toString();
    const worker = Wallet.createRandom();
    const { nonce } = await clientFor().call(routes.issueAttestationNonce, { params: { jobId: gpuJob } });
    const evidence = DevAttestor.open(stackInfo().dataDir, { now: new Date() }).bundle({ nonce, publicKey: worker.signingKey.publicKey, now: new Date() });

    // The development attestor's Nitro-format document: its kind is `dev`, the mode it proves is Nitro.
    expect(modeOf(evidence)).toBe('nitro');
    expect(await codeOf(clientFor().call(routes.attestWorker, { params: { jobId: gpuJob }, body: { evidence, workerPublicKey: worker.signingKey.publicKey, nonce } }))).toBe('ATTESTATION_MODE_REFUSED');
    const w = new Wallet(worker.privateKey);
    expect(await codeOf(requestDataKey(clientFor(w), w, stackInfo().chainId, gpuOnly.id, gpuOnly.data?.version ?? 1, { type: 'job', jobId: gpuJob }))).toBe('KEY_ACCESS_DENIED');
  }, 120_000);
});
