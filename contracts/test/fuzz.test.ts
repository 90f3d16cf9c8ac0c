/**
 * Property-based tests (fast-check) of the pool accumulator math and of settlement on the real contracts.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { PoolMathHarness__factory, type PoolMathHarness } from '../typechain/index.js';
import { decodeRevert } from './helpers/errors.js';
import { Wallet } from 'ethers';
import { buildRoyaltyTree } from '../merkle.js';
import { buyLicense, deploySystem, mined, openJob, registerExplicit, registerMerkle, signedReport, USD, type System } from './helpers/fixture.js';

const SCALE = 10n ** 18n;

describe('PoolMath (fuzz)', () => {
  let harness: PoolMathHarness;
  beforeAll(async () => {
    const sys = await deploySystem('mock', { labs: 0 });
    harness = await new PoolMathHarness__factory(sys.admin).deploy();
    await harness.waitForDeployment();
  });

  // Units of each recipient; the pool's total is their sum (what a well-formed split declares).
  const unitsArb = fc.array(fc.bigInt({ min: 1n, max: (1n << 60n) - 1n }), { minLength: 1, maxLength: 12 });
  const amountsArb = fc.array(fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }), { minLength: 1, maxLength: 20 });

  test('paid-in is recovered exactly; recipients never get more than their exact share; dust is bounded', async () => {
    await fc.assert(
      fc.asyncProperty(amountsArb, unitsArb, async (amounts, units) => {
        const total = amounts.reduce((a, b) => a + b, 0n);
        const totalUnits = units.reduce((a, b) => a + b, 0n);
        fc.pre(totalUnits < 1n << 64n);
        const [pool, entitled, paidIn] = await harness.run(amounts, totalUnits, units);
        // nothing lost or minted at pool level: acc x U + remainder == SCALE x total
        expect(pool.accPerUnit * totalUnits + pool.remainder).toBe(SCALE * total);
        expect(paidIn).toBe(total);
        let sum = 0n;
        entitled.forEach((e, i) => {
          expect(e).toBeLessThanOrEqual((total * units[i]!) / totalUnits); // never above the exact share
          sum += e;
        });
        expect(sum).toBeLessThanOrEqual(total);
        // what stays unclaimable is rounding dust: < one unit per recipient plus the carried remainder
        expect(total - sum).toBeLessThanOrEqual(BigInt(units.length) + totalUnits / SCALE + 1n);
      }),
      { numRuns: 300 },
    );
  });

  test('paying in parts gives exactly the entitlements of paying at once (the carry makes streaming path-independent)', async () => {
    await fc.assert(
      fc.asyncProperty(amountsArb, unitsArb, async (amounts, units) => {
        const totalUnits = units.reduce((a, b) => a + b, 0n);
        fc.pre(totalUnits < 1n << 64n);
        const total = amounts.reduce((a, b) => a + b, 0n);
        const [, parts] = await harness.run(amounts, totalUnits, units);
        const [, once] = await harness.run([total], totalUnits, units);
        parts.forEach((p, i) => expect(p).toBe(once[i]));
      }),
      { numRuns: 200 },
    );
  });
});

describe('settlement (fuzz on the contracts)', () => {
  let sys: System;
  let ds: bigint[];
  let snap: string;
  const prices = [1n, 999n, 123_457n];

  beforeAll(async () => {
    sys = await deploySystem('mock', { labs: 1 });
    const r = await sys.people[1]!.getAddress();
    const r2 = await sys.people[2]!.getAddress();
    ds = [];
    for (const p of prices) ds.push(await registerExplicit(sys, sys.people[0]!, p, { recipients: [r, r2], bps: [3333, 6667] }));
    snap = await sys.chain.snapshot();
  });

  test('any sequence of cumulative reports pays max(samples) x price per dataset, never above budget', async () => {
    const step = fc.record({ d: fc.nat({ max: 2 }), samples: fc.bigInt({ min: 0n, max: 5000n }) });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), fc.bigInt({ min: 1n, max: 400n * USD }), async (steps, budget) => {
        await sys.chain.revertTo(snap);
        snap = await sys.chain.snapshot();
        const lab = sys.labs[0]!;
        const job = await openJob(sys, lab, await buyLicense(sys, lab, ds, budget), budget);
        const settled = [0n, 0n, 0n];
        for (const s of steps) {
          const { report, signature } = await signedReport(sys, job, [{ datasetId: ds[s.d]!, samples: s.samples, price: prices[s.d]! }]);
          const next = s.samples > settled[s.d]! ? s.samples : settled[s.d]!;
          const owed = settled.reduce((acc, x, i) => acc + (i === s.d ? next : x) * prices[i]!, 0n);
          try {
            await mined(sys.manager.submitReport(report, signature, { gasLimit: 1_000_000 }));
            expect(owed).toBeLessThanOrEqual(budget);
            settled[s.d] = next;
          } catch (err) {
            expect(decodeRevert(err)?.name).toBe('LicenseManager_BudgetExceeded');
            expect(owed).toBeGreaterThan(budget);
          }
          const j = await sys.manager.getJob(job);
          expect(j.spent).toBe(settled.reduce((acc, x, i) => acc + x * prices[i]!, 0n));
          expect(j.spent).toBeLessThanOrEqual(budget);
        }
        for (let i = 0; i < 3; i++) expect((await sys.manager.getPool(ds[i]!)).paidIn).toBe(settled[i]! * prices[i]!);
      }),
      { numRuns: 40 },
    );
  });

  // The cap counts the opening second (issue 8, item 10: same-second reports): a report at `elapsed` seconds after
  // openJob settles exactly when spent <= rate x (elapsed + 1), elapsed 0 included, and never above the budget.
  test('the rate cap admits exactly rate x (elapsed + 1), from the opening second on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1n, max: 5000n }),
        fc.integer({ min: 1, max: 120 }),
        fc.bigInt({ min: 0n, max: 3000n }),
        async (rate, elapsed, samples) => {
          await sys.chain.revertTo(snap);
          snap = await sys.chain.snapshot();
          const lab = sys.labs[0]!;
          const budget = 100n * USD;
          const job = await openJob(sys, lab, await buyLicense(sys, lab, [ds[1]!], budget), budget, rate);
          const start = (await sys.manager.getJob(job)).startedAt;
          // openJob's helper also mined the approval after it, so the earliest report is a second or two later;
          // elapsed 0 is covered by the same-block test in LicenseManager.settlement.test.ts.
          fc.pre(start + BigInt(elapsed) > (await sys.chain.latestTimestamp()));
          await sys.chain.setNextTimestamp(start + BigInt(elapsed));
          const { report, signature } = await signedReport(sys, job, [{ datasetId: ds[1]!, samples, price: prices[1]! }]);
          const cost = samples * prices[1]!;
          const allowed = rate * BigInt(elapsed + 1);
          let error: string | undefined;
          try {
            await mined(sys.manager.submitReport(report, signature, { gasLimit: 1_000_000 }));
          } catch (err) {
            error = decodeRevert(err)?.name ?? 'unknown';
          }
          expect(error).toBe(cost > allowed ? 'LicenseManager_RateCapExceeded' : undefined);
          expect((await sys.manager.getJob(job)).spent).toBe(error ? 0n : cost);
        },
      ),
      { numRuns: 30 },
    );
  });
});

// Issue 8, item 10: whatever subset of a Merkle split's leaves is proven in time, and whatever the leaves sum to
// (below totalUnits), proven claims plus the owner's residual sweep take everything paid in, less rounding dust,
// and never more.
describe('Merkle residual (fuzz on the contracts)', () => {
  test('proven claims + residual sweep == paid in, less under one unit of dust per position', async () => {
    const sys = await deploySystem('mock', { labs: 1 });
    const owner = sys.people[0]!;
    const accounts = sys.people.slice(1, 5);
    const addrs = await Promise.all(accounts.map((a) => a.getAddress()));
    let snap = await sys.chain.snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt({ min: 1n, max: 1000n }), { minLength: 4, maxLength: 4 }),
        fc.bigInt({ min: 0n, max: 5000n }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.array(fc.bigInt({ min: 1n, max: 100_000n }), { minLength: 1, maxLength: 3 }),
        async (units, missing, proveMask, payments) => {
          await sys.chain.revertTo(snap);
          snap = await sys.chain.snapshot();
          const tree = buildRoyaltyTree([...addrs.map((account, i) => ({ account, units: units[i]! })), { account: Wallet.createRandom().address, units: 1n }]);
          const totalUnits = tree.totalUnits + missing; // leaves sum to less than the declared total
          const ds = await registerMerkle(sys, owner, 1n, tree.root, totalUnits);
          const lab = sys.labs[0]!;
          const job = await openJob(sys, lab, await buyLicense(sys, lab, [ds], 100n * USD), 100n * USD);
          let cumulative = 0n;
          for (const [k, p] of payments.entries()) {
            cumulative += p;
            const { report, signature } = await signedReport(sys, job, [{ datasetId: ds, samples: cumulative, price: 1n }]);
            await mined(sys.manager.submitReport(report, signature));
            // Proofs land while payments stream in.
            if (k === 0) {
              for (const [i, a] of accounts.entries()) {
                if (proveMask[i]) await mined(sys.manager.connect(a).claimWithProofs([{ datasetId: ds, units: units[i]!, proof: tree.proof(addrs[i]!) }], [ds]));
              }
            }
          }
          const [closesAt] = await sys.manager.residualOf(ds);
          await sys.chain.setNextTimestamp(closesAt);
          await mined(sys.manager.connect(owner).sweepResidual(ds, await owner.getAddress()));
          for (const [i, a] of accounts.entries()) if (proveMask[i]) await mined(sys.manager.connect(a).claim([ds]));
          const pool = await sys.manager.getPool(ds);
          const positions = BigInt(proveMask.filter(Boolean).length + 1);
          // What left the pool: the recipients' positions plus the owner's sweep.
          const [, , swept] = await sys.manager.residualOf(ds);
          let claimed = swept;
          for (const a of addrs) claimed += (await sys.manager.positionOf(ds, a)).claimed;
          expect(pool.paidIn).toBe(cumulative);
          expect(claimed).toBeLessThanOrEqual(pool.paidIn);
          expect(pool.paidIn - claimed).toBeLessThanOrEqual(positions);
        },
      ),
      { numRuns: 12 },
    );
  }, 300_000);
});
