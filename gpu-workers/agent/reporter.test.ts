import { describe, expect, it } from '@jest/globals';
import { TypedDataEncoder, Wallet, recoverAddress } from 'ethers';
import { FINAL_REPORT_TYPES, licenseManagerDomain } from '../../shared/eip712.js';
import { ProvenaError } from '../../shared/errors.js';
import type { UsageReportWire } from '../../shared/schemas/job.js';
import { UsageReporter, chainClockOffset } from './reporter.js';

const DS = [
  { datasetId: 'ds_a', chainDatasetId: '1', pricePerSample: 10n },
  { datasetId: 'ds_b', chainDatasetId: '2', pricePerSample: 30n },
];
const domain = licenseManagerDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3');

/** A fake relay that applies the contract's rule (cumulative, rate cap) to what it is sent. */
function chain(rate: bigint, startedAt: number, clock: { t: number }) {
  const paid: UsageReportWire[] = [];
  let spent = 0n;
  const settled = new Map<string, bigint>();
  const submit = async (r: UsageReportWire): Promise<void> => {
    let inc = 0n;
    r.datasetIds.forEach((id, i) => {
      const s = BigInt(r.samples[i]!);
      const before = settled.get(id) ?? 0n;
      if (s > before) inc += (s - before) * (BigInt(r.amounts[i]!) / (s === 0n ? 1n : s));
    });
    if (spent + inc > rate * BigInt(Math.floor(clock.t / 1000) - startedAt + 1)) throw new ProvenaError('JOB_REPORT_RATE_CAPPED' as never, 'rate capped');
    r.datasetIds.forEach((id, i) => settled.set(id, BigInt(r.samples[i]!) > (settled.get(id) ?? 0n) ? BigInt(r.samples[i]!) : settled.get(id)!));
    spent += inc;
    paid.push(r);
  };
  return { submit, paid, spent: () => spent };
}

describe('usage reporter', () => {
  it('reports cumulative counts signed by the attested key, holding back what the rate cap does not allow yet', async () => {
    const clock = { t: 1_000_000 * 1000 };
    const c = chain(100n, 1_000_000, clock);
    const key = Wallet.createRandom();
    const reporter = new UsageReporter({ jobId: '5', datasets: DS, settled: {}, maxRatePerSecond: 100n, startedAtSeconds: 1_000_000, domain, signer: key, submit: c.submit, now: () => clock.t, clockMarginSeconds: 0 });

    clock.t += 1000; // 2 s of drain allowed: 200
    const first = await reporter.report({ ds_a: 10, ds_b: 10 }); // costs 400: capped to half
    clock.t += 10_000;
    const second = await reporter.report({ ds_a: 10, ds_b: 10 });

    expect(first).toEqual({ ds_a: 5, ds_b: 5 });
    expect(second).toEqual({ ds_a: 10, ds_b: 10 });
    expect(c.spent()).toBe(400n);
    const last = c.paid.at(-1)!;
    expect(last).toEqual({ jobId: '5', datasetIds: ['1', '2'], samples: ['10', '10'], amounts: ['100', '300'] });
    expect(await reporter.report({ ds_a: 10, ds_b: 10 })).toBeNull(); // nothing new
  });

  it('retries nothing and fails nothing when a report is refused for the rate cap (the opening second)', async () => {
    const clock = { t: 2_000_000 * 1000 };
    const strict = chain(1n, 2_000_000 + 5, clock); // the chain's clock says the job opened later than we think
    const reporter = new UsageReporter({ jobId: '5', datasets: DS, settled: {}, maxRatePerSecond: 1000n, startedAtSeconds: 2_000_000, domain, signer: Wallet.createRandom(), submit: strict.submit, now: () => clock.t, clockMarginSeconds: 0 });

    const out = await reporter.report({ ds_a: 1 });

    expect(out).toBeNull();
    expect(reporter.settled).toEqual({});
  });

  it('sends a report the chain refuses after the lab cancelled (JOB_NOT_ACTIVE) once, settles nothing, and retries neither it nor the final report', async () => {
    const clock = { t: 3_000_000 * 1000 };
    let calls = 0;
    const refused = async (): Promise<void> => {
      calls += 1;
      throw new ProvenaError('JOB_NOT_ACTIVE', 'The lab ended the job on chain: no report is paid after it');
    };
    const reporter = new UsageReporter({ jobId: '5', datasets: DS, settled: { ds_a: 3 }, maxRatePerSecond: 10n ** 9n, startedAtSeconds: 3_000_000, domain, signer: Wallet.createRandom(), submit: refused, now: () => clock.t, clockMarginSeconds: 0, sleep: async () => {} });

    await expect(reporter.report({ ds_a: 10 })).rejects.toMatchObject({ code: 'JOB_NOT_ACTIVE' });
    expect(calls).toBe(1);
    expect(reporter.settled).toEqual({ ds_a: 3 });
    await expect(reporter.final({ ds_a: 12 }, 'bafyreceipt', refused)).rejects.toMatchObject({ code: 'JOB_NOT_ACTIVE' });
    expect(calls).toBe(2);
    expect(reporter.settled).toEqual({ ds_a: 3 });
  });

  it('waits for the cap, then pays everything in the final report signed over the receipt CID', async () => {
    const clock = { t: 3_000_000 * 1000 };
    const c = chain(100n, 3_000_000, clock);
    const key = Wallet.createRandom();
    const slept: number[] = [];
    const reporter = new UsageReporter({
      jobId: '9', datasets: DS, settled: { ds_a: 2 }, maxRatePerSecond: 100n, startedAtSeconds: 3_000_000, domain, signer: key,
      submit: c.submit, now: () => clock.t, clockMarginSeconds: 0,
      sleep: async (ms) => { slept.push(ms); clock.t += ms; },
    });
    let signed = '';

    await reporter.final({ ds_a: 20, ds_b: 20 }, 'bafyreceipt', async (r, sig) => { signed = sig; await c.submit(r); });

    expect(slept[0]).toBe(7000); // 800 at 100/s: affordable in the 8th second
    const digest = TypedDataEncoder.hash(domain, { FinalReport: [...FINAL_REPORT_TYPES.FinalReport] }, { jobId: 9n, datasetIds: [1n, 2n], samples: [20n, 20n], amounts: [200n, 600n], receiptCid: 'bafyreceipt' });
    expect(recoverAddress(digest, signed)).toBe(key.address);
    expect(reporter.settled).toEqual({ ds_a: 20, ds_b: 20 });
  });
});

describe('the chain clock', () => {
  it('is taken to run ahead by as much as the job opened after the API saw it submitted', () => {
    expect(chainClockOffset({ startedAt: '2026-11-28T09:00:10Z', submittedAt: '2026-11-28T09:00:04Z' })).toBe(6);
    expect(chainClockOffset({ startedAt: '2026-11-28T09:00:00Z', submittedAt: '2026-11-28T09:00:04Z' })).toBe(0);
  });
});
