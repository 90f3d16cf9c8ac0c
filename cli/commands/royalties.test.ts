import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import { registerRoyaltiesCommands, renderRoyalties } from './royalties.js';

const report = {
  recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  chainId: 31337,
  blockNumber: 42,
  datasets: [
    { datasetId: 'ds_0123456789abcdefghjkmnpqrs', chainDatasetId: '3', title: 'Retail', units: '3000', totalUnits: '10000', accrued: '1500', claimed: '1000', claimable: '500', ratePerSecond: '3', jobs: [{ jobId: '4', samples: '10', paidIn: '5000', share: '1500', running: true, ratePerSecond: '3', lastReport: { txHash: '0xaa', blockNumber: 40, at: '2026-11-28T08:00:00.000Z' } }] },
    { datasetId: 'ds_zyxwvtsrqpnmkjhgfedcba9876', chainDatasetId: '12', title: 'Clinics', units: '7000', totalUnits: '10000', accrued: '70', claimed: '0', claimable: '70', ratePerSecond: '0', jobs: [] },
  ],
  totals: { accrued: '1570', claimed: '1000', claimable: '570', ratePerSecond: '3' },
  history: [
    { kind: 'claim' as const, amount: '1000', to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', txHash: '0xcc', blockNumber: 41, at: '2026-11-28T08:00:05.000Z' },
    { kind: 'accrual' as const, datasetId: 'ds_0123456789abcdefghjkmnpqrs', chainDatasetId: '3', jobId: '4', poolAmount: '5000', share: '1500', txHash: '0xaa', blockNumber: 40, at: '2026-11-28T08:00:00.000Z' },
  ],
};

describe('provena royalties', () => {
  it('renders one row per dataset and the totals, amounts right-aligned', () => {
    const lines = renderRoyalties(report).split('\n');
    expect(lines[0]).toBe('royalties of 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 (chain 31337, block 42; token base units)');
    expect(lines[1]).toMatch(/^DATASET\s+REGISTRY\s+UNITS\s+ACCRUED\s+CLAIMED\s+CLAIMABLE\s+RATE\/S\s+TITLE$/);
    expect(lines[2]).toMatch(/^ds_0123456789abcdefghjkmnpqrs\s+3\s+3000\s+1500\s+1000\s+500\s+3\s+Retail$/);
    expect(lines[4]).toMatch(/^total\s+1570\s+1000\s+570\s+3$/);
    // Right-aligned: the claimable cells end where the title column starts, on every row.
    expect(lines[2]?.indexOf(' 3  Retail')).toBe(lines[3]?.indexOf(' 0  Clinics'));
    expect(lines.slice(5)).toEqual([
      'jobs:',
      '  ds_0123456789abcdefghjkmnpqrs job 4: 10 samples, paid in 5000, your share 1500, running at 3/s (last report 0xaa)',
      'history (latest 2 of 2):',
      '  2026-11-28T08:00:05.000Z  claimed 1000 to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8  block 41 tx 0xcc',
      '  2026-11-28T08:00:00.000Z  +1500  ds_0123456789abcdefghjkmnpqrs job 4 (pool +5000)  block 40 tx 0xaa',
    ]);
  });

  it('says so when no dataset pays the address', () => {
    expect(renderRoyalties({ ...report, datasets: [], history: [], totals: { accrued: '0', claimed: '0', claimable: '0', ratePerSecond: '0' } })).toContain('(no datasets pay this address)');
  });

  it('registers show, claim and watch under royalties', () => {
    const program = new Command('provena');
    registerRoyaltiesCommands(program);
    const royalties = program.commands.find((c) => c.name() === 'royalties');
    expect(royalties?.commands.map((c) => c.name())).toEqual(['show', 'claim', 'watch']);
    const claim = royalties?.commands.find((c) => c.name() === 'claim');
    expect(claim?.options.map((o) => o.long)).toEqual(['--gasless', '--to', '--dataset', '--rpc-url']);
  });
});
