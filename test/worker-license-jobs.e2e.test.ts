/**
 * Two jobs on one license, one after the other, through `provena-worker` processes on the embedded stack: each
 * is submitted with the license's datasets, and each runs to `done` (a second job on a license was once seen
 * failing in the worker with DATA_KEY_MISMATCH).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SigningKey, Wallet } from 'ethers';
import { startLocalWorker, type LocalWorker } from '../gpu-workers/agent/localWorker.js';
import { checkTrainerRuntime } from '../gpu-workers/trainer/runtime.mjs';
import { routes } from '../shared/http/routes.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import type { Job } from '../shared/schemas/job.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS } from '../stack/stack.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { buyLicense, licenseManager, uploadBytes } from './support/data.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, stackInfo } from './support/stack.js';
import { tabularCsv, tabularRecipe } from './support/workerData.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-license-jobs-'));
const workers: LocalWorker[] = [];
const logs: string[] = [];
afterAll(() => {
  for (const w of workers) w.kill();
  rmSync(dir, { recursive: true, force: true });
});

const columns = [
  { name: 'x1', type: 'float' as const },
  { name: 'x2', type: 'float' as const },
  { name: 'city', type: 'categorical' as const },
  { name: 'y', type: 'string' as const },
];

describe('two jobs on one license, one after the other', () => {
  const owner = newWallet();
  const labModelKey = Wallet.createRandom();
  let dataset: Dataset;
  let bought: Awaited<ReturnType<typeof buyLicense>>;

  beforeAll(async () => {
    if (!checkTrainerRuntime().ok) throw new Error('the trainer venv is missing: npm run setup:trainer');
    const api = clientFor(owner);
    const created = await api.createDataset(listing(owner.address, { title: 'Two jobs rows', dataSchema: { kind: 'tabular', columns }, anonymization: { identifierColumns: [], redactTextPii: true } }));
    await api.registerDataset(created.id);
    dataset = await uploadBytes(api, created.id, Buffer.from(tabularCsv(120, 31)));
    bought = await buyLicense(17, [dataset.chainDatasetId as string]);
  }, 180_000);

  async function runOneJob(n: number): Promise<Job> {
    const lm = licenseManager(bought.lab);
    const receipt = await (await lm.openJob(BigInt(bought.licenseId), 1_000_000n, 1_000_000n)).wait();
    const jobId = receipt!.logs.map((l) => lm.interface.parseLog(l)).find((p) => p?.name === 'JobOpened')!.args[0].toString();
    const submitted = await clientFor(bought.lab as unknown as Wallet).call(routes.submitJob, {
      body: { jobId, recipe: tabularRecipe({ epochs: 2, batchSize: 16 }), modelKey: SigningKey.computePublicKey(labModelKey.signingKey.publicKey, true) },
    });
    expect(submitted.datasets.map((d) => d.datasetId)).toEqual([dataset.id]);
    const info = stackInfo();
    const w = startLocalWorker({
      apiUrl: info.apiUrl,
      operatorKey: devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[0]),
      devRootDir: info.dataDir,
      workerId: `license-jobs-${n}`,
      env: { PROVENA_WORKER_ONCE: 'true', PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: '5', PROVENA_WORKER_WORK_DIR: join(dir, `w${n}`) },
      onLog: (l) => logs.push(`w${n} ${l}`),
    });
    workers.push(w);
    const end = Date.now() + 300_000;
    for (;;) {
      const j = await clientFor().call(routes.getJob, { params: { jobId } });
      if (j.status === 'done') {
        expect(await w.exited).toBe(0);
        return j;
      }
      if (j.status === 'failed' || Date.now() > end) throw new Error(`job ${jobId} ${j.status}: ${JSON.stringify(j.error)}\n${logs.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('runs the first job and then the second to done, each over the license\'s dataset', async () => {
    const first = await runOneJob(1);
    const second = await runOneJob(2);

    expect(first.id).not.toBe(second.id);
    for (const j of [first, second]) {
      expect(j.licenseId).toBe(bought.licenseId);
      expect(j.datasets.map((d) => d.datasetId)).toEqual([dataset.id]);
      expect(j.receipt?.cid).toBeDefined();
      expect(BigInt(j.spent)).toBeGreaterThan(0n);
    }
  }, 700_000);
});
