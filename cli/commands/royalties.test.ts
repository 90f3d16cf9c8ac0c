import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import { registerRoyaltiesCommands, renderRoyalties } from './royalties.js';

const report = {
  recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  chainId: 31337,
  blockNumber: 42,
  datasets: [
    { datasetId: 'ds_0123456789abcdefghjkmnpqrs', chainDatasetId: '3', title: 'Retail', units: '3000', accrued: '1500', claimed: '1000', claimable: '500' },
    { datasetId: 'ds_zyxwvtsrqpnmkjhgfedcba9876', chainDatasetId: '12', title: 'Clinics', units: '7000', accrued: '70', claimed: '0', claimable: '70' },
  ],
  totals: { accrued: '1570', claimed: '1000', claimable: '570' },
};

describe('provena royalties', () => {
  it('renders one row per dataset and the totals, amounts right-aligned', () => {
    const lines = renderRoyalties(report).split('\n');
    expect(lines[0]).toBe('royalties of 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 (chain 31337, block 42; token base units)');
    expect(lines[1]).toMatch(/^DATASET\s+REGISTRY\s+UNITS\s+ACCRUED\s+CLAIMED\s+CLAIMABLE\s+TITLE$/);
    expect(lines[2]).toMatch(/^ds_0123456789abcdefghjkmnpqrs\s+3\s+3000\s+1500\s+1000\s+500\s+Retail$/);
    expect(lines[4]).toMatch(/^total\s+1570\s+1000\s+570$/);
    // Right-aligned: the claimable cells end where the title column starts, on every row.
    expect(lines[2]?.indexOf(' 500  Retail')).toBe(lines[3]?.indexOf('  70  Clinics'));
  });

  it('says so when no dataset pays the address', () => {
    expect(renderRoyalties({ ...report, datasets: [], totals: { accrued: '0', claimed: '0', claimable: '0' } })).toContain('(no datasets pay this address)');
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
