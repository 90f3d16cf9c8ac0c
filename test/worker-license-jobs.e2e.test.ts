/**
 * Two jobs on one license, one after the other, through `provena-worker` processes on the embedded stack: each
 * is submitted with the license's datasets, and each runs to `done` (a second job on a license was once seen
 * failing in the worker with DATA_KEY_MISMATCH). A worker whose data budget is below the dataset fails a third job
 * plainly before fetching anything.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import type { Dataset } from '../shared/schemas/dataset.js';
import type { Job } from '../shared/schemas/job.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS } from '../stack/stack.js';
import { buyLicense } from './support/data.js';
import { newWallet } from './support/stack.js';
import { tabularCsv, tabularRecipe } from './support/workerData.js';
import { getJob, openAndSubmitJob, publishCsv, requireTrainer, workerE2e } from './support/workerE2e.js';

const { logs, until, ...e2e } = workerE2e('provena-license-jobs-');

describe('two jobs on one license, one after the other', () => {
  const owner = newWallet();
  const labModelKey = Wallet.createRandom();
  let dataset: Dataset;
  let bought: Awaited<ReturnType<typeof buyLicense>>;

  beforeAll(async () => {
    requireTrainer();
    dataset = await publishCsv(owner, tabularCsv(120, 31), { overrides: { title: 'Two jobs rows' } });
    bought = await buyLicense(17, [dataset.chainDatasetId as string]);
  }, 180_000);

  async function runOneJob(n: number): Promise<Job> {
    const { jobId, submitted } = await openAndSubmitJob(bought, tabularRecipe({ epochs: 2, batchSize: 16 }), { budget: 1_000_000n, modelKey: labModelKey });
    expect(submitted.datasets.map((d) => d.datasetId)).toEqual([dataset.id]);
    const w = e2e.worker(STACK_WORKER_OPERATOR_ACCOUNTS[0], `license-jobs-${n}`, { env: { PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: '5' }, tag: true });
    const done = await until(`job ${jobId} done`, async () => {
      const j = await getJob(jobId);
      if (j.status === 'failed') throw new Error(`job ${jobId} failed: ${JSON.stringify(j.error)}\n${logs.slice(-20).join('\n')}`);
      return j.status === 'done' ? j : undefined;
    }, 300_000);
    expect(await w.exited).toBe(0);
    return done;
  }

  it('fails a job whose data this worker cannot hold with WORKER_DATA_TOO_LARGE, before any data key is requested', async () => {
    const { jobId } = await openAndSubmitJob(bought, tabularRecipe({ epochs: 2, batchSize: 16 }), { budget: 1_000_000n, modelKey: labModelKey });
    const size = dataset.data!.plaintextSize;
    const w = e2e.worker(STACK_WORKER_OPERATOR_ACCOUNTS[0], 'license-jobs-small', { env: { PROVENA_WORKER_MAX_DATA_BYTES: String(size - 1) }, tag: true });
    const failed = await until(`job ${jobId} failed`, async () => {
      const j = await getJob(jobId);
      if (j.status === 'done') throw new Error(`job ${jobId} ran although its ${size} bytes exceed the worker's ${size - 1}`);
      return j.status === 'failed' ? j : undefined;
    }, 120_000);
    expect(await w.exited).toBe(0);

    expect(failed.error?.code).toBe('WORKER_DATA_TOO_LARGE');
    // The job-level check (before any key request), not the per-version one fetchJobDataset would reach next.
    expect(failed.error?.message).toContain(`the job's datasets hold ${size} bytes of plaintext, more than this worker's ${size - 1}`);
    const lines = logs.filter((l) => l.startsWith('license-jobs-small '));
    expect(lines.some((l) => l.includes('"msg":"job failed"') && l.includes('WORKER_DATA_TOO_LARGE'))).toBe(true);
    expect(lines.some((l) => l.includes('"msg":"data fetched"'))).toBe(false);
    expect(failed.spent).toBe('0');
  }, 200_000);

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
