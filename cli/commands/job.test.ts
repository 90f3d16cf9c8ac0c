import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import type { Job } from '../../shared/schemas/job.js';
import { LicenseManager__factory } from '../../contracts/typechain/index.js';
import { contractRefusal, parseRate, registerJobCommands, renderJob } from './job.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

const job: Job = {
  id: '7',
  licenseId: '3',
  holder: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  status: 'checkpointed',
  recipe: { kind: 'tabular-classifier', label: 'y', features: [{ name: 'x', type: 'numeric' }], embeddingDim: 4, epochs: 2, batchSize: 8, lr: 0.1, hiddenSizes: [8], seed: 1, validationFraction: 0.2 },
  recipeHash: `0x${'ab'.repeat(32)}`,
  modelKey: `0x02${'11'.repeat(32)}`,
  datasets: [
    { datasetId: 'ds_0123456789abcdefghjkmnpqrs', chainDatasetId: '3', pricePerSample: '25', settledSamples: '100', paid: '2500' },
    { datasetId: 'ds_zyxwvtsrqpnmkjhgfedcba9876', chainDatasetId: '12', pricePerSample: '40', settledSamples: '50', paid: '2000' },
  ],
  budget: '1000000',
  spent: '4500',
  maxRatePerSecond: '1000',
  currentRatePerSecond: '150',
  startedAt: '2026-11-28T08:00:00.000Z',
  submittedAt: '2026-11-28T08:00:01.000Z',
  updatedAt: '2026-11-28T08:01:00.000Z',
  attempts: 1,
  checkpoints: [{ objectKey: 'jobs/7/checkpoint/1/ab', sha256: 'ab'.repeat(32), bytes: 3000, position: { epoch: 1, step: 10, globalStep: 10 }, samples: {}, committedAt: '2026-11-28T08:00:30.000Z', fencingToken: 1 }],
  reports: [{ txHash: `0x${'cd'.repeat(32)}`, samples: {}, paid: '4500', at: '2026-11-28T08:00:40.000Z', final: false }],
  metrics: [{ epoch: 1, train: { loss: 0.5 }, val: { accuracy: 0.8 }, at: '2026-11-28T08:00:50.000Z' }],
};

describe('provena job', () => {
  it('reads a rate cap per second, minute or hour into base units per second', () => {
    expect(parseRate('0.5/s', 6)).toBe(500_000n);
    expect(parseRate('30/m', 6)).toBe(500_000n);
    expect(parseRate('3600 / h', 0)).toBe(1n);
  });

  it('refuses a rate without a unit, or below one base unit per second', () => {
    expect(codeOf(() => parseRate('0.5', 6))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => parseRate('1/h', 0))).toBe('VALIDATION_FAILED');
  });

  it('renders status, samples and royalties per dataset, rate, last report, checkpoint and metrics', () => {
    const text = renderJob(job);
    expect(text).toContain('job 7  CHECKPOINTED  license 3');
    expect(text).toContain('spent 4500  rate now 150/s (cap 1000/s)');
    expect(text).toMatch(/ds_0123456789abcdefghjkmnpqrs\s+3\s+25\s+100\s+2500/);
    expect(text).toContain(`last report 0x${'cd'.repeat(32)}`);
    expect(text).toContain('checkpoint 1: epoch 1 step 10, 3000 bytes');
    expect(text).toContain('epoch 1: train loss 0.5000; val accuracy 0.8000');
  });

  it('registers submit, show, watch, list and cancel under job, each with --help', () => {
    const program = new Command('provena');
    const jobCommand = registerJobCommands(program);
    expect(jobCommand.commands.map((c) => c.name())).toEqual(['submit', 'show', 'watch', 'list', 'cancel']);
    for (const c of jobCommand.commands) expect(c.helpInformation()).toMatch(new RegExp(`^Usage: provena job ${c.name()}`));
    expect(jobCommand.commands[0]?.options.map((o) => o.long)).toEqual(['--license', '--recipe', '--model-key', '--budget', '--max-rate', '--max-epsilon', '--job', '--confirmations', '--rpc-url']);
  });

  it("names a contract's refusal of openJob or endJob by its custom error, with a stable code", () => {
    const data = LicenseManager__factory.createInterface().encodeErrorResult('LicenseManager_NotLicenseHolder', [3n, '0x70997970C51812dc3A010C7d01b50e0d17dc79C8']);
    const ethersLike = { code: 'CALL_EXCEPTION', info: { error: { data } } };
    const refusal = contractRefusal(ethersLike, 'openJob') as { code: string; message: string };
    expect(refusal.code).toBe('JOB_NOT_LICENSE_HOLDER');
    expect(refusal.message).toContain('openJob would revert: LicenseManager_NotLicenseHolder(3, 0x70997970C51812dc3A010C7d01b50e0d17dc79C8)');
    const other = new Error('socket hang up');
    expect(contractRefusal(other, 'openJob')).toBe(other);
  });
});
