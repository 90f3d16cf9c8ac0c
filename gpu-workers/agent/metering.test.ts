import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { affordableAt, allowedSpend, assertPlanAffordable, cappedSamples, costOf, usageReport, type PricedDataset } from './metering.js';

const DS: PricedDataset[] = [
  { datasetId: 'ds_a', chainDatasetId: '1', pricePerSample: 1_000n },
  { datasetId: 'ds_b', chainDatasetId: '2', pricePerSample: 3_333n },
];

describe('metering', () => {
  it('prices a plan at samples × snapshotted price and refuses one above the budget', () => {
    const planned = { ds_a: 300, ds_b: 90 };

    expect(assertPlanAffordable(DS, planned, 600_000n)).toBe(300n * 1000n + 90n * 3333n);
    expect(() => assertPlanAffordable(DS, planned, 599_969n)).toThrow(expect.objectContaining({ code: 'WORKER_BUDGET_EXCEEDED' }));
  });

  it('counts the opening second as one second of drain, as the contract does', () => {
    expect(allowedSpend(10n, 100, 100)).toBe(10n);
    expect(allowedSpend(10n, 100, 104)).toBe(50n);
    expect(affordableAt(50n, 10n, 100)).toBe(104);
    expect(affordableAt(51n, 10n, 100)).toBe(105);
  });

  it('reports everything covered when the cap has room', () => {
    expect(cappedSamples({ datasets: DS, covered: { ds_a: 40, ds_b: 7 }, settled: { ds_a: 10 }, allowed: 10n ** 18n })).toEqual({ ds_a: 40, ds_b: 7 });
  });

  it('holds back what the cap does not allow yet, advancing every dataset', () => {
    const out = cappedSamples({ datasets: DS, covered: { ds_a: 100, ds_b: 100 }, settled: {}, allowed: costOf(DS, { ds_a: 50, ds_b: 50 }) });

    expect(out).toEqual({ ds_a: 50, ds_b: 50 });
  });

  it('never exceeds the cap, never goes back, never reports beyond the checkpoint (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.nat(10_000), fc.nat(10_000)), { minLength: 1, maxLength: 5 }),
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        (rows, allowed) => {
          const datasets = rows.map(([p], i) => ({ datasetId: `ds_${i}`, chainDatasetId: String(i + 1), pricePerSample: p }));
          const settled = Object.fromEntries(rows.map(([, a, b], i) => [`ds_${i}`, Math.min(a, b)]));
          const covered = Object.fromEntries(rows.map(([, a, b], i) => [`ds_${i}`, Math.max(a, b)]));
          const spent = costOf(datasets, settled);

          const out = cappedSamples({ datasets, covered, settled, allowed });

          for (const d of datasets) {
            expect(out[d.datasetId]).toBeGreaterThanOrEqual(settled[d.datasetId]!);
            expect(out[d.datasetId]).toBeLessThanOrEqual(covered[d.datasetId]!);
          }
          const after = costOf(datasets, out);
          if (allowed >= costOf(datasets, covered)) expect(out).toEqual(covered);
          else expect(after <= (allowed > spent ? allowed : spent)).toBe(true);
        },
      ),
    );
  });

  it('builds the cumulative report with amounts = samples × price, as decimal strings on the wire', () => {
    const { message, wire } = usageReport('7', DS, { ds_a: 12, ds_b: 3 });

    expect(wire).toEqual({ jobId: '7', datasetIds: ['1', '2'], samples: ['12', '3'], amounts: ['12000', '9999'] });
    expect(message.amounts).toEqual([12000n, 9999n]);
  });
});
