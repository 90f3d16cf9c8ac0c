import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Wallet, type JsonRpcSigner } from 'ethers';
import { expectRevert } from './helpers/errors.js';
import {
  anyPrice, MAX_PRICE,
  balanceOf, buyLicense, DAY, deploySystem, GRACE, mined, openJob, registerExplicit, signedReport, USD, type System,
} from './helpers/fixture.js';

let sys: System;
let snap: string;
let lab: JsonRpcSigner;
let other: JsonRpcSigner;
let owner: JsonRpcSigner;
let recipient: string;
let ds1: bigint;
let ds2: bigint;
let managerAddr: string;

beforeAll(async () => {
  sys = await deploySystem();
  [lab, other] = sys.labs as [JsonRpcSigner, JsonRpcSigner];
  owner = sys.people[0]!;
  recipient = await sys.people[1]!.getAddress();
  ds1 = await registerExplicit(sys, owner, 1000n, { recipients: [recipient], bps: [10000] });
  ds2 = await registerExplicit(sys, owner, 250n, { recipients: [recipient], bps: [10000] });
  managerAddr = await sys.manager.getAddress();
  snap = await sys.chain.snapshot();
});
beforeEach(async () => {
  await sys.chain.revertTo(snap);
  snap = await sys.chain.snapshot();
});

const future = async (days = 30) => (await sys.chain.latestTimestamp()) + BigInt(days * DAY);

describe('purchase', () => {
  test('is blocked while paused', async () => {
    await mined(sys.manager.pause());
    await expectRevert(sys.manager.connect(lab).purchase([ds1], anyPrice([ds1]), USD, await future()), 'EnforcedPause');
  });
  test('without datasets reverts', async () => {
    await expectRevert(sys.manager.connect(lab).purchase([], anyPrice([]), USD, await future()), 'LicenseManager_NoDatasets');
  });
  test('with more than 32 datasets reverts', async () => {
    await expectRevert(sys.manager.connect(lab).purchase(Array(33).fill(ds1), anyPrice(Array(33).fill(ds1)), USD, await future()), 'LicenseManager_TooManyDatasets', [33n, 32n]);
  });
  test('with a zero budget reverts', async () => {
    await expectRevert(sys.manager.connect(lab).purchase([ds1], anyPrice([ds1]), 0n, await future()), 'LicenseManager_ZeroBudget');
  });
  test('with a budget above uint96 reverts', async () => {
    await expectRevert(sys.manager.connect(lab).purchase([ds1], anyPrice([ds1]), 2n ** 96n, await future()), 'LicenseManager_BudgetTooLarge');
  });
  test('with an expiry in the past reverts', async () => {
    const now = await sys.chain.latestTimestamp();
    await expectRevert(sys.manager.connect(lab).purchase([ds1], anyPrice([ds1]), USD, now), 'LicenseManager_ExpiryNotInFuture', [now]);
  });
  test('of a delisted dataset reverts', async () => {
    await mined(sys.registry.connect(owner).delist(ds2));
    await expectRevert(sys.manager.connect(lab).purchase([ds1, ds2], anyPrice([ds1, ds2]), USD, await future()), 'LicenseManager_DatasetNotListed', [ds2]);
  });
  test('with a repeated dataset reverts', async () => {
    await expectRevert(sys.manager.connect(lab).purchase([ds1, ds1], anyPrice([ds1, ds1]), USD, await future()), 'LicenseManager_DuplicateDataset', [ds1]);
  });
  test('with one maximum price missing reverts LengthMismatch', async () => {
    await expectRevert(sys.manager.connect(lab).purchase([ds1, ds2], [1000n], USD, await future()), 'LicenseManager_LengthMismatch');
  });
  // Issue 8, item 8: the owner raises the price just before the lab's purchase is mined. Before, the purchase
  // snapshotted whatever the registry held; now the buyer's cap refuses it and nothing moves.
  test('reverts PriceAboveMax when the owner raised the price after the buyer looked (front-running), moving nothing', async () => {
    const before = await balanceOf(sys, lab);
    await mined(sys.registry.connect(owner).update(ds2, 251n, 'bafy-raised'));
    await expectRevert(
      sys.manager.connect(lab).purchase([ds1, ds2], [1000n, 250n], USD, await future()),
      'LicenseManager_PriceAboveMax',
      [ds2, 251n, 250n],
    );
    expect(await balanceOf(sys, lab)).toBe(before);
    expect(await balanceOf(sys, managerAddr)).toBe(0n);
    expect((await sys.manager.getLicense(1n)).budget).toBe(0n);
  });
  test('accepts a price equal to or below the cap and snapshots the registry price, not the cap', async () => {
    const rc = await mined(sys.manager.connect(lab).purchase([ds1, ds2], [1000n, 300n], USD, await future()));
    expect(rc.status).toBe(1);
    expect((await sys.manager.termsOf(1n, ds1)).pricePerSample).toBe(1000n);
    expect((await sys.manager.termsOf(1n, ds2)).pricePerSample).toBe(250n);
  });
  test('a dataset at the highest price the registry accepts (2^96 - 1) sells and opens jobs', async () => {
    const top = await registerExplicit(sys, owner, MAX_PRICE, { recipients: [recipient], bps: [10000] });
    const id = await buyLicense(sys, lab, [top], USD);
    const job = await openJob(sys, lab, id, USD);
    expect((await sys.manager.getJob(job)).budget).toBe(USD);
  });
  test('pulls the budget into escrow and mints the license NFT to the lab', async () => {
    const before = await balanceOf(sys, lab);
    const id = await buyLicense(sys, lab, [ds1, ds2], 100n * USD);
    expect(await balanceOf(sys, lab)).toBe(before - 100n * USD);
    expect(await balanceOf(sys, managerAddr)).toBe(100n * USD);
    expect(await sys.license.ownerOf(id)).toBe(await lab.getAddress());
    const l = await sys.manager.getLicense(id);
    expect([l.budget, l.unallocated]).toEqual([100n * USD, 100n * USD]);
    expect(await sys.manager.datasetsOf(id)).toEqual([ds1, ds2]);
  });
  test('snapshots the price: a later price update never applies to the license', async () => {
    const id = await buyLicense(sys, lab, [ds1], 100n * USD);
    await mined(sys.registry.connect(owner).update(ds1, 9999n, 'bafy-v2'));
    expect((await sys.manager.termsOf(id, ds1)).pricePerSample).toBe(1000n);
    const job = await openJob(sys, lab, id, 100n * USD);
    const { report, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 10n, price: 1000n }]);
    await mined(sys.manager.submitReport(report, signature));
    expect((await sys.manager.getJob(job)).spent).toBe(10_000n);
    const stale = await signedReport(sys, job, [{ datasetId: ds1, samples: 11n, price: 9999n }]);
    await expectRevert(sys.manager.submitReport(stale.report, stale.signature), 'LicenseManager_AmountMismatch', [ds1, 11_000n, 109_989n]);
  });
  test('leaves an existing license usable after its dataset is delisted', async () => {
    const id = await buyLicense(sys, lab, [ds1], 100n * USD);
    await mined(sys.registry.connect(owner).delist(ds1));
    const job = await openJob(sys, lab, id, 100n * USD);
    const { report, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 5n, price: 1000n }]);
    await mined(sys.manager.submitReport(report, signature));
    expect(await sys.manager.claimable(ds1, recipient)).toBe(5000n);
  });
  test('emits LicensePurchased', async () => {
    const exp = await future();
    const rc = await mined(sys.manager.connect(lab).purchase([ds1], anyPrice([ds1]), USD, exp));
    const ev = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === 'LicensePurchased');
    expect(ev?.args.toArray().map(String)).toEqual(['1', await lab.getAddress(), String(USD), String(exp), String(ds1)]);
  });
});

describe('openJob', () => {
  test('by someone not holding the license reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await expectRevert(sys.manager.connect(other).openJob(id, USD, 1n), 'LicenseManager_NotLicenseHolder', [id, await other.getAddress()]);
  });
  test('after the license expired reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD, await future(1));
    await sys.chain.increaseTime(DAY + 1);
    await expectRevert(sys.manager.connect(lab).openJob(id, USD, 1n), 'LicenseManager_LicenseExpired');
  });
  test('with a zero budget reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await expectRevert(sys.manager.connect(lab).openJob(id, 0n, 1n), 'LicenseManager_ZeroBudget');
  });
  test('above the unallocated budget reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await mined(sys.manager.connect(lab).openJob(id, USD / 2n, 1n));
    await expectRevert(sys.manager.connect(lab).openJob(id, USD, 1n), 'LicenseManager_InsufficientUnallocated', [id, USD, USD / 2n]);
  });
  test('with a zero rate cap reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await expectRevert(sys.manager.connect(lab).openJob(id, USD, 0n), 'LicenseManager_ZeroRate');
  });
  test('moves the budget from the license to the job and records start, expiry and rate', async () => {
    const exp = await future();
    const id = await buyLicense(sys, lab, [ds1], 10n * USD, exp);
    const rc = await mined(sys.manager.connect(lab).openJob(id, 4n * USD, 77n));
    const ts = BigInt((await rc.getBlock()).timestamp);
    expect((await sys.manager.getLicense(id)).unallocated).toBe(6n * USD);
    const j = await sys.manager.getJob(1n);
    expect([j.budget, j.spent, j.licenseId, j.maxRatePerSecond, j.startedAt, j.endedAt, j.expiry, j.refunded, j.finalized]).toEqual([
      4n * USD, 0n, id, 77n, ts, 0n, exp, false, false,
    ]);
    expect(sys.manager.interface.parseLog(rc.logs[0]!)?.name).toBe('JobOpened');
  });
});

describe('reclaimUnallocated', () => {
  test('by a non-holder reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await expectRevert(sys.manager.connect(other).reclaimUnallocated(id, await other.getAddress()), 'LicenseManager_NotLicenseHolder');
  });
  test('with nothing unallocated reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await mined(sys.manager.connect(lab).openJob(id, USD, 1n));
    await expectRevert(sys.manager.connect(lab).reclaimUnallocated(id, await lab.getAddress()), 'LicenseManager_NothingToRefund');
  });
  test('sends exactly the unallocated budget to the holder', async () => {
    const id = await buyLicense(sys, lab, [ds1], 10n * USD);
    await mined(sys.manager.connect(lab).openJob(id, 3n * USD, 1n));
    const before = await balanceOf(sys, lab);
    await mined(sys.manager.connect(lab).reclaimUnallocated(id, await lab.getAddress()));
    expect(await balanceOf(sys, lab)).toBe(before + 7n * USD);
    expect(await balanceOf(sys, managerAddr)).toBe(3n * USD);
    expect((await sys.manager.getLicense(id)).unallocated).toBe(0n);
  });
  // Issue 8, item 10: a lab the token blocklists (USDC-style) could never receive its refund; it names another address.
  test('sends the unallocated budget to the address the holder names, and emits it', async () => {
    const id = await buyLicense(sys, lab, [ds1], 10n * USD);
    const to = Wallet.createRandom().address;
    const labBefore = await balanceOf(sys, lab);
    const rc = await mined(sys.manager.connect(lab).reclaimUnallocated(id, to));
    expect(await balanceOf(sys, to)).toBe(10n * USD);
    expect(await balanceOf(sys, lab)).toBe(labBefore);
    const ev = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === 'UnallocatedReclaimed');
    expect(ev?.args.toArray()).toEqual([id, to, 10n * USD]);
  });
  test('to the zero address reverts', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await expectRevert(sys.manager.connect(lab).reclaimUnallocated(id, `0x${'00'.repeat(20)}`), 'LicenseManager_ZeroAddress');
    expect((await sys.manager.getLicense(id)).unallocated).toBe(USD);
  });
});

describe('pause', () => {
  test('needs PAUSER_ROLE', async () => {
    await expectRevert(sys.manager.connect(other).pause(), 'AccessControlUnauthorizedAccount');
  });
  test('blocks purchases only: reports, claims and refunds continue', async () => {
    const id = await buyLicense(sys, lab, [ds1], 10n * USD);
    const job = await openJob(sys, lab, id, 10n * USD);
    await mined(sys.manager.pause());
    const { report, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 3n, price: 1000n }]);
    await mined(sys.manager.submitReport(report, signature));
    await mined(sys.manager.connect(sys.people[1]!).claim([ds1]));
    expect(await balanceOf(sys, recipient)).toBe(3000n);
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));
    expect(await balanceOf(sys, managerAddr)).toBe(0n);
    await mined(sys.manager.unpause());
    await buyLicense(sys, lab, [ds1], USD);
  });
});

describe('admin powers', () => {
  test('no admin function moves tokens: the only state-changing functions are the user flows and role/pause admin', () => {
    const mutating = sys.manager.interface.fragments
      .filter((f) => f.type === 'function' && !(f as unknown as { constant: boolean }).constant)
      .map((f) => (f as unknown as { name: string }).name)
      .sort();
    expect(mutating).toEqual([
      'claim', 'claimOne', 'claimWithProofs', 'claimWithSig', 'endJob', 'finalizeJob', 'grantRole', 'openJob', 'pause', 'proveUnits', 'purchase',
      'reclaimUnallocated', 'refund', 'renounceRole', 'revokeRole', 'submitReport', 'submitSingleReport', 'sweepResidual', 'unpause',
    ]);
  });
  test('the admin cannot refund, reclaim or claim what others are owed', async () => {
    const id = await buyLicense(sys, lab, [ds1], 10n * USD);
    const job = await openJob(sys, lab, id, 5n * USD);
    const { report, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 3n, price: 1000n }]);
    await mined(sys.manager.submitReport(report, signature));
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    await expectRevert(sys.manager.connect(sys.admin).refund(job, await sys.admin.getAddress()), 'LicenseManager_NotLicenseHolder');
    await expectRevert(sys.manager.connect(sys.admin).reclaimUnallocated(id, await sys.admin.getAddress()), 'LicenseManager_NotLicenseHolder');
    await expectRevert(sys.manager.connect(sys.admin).claim([ds1]), 'RoyaltyPools_NotRecipient');
    expect(await balanceOf(sys, managerAddr)).toBe(10n * USD);
  });
});

describe('TrainingLicense', () => {
  test('is not transferable by default', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await expectRevert(
      sys.license.connect(lab).transferFrom(await lab.getAddress(), await other.getAddress(), id),
      'TrainingLicense_NonTransferable',
      [id],
    );
  });
  test('cannot be minted by anyone but the manager', async () => {
    await expectRevert(sys.license.mint(await lab.getAddress(), 99n), 'TrainingLicense_NotManager');
  });
  test('once the admin enables transfers, the new holder controls jobs and refunds', async () => {
    const id = await buyLicense(sys, lab, [ds1], USD);
    await mined(sys.license.setTransfersEnabled(true));
    await mined(sys.license.connect(lab).transferFrom(await lab.getAddress(), await other.getAddress(), id));
    await expectRevert(sys.manager.connect(lab).reclaimUnallocated(id, await lab.getAddress()), 'LicenseManager_NotLicenseHolder');
    const before = await balanceOf(sys, other);
    await mined(sys.manager.connect(other).reclaimUnallocated(id, await other.getAddress()));
    expect(await balanceOf(sys, other)).toBe(before + USD);
  });
});
