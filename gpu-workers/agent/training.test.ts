import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { TrainerOutputFrame } from '../../shared/schemas/trainerProtocol.js';
import { tabularRecipe, tabularRows } from '../../test/support/workerData.js';
import { TrainerFailure, train } from './training.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-training-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A = tabularRows(160, 1);
const B = tabularRows(120, 2);

async function collect(it: AsyncIterable<TrainerOutputFrame>): Promise<TrainerOutputFrame[]> {
  const out: TrainerOutputFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

describe('training through the real trainer', () => {
  it('trains over two datasets with checkpoints and reports exact consumed counts per dataset', async () => {
    const outDir = mkdtempSync(join(dir, 'run-'));

    const frames = await collect(train({ jobId: '1', recipe: tabularRecipe(), datasets: [{ datasetId: 'ds_a', rows: A }, { datasetId: 'ds_b', rows: B }], outDir, checkpointEverySteps: 3, device: 'cpu' }));

    const plan = frames[0];
    const model = frames.at(-1);
    if (plan?.type !== 'plan' || model?.type !== 'model') throw new Error('expected plan ... model');
    expect(plan.rows).toBe(280);
    // Fixed sampling without DP: every training row once per epoch, so the totals are 3 epochs × the train split.
    expect(plan.plannedConsumed.ds_a! + plan.plannedConsumed.ds_b!).toBe(3 * plan.train);
    expect(model.consumed).toEqual(plan.plannedConsumed);
    const checkpoints = frames.filter((f) => f.type === 'checkpoint');
    expect(checkpoints.length).toBeGreaterThan(3);
    const totals = checkpoints.map((c) => (c.type === 'checkpoint' ? c.consumed.ds_a! + c.consumed.ds_b! : 0));
    expect([...totals].sort((x, y) => x - y)).toEqual(totals);
    const metrics = frames.filter((f) => f.type === 'metrics');
    expect(metrics).toHaveLength(3);
  }, 120_000);

  it('resumes from a checkpoint with the same rows and ends with the same consumed counts', async () => {
    const first = mkdtempSync(join(dir, 'first-'));
    const input = { jobId: '2', recipe: tabularRecipe({ epochs: 2 }), datasets: [{ datasetId: 'ds_a', rows: A }, { datasetId: 'ds_b', rows: B }], checkpointEverySteps: 2, keepCheckpoints: 50, device: 'cpu' as const };
    const full = await collect(train({ ...input, outDir: first }));
    const ckpt = full.filter((f) => f.type === 'checkpoint')[2];
    if (ckpt?.type !== 'checkpoint') throw new Error('no checkpoint');

    const resumed = await collect(train({ ...input, outDir: mkdtempSync(join(dir, 'second-')), resumeFrom: ckpt.path }));

    const plan = resumed[0];
    if (plan?.type !== 'plan') throw new Error('no plan');
    expect(plan.consumed).toEqual(ckpt.consumed);
    expect(resumed.at(-1)).toMatchObject({ type: 'model', consumed: (full.at(-1) as { consumed: unknown }).consumed, sha256: (full.at(-1) as { sha256: unknown }).sha256 });
  }, 120_000);

  it('surfaces the trainer refusal code and leaves no model', async () => {
    const outDir = mkdtempSync(join(dir, 'bad-'));

    const run = collect(train({ jobId: '3', recipe: tabularRecipe({ label: 'nope' }), datasets: [{ datasetId: 'ds_a', rows: A }], outDir, device: 'cpu' }));

    await expect(run).rejects.toMatchObject({ code: 'WORKER_TRAINER_FAILED', trainerCode: expect.stringMatching(/^TRAINER_/) });
    expect(TrainerFailure).toBeDefined();
  }, 60_000);
});
