import { describe, expect, it } from '@jest/globals';
import { codeOfSync } from '../../test/support/attestation/testkit.js';
import type { RoyaltiesReport } from '../../shared/schemas/royalties.js';
import { combineDatasetRoyalties } from './datasetRoyalties.js';

const DS = 'ds_0123456789abcdefghjkmnpqrs';
const job = { jobId: '4', samples: '10', paidIn: '70', share: '42', running: true, ratePerSecond: '2', lastReport: { txHash: '0xaa', blockNumber: 9, at: '2026-11-28T08:00:00.000Z' } };
function report(recipient: string, units: string, accrued: string, claimed: string, rate: string): RoyaltiesReport {
  return {
    recipient,
    chainId: 31337,
    blockNumber: 10,
    datasets: [
      { datasetId: DS, chainDatasetId: '3', title: 'T', units, totalUnits: '10000', accrued, claimed, claimable: String(BigInt(accrued) - BigInt(claimed)), ratePerSecond: rate, jobs: [{ ...job }] },
      { datasetId: 'ds_zyxwvtsrqpnmkjhgfedcba9876', chainDatasetId: '5', title: 'Other', units: '1', totalUnits: '1', accrued: '999', claimed: '0', claimable: '999', ratePerSecond: '0', jobs: [] },
    ],
    totals: { accrued: '0', claimed: '0', claimable: '0', ratePerSecond: '0' },
    history: [
      { kind: 'claim', amount: '5', to: recipient, txHash: '0xcc', blockNumber: 10, at: '2026-11-28T08:00:01.000Z' },
      { kind: 'accrual', datasetId: DS, chainDatasetId: '3', jobId: '4', poolAmount: '70', share: '42', txHash: '0xaa', blockNumber: 9, at: '2026-11-28T08:00:00.000Z' },
    ],
  };
}

describe('provena dataset royalties', () => {
  it("sums the listing's recipients (and only this listing), and lists its jobs and accruals once", () => {
    const v = combineDatasetRoyalties(DS, [report('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '6000', '42', '5', '2'), report('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', '4000', '28', '0', '1')]);

    expect(v.totals).toEqual({ accrued: '70', claimed: '5', claimable: '65', ratePerSecond: '3' });
    expect(v.recipients.map((r) => r.units)).toEqual(['6000', '4000']);
    expect(v.jobs).toEqual([{ jobId: '4', samples: '10', paidIn: '70', running: true, lastReportTx: '0xaa' }]);
    expect(v.accruals).toEqual([{ jobId: '4', poolAmount: '70', txHash: '0xaa', blockNumber: 9, at: '2026-11-28T08:00:00.000Z' }]);
  });

  it('refuses a listing no recipient is paid from on chain', () => {
    expect(codeOfSync(() => combineDatasetRoyalties('ds_aaaaaaaaaaaaaaaaaaaaaaaaaa', [report('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '1', '0', '0', '0')]))).toBe('DATASET_NOT_REGISTERED');
  });
});
