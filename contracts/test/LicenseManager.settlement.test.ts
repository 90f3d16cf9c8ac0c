import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Signature, Wallet, id as keccakText, type JsonRpcSigner } from 'ethers';
import { licenseManagerDomain, signFinalReport, signUsageReport, type UsageReportMessage } from '../../shared/eip712.js';
import { expectRevert } from './helpers/errors.js';
import {
  anyPrice,
  balanceOf, buyLicense, DAY, deploySystem, EVIDENCE, GRACE, mined, openJob, registerExplicit, signedReport, USD, type System,
} from './helpers/fixture.js';

let sys: System;
let snap: string;
let lab: JsonRpcSigner;
let other: JsonRpcSigner;
let r1: JsonRpcSigner;
let r2: JsonRpcSigner;
let ds1: bigint; // price 1000, split 70/30 between r1 and r2
let ds2: bigint; // price 333, 100% r2
let ds3: bigint; // not licensed
let managerAddr: string;
const P1 = 1000n;
const P2 = 333n;

beforeAll(async () => {
  sys = await deploySystem();
  [lab, other] = sys.labs as [JsonRpcSigner, JsonRpcSigner];
  const owner = sys.people[0]!;
  [r1, r2] = [sys.people[1]!, sys.people[2]!];
  ds1 = await registerExplicit(sys, owner, P1, { recipients: [await r1.getAddress(), await r2.getAddress()], bps: [7000, 3000] });
  ds2 = await registerExplicit(sys, owner, P2, { recipients: [await r2.getAddress()], bps: [10000] });
  ds3 = await registerExplicit(sys, owner, 1n, { recipients: [await r2.getAddress()], bps: [10000] });
  managerAddr = await sys.manager.getAddress();
  snap = await sys.chain.snapshot();
});
beforeEach(async () => {
  await sys.chain.revertTo(snap);
  snap = await sys.chain.snapshot();
});

async function jobWith(budget = 100n * USD, rate = 10n ** 30n): Promise<bigint> {
  const id = await buyLicense(sys, lab, [ds1, ds2], budget);
  return openJob(sys, lab, id, budget, rate);
}
async function report(job: bigint, entries: [bigint, bigint, bigint][]) {
  const { report: r, signature } = await signedReport(sys, job, entries.map(([datasetId, samples, price]) => ({ datasetId, samples, price })));
  return mined(sys.manager.submitReport(r, signature));
}
const poolPaidIn = async (ds: bigint) => (await sys.manager.getPool(ds)).paidIn;

describe('submitReport: rejected reports', () => {
  test('empty or mismatched arrays revert', async () => {
    const job = await jobWith();
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    await expectRevert(sys.manager.submitReport({ ...r, amounts: [] }, signature), 'LicenseManager_LengthMismatch');
    await expectRevert(sys.manager.submitReport({ ...r, datasetIds: [], samples: [], amounts: [] }, signature), 'LicenseManager_LengthMismatch');
  });
  test('an unknown job reverts', async () => {
    const { report: r, signature } = await signedReport(sys, 42n, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_UnknownJob', [42n]);
  });
  test('a report after license expiry + grace reverts ReportWindowClosed', async () => {
    const id = await buyLicense(sys, lab, [ds1, ds2], 10n * USD, (await sys.chain.latestTimestamp()) + BigInt(DAY));
    const job = await openJob(sys, lab, id, 10n * USD);
    await sys.chain.increaseTime(DAY + GRACE + 1);
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_ReportWindowClosed');
  });
  test('a report after license expiry lands in the grace period (work done before the expiry)', async () => {
    const id = await buyLicense(sys, lab, [ds1, ds2], 10n * USD, (await sys.chain.latestTimestamp()) + BigInt(DAY));
    const job = await openJob(sys, lab, id, 10n * USD);
    await sys.chain.increaseTime(DAY + 60);
    await report(job, [[ds1, 2n, P1]]);
    expect((await sys.manager.getJob(job)).spent).toBe(2n * P1);
  });
  test('a malformed signature reverts', async () => {
    const job = await jobWith();
    const { report: r } = await signedReport(sys, job, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(r, '0x1234'), 'LicenseManager_InvalidSignature');
  });
  test('a key never approved reverts with its address', async () => {
    const job = await jobWith();
    const rogue = Wallet.createRandom();
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 1n, price: P1 }], rogue);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_UnapprovedWorker', [job, rogue.address]);
    expect(await poolPaidIn(ds1)).toBe(0n);
  });
  test('a key approved for another job reverts', async () => {
    const job1 = await jobWith();
    const id2 = await buyLicense(sys, other, [ds1], USD);
    const job2 = (await mined(sys.manager.connect(other).openJob(id2, USD, 10n ** 20n))) && 2n; // worker not approved for job 2
    const { report: r, signature } = await signedReport(sys, job2, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_UnapprovedWorker', [job2, sys.worker.address]);
    // and a report signed for job 1 cannot be replayed as job 2: the digest differs
    const { report: r1s, signature: s1 } = await signedReport(sys, job1, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    const decoded = await expectRevert(sys.manager.submitReport({ ...r1s, jobId: job2 }, s1), 'LicenseManager_UnapprovedWorker');
    expect(decoded.args[1]).not.toBe(sys.worker.address);
  });
  test('a revoked key reverts', async () => {
    const job = await jobWith();
    await mined(sys.attestations.revokeWorker(job, sys.worker.address));
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_UnapprovedWorker');
  });
  test('a report signed for another chain or another contract reverts', async () => {
    const job = await jobWith();
    const msg = { jobId: job, datasetIds: [ds1], samples: [1n], amounts: [P1] };
    for (const domain of [licenseManagerDomain(1n, managerAddr), licenseManagerDomain(sys.chain.chainId, sys.worker.address)]) {
      const sig = await signUsageReport(sys.worker, domain, msg);
      await expectRevert(sys.manager.submitReport(msg, sig), 'LicenseManager_UnapprovedWorker');
    }
  });
  test('a dataset outside the license reverts', async () => {
    const job = await jobWith();
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds3, samples: 1n, price: 1n }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_DatasetNotLicensed', [job, ds3]);
  });
  test('an amount that is not samples x price reverts', async () => {
    const job = await jobWith();
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 10n, price: P1 - 1n }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_AmountMismatch', [ds1, 10n * P1, 10n * (P1 - 1n)]);
  });
  test('going over the budget reverts and pays nothing', async () => {
    const job = await jobWith(10_000n);
    await report(job, [[ds1, 9n, P1]]);
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 11n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_BudgetExceeded', [job, 2000n, 1000n]);
    expect((await sys.manager.getJob(job)).spent).toBe(9000n);
    expect(await poolPaidIn(ds1)).toBe(9000n);
    await report(job, [[ds1, 10n, P1]]); // exactly the budget is fine
    expect((await sys.manager.getJob(job)).spent).toBe(10_000n);
  });
  test('draining faster than the rate cap reverts; the same report lands once enough time passed', async () => {
    const job = await jobWith(100n * USD, 100n); // 100 units per second
    const start = (await sys.manager.getJob(job)).startedAt;
    await sys.chain.setNextTimestamp(start + 10n);
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 2n, price: P1 }]);
    // The opening second counts: 100/s x (10 + 1) s.
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_RateCapExceeded', [job, 2000n, 1100n]);
    await sys.chain.setNextTimestamp(start + 20n);
    await mined(sys.manager.submitReport(r, signature));
    expect((await sys.manager.getJob(job)).spent).toBe(2000n);
  });
  // Issue 8, item 10: chains that give several blocks one timestamp (anvil, fast L2s) mine a report in the same
  // second as openJob. Before, elapsed 0 made the allowance 0 and every such report reverted RateCapExceeded.
  test('a report mined in the same second as openJob settles up to one second of the rate cap', async () => {
    const id = await buyLicense(sys, lab, [ds1, ds2], 100n * USD);
    const jobId = 1n; // the first job of this snapshot
    const { report: r, signature } = await signedReport(sys, jobId, [{ datasetId: ds1, samples: 1n, price: P1 }]);
    await sys.chain.rpc('evm_setAutomine', [false]);
    let hashes: string[];
    try {
      const gasLimit = 1_000_000n;
      hashes = [
        (await sys.manager.connect(lab).openJob(id, 100n * USD, 1000n, { gasLimit })).hash, // 1000 units per second
        (await sys.attestations.approveWorker(jobId, sys.worker.address, EVIDENCE, { gasLimit })).hash,
        (await sys.manager.submitReport(r, signature, { gasLimit })).hash,
      ];
      await sys.chain.rpc('evm_mine');
    } finally {
      await sys.chain.rpc('evm_setAutomine', [true]);
    }
    const receipts = await Promise.all(hashes.map((h) => sys.chain.provider.getTransactionReceipt(h)));
    expect(receipts.map((rc) => rc?.status)).toEqual([1, 1, 1]);
    expect(new Set(receipts.map((rc) => rc?.blockNumber)).size).toBe(1);
    expect((await sys.manager.getJob(jobId)).spent).toBe(1000n);
  });
});

describe('submitReport: settlement', () => {
  test('the first report pays samples x price into the pool', async () => {
    const job = await jobWith();
    await report(job, [[ds1, 7n, P1]]);
    expect(await poolPaidIn(ds1)).toBe(7000n);
    expect((await sys.manager.getJob(job)).spent).toBe(7000n);
    expect(await sys.manager.settledSamples(job, ds1)).toBe(7n);
  });
  test('a cumulative report pays only the increase', async () => {
    const job = await jobWith();
    await report(job, [[ds1, 7n, P1]]);
    await report(job, [[ds1, 10n, P1]]);
    expect(await poolPaidIn(ds1)).toBe(10_000n);
  });
  test('a replayed or older report pays nothing extra and does not revert', async () => {
    const job = await jobWith();
    const older = await signedReport(sys, job, [{ datasetId: ds1, samples: 4n, price: P1 }]);
    const newer = await signedReport(sys, job, [{ datasetId: ds1, samples: 9n, price: P1 }]);
    await mined(sys.manager.submitReport(newer.report, newer.signature));
    await mined(sys.manager.submitReport(newer.report, newer.signature));
    await mined(sys.manager.submitReport(older.report, older.signature));
    expect(await sys.manager.submitReport.staticCall(older.report, older.signature)).toBe(0n);
    expect((await sys.manager.getJob(job)).spent).toBe(9000n);
    expect(await sys.manager.settledSamples(job, ds1)).toBe(9n);
  });
  test('a multi-dataset report pays each pool its own increase', async () => {
    const job = await jobWith();
    await report(job, [[ds1, 3n, P1], [ds2, 10n, P2]]);
    await report(job, [[ds1, 3n, P1], [ds2, 11n, P2]]);
    expect(await poolPaidIn(ds1)).toBe(3000n);
    expect(await poolPaidIn(ds2)).toBe(11n * P2);
    expect((await sys.manager.getJob(job)).spent).toBe(3000n + 11n * P2);
  });
  test('the total paid equals settled samples x price exactly, split by bps with nothing minted', async () => {
    const job = await jobWith();
    for (const s of [1n, 2n, 3n, 5n, 8n, 13n, 21n]) await report(job, [[ds1, s, P1], [ds2, s * 2n, P2]]);
    const spent = (await sys.manager.getJob(job)).spent;
    expect(spent).toBe(21n * P1 + 42n * P2);
    const c1 = await sys.manager.claimable(ds1, await r1.getAddress());
    const c2a = await sys.manager.claimable(ds1, await r2.getAddress());
    expect(c1 + c2a).toBeLessThanOrEqual(21n * P1);
    expect(21n * P1 - (c1 + c2a)).toBeLessThanOrEqual(1n);
    expect(await sys.manager.claimable(ds2, await r2.getAddress())).toBe(42n * P2);
  });
  test('recipients withdraw while the job is still running', async () => {
    const job = await jobWith();
    await report(job, [[ds1, 10n, P1]]);
    await mined(sys.manager.connect(r1).claim([ds1]));
    expect(await balanceOf(sys, r1)).toBe(7000n);
    await report(job, [[ds1, 20n, P1]]);
    await mined(sys.manager.connect(r1).claim([ds1]));
    expect(await balanceOf(sys, r1)).toBe(14_000n);
  });
  test('emits RoyaltyAccrued per dataset paid', async () => {
    const job = await jobWith();
    const rc = await report(job, [[ds1, 2n, P1], [ds2, 3n, P2]]);
    const evs = rc.logs.map((l) => sys.manager.interface.parseLog(l)).map((e) => [e?.name, ...(e?.args.toArray() ?? [])]);
    expect(evs).toEqual([
      ['RoyaltyAccrued', ds1, job, 2n, 2n * P1],
      ['RoyaltyAccrued', ds2, job, 3n, 3n * P2],
    ]);
  });
});

describe('endJob', () => {
  test('by a non-holder reverts', async () => {
    const job = await jobWith();
    await expectRevert(sys.manager.connect(other).endJob(job), 'LicenseManager_NotLicenseHolder');
  });
  test('twice reverts', async () => {
    const job = await jobWith();
    await mined(sys.manager.connect(lab).endJob(job));
    await expectRevert(sys.manager.connect(lab).endJob(job), 'LicenseManager_JobEnded', [job]);
  });
  test('records the end time and emits JobEnded', async () => {
    const job = await jobWith();
    const start = (await sys.manager.getJob(job)).startedAt;
    await sys.chain.setNextTimestamp(start + 50n);
    const rc = await mined(sys.manager.connect(lab).endJob(job));
    expect(sys.manager.interface.parseLog(rc.logs[0]!)?.args.toArray()).toEqual([job, start + 50n]);
    expect((await sys.manager.getJob(job)).endedAt).toBe(start + 50n);
  });
  // The cancel race (docs/SECURITY.md): a report the worker signed, and the API relayed, while the lab's cancel was in
  // flight, mined after the cancel. What was mined before the cancel stays settled, exactly once; nothing after pays.
  test('refuses every report mined after it with JobEnded, in every form, and keeps what was settled before', async () => {
    const job = await jobWith();
    await report(job, [[ds1, 4n, P1]]);
    // Signed before the cancel (as the in-flight report was), mined after it.
    const late = await signedReport(sys, job, [{ datasetId: ds1, samples: 9n, price: P1 }]);
    await mined(sys.manager.connect(lab).endJob(job));
    await expectRevert(sys.manager.submitReport(late.report, late.signature), 'LicenseManager_JobEnded', [job]);
    const { r, yParityAndS } = Signature.from(late.signature);
    await expectRevert(sys.manager.submitSingleReport(job, ds1, 9n, r, yParityAndS), 'LicenseManager_JobEnded', [job]);
    // Still refused at the end of the grace period, and a replay of the settled report adds nothing.
    await sys.chain.increaseTime(GRACE - 5);
    await expectRevert(sys.manager.submitReport(late.report, late.signature), 'LicenseManager_JobEnded', [job]);
    const j = await sys.manager.getJob(job);
    expect([j.spent, await sys.manager.settledSamples(job, ds1), await poolPaidIn(ds1)]).toEqual([4n * P1, 4n, 4n * P1]);
    // The lab's refund is budget - what was settled before the cancel.
    await sys.chain.increaseTime(10);
    const before = await balanceOf(sys, lab);
    await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));
    expect((await balanceOf(sys, lab)) - before).toBe(100n * USD - 4n * P1);
  });
});

describe('finalizeJob', () => {
  const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
  const final = async (job: bigint, entries: [bigint, bigint, bigint][], receiptCid = CID) => {
    const msg: UsageReportMessage = {
      jobId: job,
      datasetIds: entries.map((e) => e[0]),
      samples: entries.map((e) => e[1]),
      amounts: entries.map((e) => e[1] * e[2]),
    };
    const domain = licenseManagerDomain(sys.chain.chainId, managerAddr);
    return { msg, signature: await signFinalReport(sys.worker, domain, { ...msg, receiptCid }) };
  };

  test('settles the last increase, ends the job, anchors the receipt CID and emits JobEnded and JobFinalized', async () => {
    const job = await jobWith();
    await report(job, [[ds1, 4n, P1]]);
    const { msg, signature } = await final(job, [[ds1, 10n, P1], [ds2, 3n, P2]]);
    const rc = await mined(sys.manager.connect(other).finalizeJob(msg, CID, signature)); // anyone may submit
    const ts = BigInt((await rc.getBlock()).timestamp);
    const j = await sys.manager.getJob(job);
    expect([j.spent, j.endedAt, j.finalized]).toEqual([10n * P1 + 3n * P2, ts, true]);
    expect(await sys.manager.receiptOf(job)).toBe(keccakText(CID));
    expect(await sys.manager.isJobActive(job)).toBe(false);
    const events = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).filter((e) => e !== null);
    expect(events.map((e) => e.name)).toEqual(['RoyaltyAccrued', 'RoyaltyAccrued', 'JobEnded', 'JobFinalized']);
    expect(events.at(-1)!.args.toArray()).toEqual([job, sys.worker.address, CID]);
  });
  test('accepts no report afterwards: submitReport and finalizeJob revert JobFinalized', async () => {
    const job = await jobWith();
    const first = await final(job, [[ds1, 2n, P1]]);
    await mined(sys.manager.finalizeJob(first.msg, CID, first.signature));
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 3n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(r, signature), 'LicenseManager_JobFinalized', [job]);
    const again = await final(job, [[ds1, 3n, P1]], 'bafy-other');
    await expectRevert(sys.manager.finalizeJob(again.msg, 'bafy-other', again.signature), 'LicenseManager_JobFinalized', [job]);
    expect((await sys.manager.getJob(job)).spent).toBe(2n * P1);
  });
  test('a submitter cannot swap the receipt CID: the signature then recovers another key', async () => {
    const job = await jobWith();
    const { msg, signature } = await final(job, [[ds1, 2n, P1]]);
    const e = await expectRevert(sys.manager.finalizeJob(msg, 'bafy-forged', signature), 'LicenseManager_UnapprovedWorker');
    expect(e.args[1]).not.toBe(sys.worker.address);
    expect(await sys.manager.receiptOf(job)).toBe(`0x${'00'.repeat(32)}`);
  });
  test('a plain UsageReport signature does not pass as a FinalReport', async () => {
    const job = await jobWith();
    const { report: r, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 2n, price: P1 }]);
    await expectRevert(sys.manager.finalizeJob(r, CID, signature), 'LicenseManager_UnapprovedWorker');
  });
  test('an empty receipt CID reverts EmptyReceipt', async () => {
    const job = await jobWith();
    const { msg, signature } = await final(job, [[ds1, 2n, P1]], '');
    await expectRevert(sys.manager.finalizeJob(msg, '', signature), 'LicenseManager_EmptyReceipt');
  });
  test('after the lab ended the job reverts JobEnded: nothing is paid, no receipt anchored, the end time kept', async () => {
    const job = await jobWith();
    const rcEnd = await mined(sys.manager.connect(lab).endJob(job));
    const endedAt = BigInt((await rcEnd.getBlock()).timestamp);
    await sys.chain.increaseTime(60);
    const { msg, signature } = await final(job, [[ds1, 2n, P1]]);
    await expectRevert(sys.manager.finalizeJob(msg, CID, signature), 'LicenseManager_JobEnded', [job]);
    const j = await sys.manager.getJob(job);
    expect([j.spent, j.endedAt, j.finalized]).toEqual([0n, endedAt, false]);
    expect(await sys.manager.receiptOf(job)).toBe(`0x${'00'.repeat(32)}`);
  });
  test('after the report window closed reverts ReportWindowClosed', async () => {
    const id = await buyLicense(sys, lab, [ds1, ds2], 10n * USD, (await sys.chain.latestTimestamp()) + BigInt(DAY));
    const job = await openJob(sys, lab, id, 10n * USD);
    await sys.chain.increaseTime(DAY + GRACE + 1);
    const { msg, signature } = await final(job, [[ds1, 2n, P1]]);
    await expectRevert(sys.manager.finalizeJob(msg, CID, signature), 'LicenseManager_ReportWindowClosed');
  });
});

describe('refund', () => {
  test('an unknown job reverts', async () => {
    await expectRevert(sys.manager.connect(lab).refund(5n, await lab.getAddress()), 'LicenseManager_UnknownJob', [5n]);
  });
  test('by a non-holder reverts', async () => {
    const job = await jobWith();
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    await expectRevert(sys.manager.connect(other).refund(job, await other.getAddress()), 'LicenseManager_NotLicenseHolder');
  });
  test('of a job not ended, before its report window closed, reverts naming when it can', async () => {
    const job = await jobWith();
    const at = await sys.manager.refundableAt(job);
    await expectRevert(sys.manager.connect(lab).refund(job, await lab.getAddress()), 'LicenseManager_GraceNotOver', [job, at]);
  });
  test('right after endJob refunds at once (no report can land any more), and a report after it still pays nothing', async () => {
    const job = await jobWith(50n * USD);
    await report(job, [[ds1, 10n, P1]]);
    await mined(sys.manager.connect(lab).endJob(job));
    const endedAt = (await sys.manager.getJob(job)).endedAt;
    expect(await sys.manager.refundableAt(job)).toBe(BigInt(endedAt));
    const labBefore = await balanceOf(sys, lab);

    await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));

    expect((await balanceOf(sys, lab)) - labBefore).toBe(50n * USD - 10n * P1);
    const late = await signedReport(sys, job, [{ datasetId: ds1, samples: 5n, price: P1 }]);
    await expectRevert(sys.manager.submitReport(late.report, late.signature), 'LicenseManager_JobEnded', [job]);
  });
  test('twice reverts', async () => {
    const job = await jobWith();
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));
    await expectRevert(sys.manager.connect(lab).refund(job, await lab.getAddress()), 'LicenseManager_AlreadyRefunded', [job]);
  });
  test('without endJob, refunds after license expiry + grace', async () => {
    const id = await buyLicense(sys, lab, [ds1], 10n * USD, (await sys.chain.latestTimestamp()) + BigInt(DAY));
    const job = await openJob(sys, lab, id, 10n * USD);
    await sys.chain.increaseTime(DAY);
    await expectRevert(sys.manager.connect(lab).refund(job, await lab.getAddress()), 'LicenseManager_GraceNotOver');
    await sys.chain.increaseTime(GRACE + 1);
    await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));
    expect((await sys.manager.getJob(job)).refunded).toBe(true);
  });
  test('sends budget - spent to the holder, pushes nothing to recipients, and keeps what they are owed', async () => {
    const job = await jobWith(50n * USD);
    await report(job, [[ds1, 10n, P1], [ds2, 3n, P2]]);
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    const labBefore = await balanceOf(sys, lab);
    const rc = await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));
    const spent = 10n * P1 + 3n * P2;
    expect(await balanceOf(sys, lab)).toBe(labBefore + 50n * USD - spent);
    expect(await balanceOf(sys, r1)).toBe(0n);
    expect(await balanceOf(sys, r2)).toBe(0n);
    expect(await balanceOf(sys, managerAddr)).toBe(spent);
    const ev = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === 'JobRefunded');
    expect(ev?.args.toArray()).toEqual([job, await lab.getAddress(), 50n * USD - spent]);
    await mined(sys.manager.connect(r2).claim([ds1, ds2]));
    expect(await balanceOf(sys, r2)).toBe(3000n + 3n * P2);
  });
  // Issue 8, item 10: a lab the token blocklists (USDC-style) could never receive its refund; it names another address.
  test('sends budget - spent to the address the holder names, and emits it', async () => {
    const job = await jobWith(50n * USD);
    await report(job, [[ds1, 10n, P1]]);
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    const to = Wallet.createRandom().address;
    const labBefore = await balanceOf(sys, lab);
    const rc = await mined(sys.manager.connect(lab).refund(job, to));
    expect(await balanceOf(sys, to)).toBe(50n * USD - 10n * P1);
    expect(await balanceOf(sys, lab)).toBe(labBefore);
    const ev = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === 'JobRefunded');
    expect(ev?.args.toArray()).toEqual([job, to, 50n * USD - 10n * P1]);
  });
  test('to the zero address reverts and leaves the job unrefunded', async () => {
    const job = await jobWith();
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    await expectRevert(sys.manager.connect(lab).refund(job, `0x${'00'.repeat(20)}`), 'LicenseManager_ZeroAddress');
    expect((await sys.manager.getJob(job)).refunded).toBe(false);
  });
});

// Issue 13 (gas): a one-dataset report through `submitSingleReport(jobId, datasetId, samples, r, vs)` — the same
// signed UsageReport (arrays of one), no amount in calldata, an EIP-2098 compact signature. A one-dataset job keeps
// its dataset, price and settled total in the job's own slots.
describe('submitSingleReport: one dataset, compact', () => {
  async function singleJob(budget = 100n * USD, rate = 10n ** 30n): Promise<bigint> {
    return openJob(sys, lab, await buyLicense(sys, lab, [ds1], budget), budget, rate);
  }
  async function single(job: bigint, datasetId: bigint, samples: bigint, price = P1, signer?: Wallet, submit = samples) {
    const { signature } = await signedReport(sys, job, [{ datasetId, samples, price }], signer ?? sys.worker);
    const { r, yParityAndS } = Signature.from(signature);
    return sys.manager.submitSingleReport(job, datasetId, submit, r, yParityAndS);
  }

  test('pays the increase into the pool, records the settled samples and emits RoyaltyAccrued', async () => {
    const job = await singleJob();
    const rc = await mined(single(job, ds1, 10n));
    const ev = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === 'RoyaltyAccrued');
    expect(ev?.args.toArray()).toEqual([ds1, job, 10n, 10n * P1]);
    await mined(single(job, ds1, 25n));
    expect(await poolPaidIn(ds1)).toBe(25n * P1);
    expect(await sys.manager.settledSamples(job, ds1)).toBe(25n);
    expect((await sys.manager.getJob(job)).spent).toBe(25n * P1);
  });
  test('shares the cumulative state with submitReport: replays and stale reports through either pay nothing', async () => {
    const job = await singleJob();
    await report(job, [[ds1, 10n, P1]]);
    await mined(single(job, ds1, 10n)); // replay of the same total
    await mined(single(job, ds1, 4n)); // stale
    await mined(single(job, ds1, 12n));
    await report(job, [[ds1, 11n, P1]]); // stale through the array form
    expect(await poolPaidIn(ds1)).toBe(12n * P1);
    expect(await sys.manager.settledSamples(job, ds1)).toBe(12n);
  });
  test('a signature over another amount (another price) recovers another key and reverts UnapprovedWorker', async () => {
    const job = await singleJob();
    await expectRevert(single(job, ds1, 10n, P1 - 1n), 'LicenseManager_UnapprovedWorker');
    await expectRevert(single(job, ds1, 10n, P1, undefined, 11n), 'LicenseManager_UnapprovedWorker'); // other samples
    expect(await poolPaidIn(ds1)).toBe(0n);
  });
  test('a dataset the job does not license reverts DatasetNotLicensed, on one- and multi-dataset jobs', async () => {
    await expectRevert(single(await singleJob(), ds2, 1n, P2), 'LicenseManager_DatasetNotLicensed');
    await expectRevert(single(await jobWith(), ds3, 1n, 1n), 'LicenseManager_DatasetNotLicensed');
    expect(await poolPaidIn(ds2)).toBe(0n);
  });
  test('settles one dataset of a multi-dataset job (its per-dataset slot)', async () => {
    const job = await jobWith();
    await mined(single(job, ds2, 7n, P2));
    await report(job, [[ds1, 3n, P1], [ds2, 7n, P2]]);
    expect([await poolPaidIn(ds1), await poolPaidIn(ds2)]).toEqual([3n * P1, 7n * P2]);
    expect((await sys.manager.getJob(job)).spent).toBe(3n * P1 + 7n * P2);
  });
  test('unknown, finalized and closed jobs revert as submitReport does', async () => {
    await expectRevert(single(42n, ds1, 1n), 'LicenseManager_UnknownJob', [42n]);
    const job = await singleJob();
    const domain = licenseManagerDomain(sys.chain.chainId, managerAddr);
    const fin = { jobId: job, datasetIds: [ds1], samples: [2n], amounts: [2n * P1], receiptCid: 'bafy-receipt' };
    await mined(sys.manager.finalizeJob(fin, fin.receiptCid, await signFinalReport(sys.worker, domain, fin)));
    await expectRevert(single(job, ds1, 3n), 'LicenseManager_JobFinalized', [job]);
    const job2 = await singleJob();
    await mined(sys.manager.connect(lab).endJob(job2));
    await expectRevert(single(job2, ds1, 1n), 'LicenseManager_JobEnded', [job2]);
    await sys.chain.increaseTime(GRACE + 1);
    await expectRevert(single(job2, ds1, 1n), 'LicenseManager_JobEnded', [job2]);
  });
  test('budget and rate cap hold on the one-dataset path', async () => {
    const job = await singleJob(USD, 10n ** 30n);
    await expectRevert(single(job, ds1, USD / P1 + 1n), 'LicenseManager_BudgetExceeded', [job, USD + P1, USD]);
    const slow = await singleJob(100n * USD, 1000n);
    await expectRevert(single(slow, ds1, 1000n), 'LicenseManager_RateCapExceeded');
  });
  test('the job stops granting keys and refunds budget - spent, as before', async () => {
    const job = await singleJob(10n * USD);
    expect(await sys.manager.jobGrantsKeys(job, ds1)).toBe(true);
    expect(await sys.manager.jobGrantsKeys(job, ds2)).toBe(false);
    await mined(single(job, ds1, 100n));
    await mined(sys.manager.connect(lab).endJob(job));
    expect(await sys.manager.jobGrantsKeys(job, ds1)).toBe(false);
    await sys.chain.increaseTime(GRACE + 1);
    const before = await balanceOf(sys, lab);
    await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));
    expect((await balanceOf(sys, lab)) - before).toBe(10n * USD - 100n * P1);
  });
});

describe('claimOne', () => {
  test('pays what claim([id]) would; its record is the token Transfer alone (no RoyaltiesClaimed); a repeat pays only the new accrual', async () => {
    const job = await jobWith();
    await report(job, [[ds1, 10n, P1]]);
    const rc = await mined(sys.manager.connect(r1).claimOne(ds1));
    const a1 = await r1.getAddress();
    // One log: the token's Transfer(manager -> r1, 7000). claimOne emits nothing of its own (the indexer reads the
    // claim from that Transfer: shared/adapters/chain/EvmChainEventSource.ts).
    expect(rc.logs).toHaveLength(1);
    const transfer = sys.token.interface.parseLog(rc.logs[0]!);
    expect(rc.logs[0]!.address).toBe(await sys.token.getAddress());
    expect(transfer?.name).toBe('Transfer');
    expect(transfer?.args.toArray()).toEqual([await sys.manager.getAddress(), a1, 7000n]);
    await report(job, [[ds1, 20n, P1]]);
    await mined(sys.manager.connect(r1).claimOne(ds1));
    const nothing = await mined(sys.manager.connect(r1).claimOne(ds1)); // nothing new: no transfer, no log
    expect(nothing.logs).toHaveLength(0);
    expect(await balanceOf(sys, r1)).toBe(14_000n);
    await expectRevert(sys.manager.connect(other).claimOne(ds1), 'RoyaltyPools_NotRecipient');
  });
});
