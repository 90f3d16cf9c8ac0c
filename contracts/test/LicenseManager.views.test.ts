/**
 * The views the key gate's access conditions call with eth_call (see LicenseManager.views.tree):
 * isLicenseActive, datasetsOfJob, holdsValidLicense, isJobActive, jobGrantsKeys. None of them may revert, whatever the ids.
 */
import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { JsonRpcSigner } from 'ethers';
import { expectRevert } from './helpers/errors.js';
import { buyLicense, DAY, deploySystem, GRACE, mined, openJob, registerExplicit, signedReport, USD, type System } from './helpers/fixture.js';

let sys: System;
let snap: string;
let lab: JsonRpcSigner;
let other: JsonRpcSigner;
let operator: JsonRpcSigner;
let labAddr: string;
let otherAddr: string;
let ds1: bigint;
let ds2: bigint;
let ds3: bigint;

const MAX_UINT = 2n ** 256n - 1n;

beforeAll(async () => {
  sys = await deploySystem();
  [lab, other, operator] = sys.labs as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  [labAddr, otherAddr] = await Promise.all([lab.getAddress(), other.getAddress()]);
  const owner = sys.people[0]!;
  const split = { recipients: [await sys.people[1]!.getAddress()], bps: [10_000] };
  ds1 = await registerExplicit(sys, owner, 1000n, split);
  ds2 = await registerExplicit(sys, owner, 250n, split);
  ds3 = await registerExplicit(sys, owner, 500n, split);
  snap = await sys.chain.snapshot();
});
beforeEach(async () => {
  await sys.chain.revertTo(snap);
  snap = await sys.chain.snapshot();
});

/** Buys a license for `datasets` expiring `seconds` after the latest block; returns its id and expiry. */
async function licenseExpiringIn(seconds: number, datasets: bigint[] = [ds1, ds2]): Promise<{ id: bigint; expiry: bigint }> {
  const expiry = (await sys.chain.latestTimestamp()) + BigInt(seconds);
  return { id: await buyLicense(sys, lab, datasets, 100n * USD, expiry), expiry };
}

describe('isLicenseActive', () => {
  test('is false for ids never bought, without reverting, and true for a bought license', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);

    expect(await sys.manager.isLicenseActive(id)).toBe(true);
    expect(await sys.manager.isLicenseActive(0n)).toBe(false);
    expect(await sys.manager.isLicenseActive(id + 1n)).toBe(false);
    expect(await sys.manager.isLicenseActive(MAX_UINT)).toBe(false);
  });

  test('is true until the expiry and false from the expiry on', async () => {
    const { id, expiry } = await licenseExpiringIn(DAY);

    await sys.chain.setNextTimestamp(expiry - 1n);
    await sys.chain.rpc('evm_mine');
    const lastSecond = await sys.manager.isLicenseActive(id, { blockTag: 'latest' });
    await sys.chain.rpc('evm_mine'); // the next block is at `expiry`
    const atExpiry = await sys.manager.isLicenseActive(id, { blockTag: 'latest' });

    expect(await sys.chain.latestTimestamp()).toBe(expiry);
    expect(lastSecond).toBe(true);
    expect(atExpiry).toBe(false);
  });

  test('agrees with openJob: once false, opening a job reverts as expired', async () => {
    const { id } = await licenseExpiringIn(DAY);
    const before = await sys.manager.isLicenseActive(id);

    await sys.chain.increaseTime(DAY + 1);

    expect(before).toBe(true);
    expect(await sys.manager.isLicenseActive(id)).toBe(false);
    await expectRevert(sys.manager.connect(lab).openJob(id, USD, 1n), 'LicenseManager_LicenseExpired');
  });
});

describe('datasetsOfJob', () => {
  test('is empty for jobs never opened, without reverting', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);
    const job = await openJob(sys, lab, id, USD);

    expect(await sys.manager.datasetsOfJob(job)).toEqual([ds1, ds2]);
    expect(await sys.manager.datasetsOfJob(0n)).toEqual([]);
    expect(await sys.manager.datasetsOfJob(job + 1n)).toEqual([]);
    expect(await sys.manager.datasetsOfJob(MAX_UINT)).toEqual([]);
  });

  test("returns the job's license datasets in purchase order, and only those", async () => {
    const { id } = await licenseExpiringIn(30 * DAY, [ds3, ds1]);
    const job = await openJob(sys, lab, id, USD);

    const datasets = await sys.manager.datasetsOfJob(job);

    expect(datasets).toEqual([ds3, ds1]);
    expect(datasets).toEqual(await sys.manager.datasetsOf(id));
    expect(datasets).not.toContain(ds2);
  });

  test('tells two jobs on different licenses apart', async () => {
    const a = await licenseExpiringIn(30 * DAY, [ds1]);
    const b = await licenseExpiringIn(30 * DAY, [ds2, ds3]);
    const jobA = await openJob(sys, lab, a.id, USD);
    const jobB = await openJob(sys, lab, b.id, USD);

    expect(await sys.manager.datasetsOfJob(jobA)).toEqual([ds1]);
    expect(await sys.manager.datasetsOfJob(jobB)).toEqual([ds2, ds3]);
    expect(await sys.manager.datasetsOfJob(jobA)).not.toContain(ds2);
  });

  test('keeps returning the datasets after the job ended', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);
    const job = await openJob(sys, lab, id, USD);

    await mined(sys.manager.connect(lab).endJob(job));

    expect((await sys.manager.getJob(job)).endedAt).not.toBe(0n);
    expect(await sys.manager.datasetsOfJob(job)).toEqual([ds1, ds2]);
    expect(await sys.manager.datasetsOfJob(job)).not.toContain(ds3);
  });
});

describe('holdsValidLicense', () => {
  test('is true for the holder of an active license and one of its datasets', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);

    expect(await sys.manager.holdsValidLicense(labAddr, id, ds1)).toBe(true);
    expect(await sys.manager.holdsValidLicense(labAddr, id, ds2)).toBe(true);
    expect(await sys.manager.holdsValidLicense(labAddr, id, ds3)).toBe(false);
  });

  test('is false for an unknown license, without reverting', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);

    expect(await sys.manager.holdsValidLicense(labAddr, id, ds1)).toBe(true);
    expect(await sys.manager.holdsValidLicense(labAddr, 0n, ds1)).toBe(false);
    expect(await sys.manager.holdsValidLicense(labAddr, id + 1n, ds1)).toBe(false);
    expect(await sys.manager.holdsValidLicense(labAddr, MAX_UINT, MAX_UINT)).toBe(false);
  });

  test('is false for a dataset the license does not cover, even one the holder licenses under another id', async () => {
    const a = await licenseExpiringIn(30 * DAY, [ds1]);
    const b = await licenseExpiringIn(30 * DAY, [ds2]);

    expect(await sys.manager.holdsValidLicense(labAddr, a.id, ds1)).toBe(true);
    expect(await sys.manager.holdsValidLicense(labAddr, a.id, ds2)).toBe(false);
    expect(await sys.manager.holdsValidLicense(labAddr, b.id, ds2)).toBe(true);
    expect(await sys.manager.holdsValidLicense(labAddr, a.id, ds3)).toBe(false);
  });

  test('is false for any address but the license NFT owner', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);

    expect(await sys.manager.holdsValidLicense(labAddr, id, ds1)).toBe(true);
    expect(await sys.manager.holdsValidLicense(otherAddr, id, ds1)).toBe(false);
    expect(await sys.manager.holdsValidLicense(await sys.manager.getAddress(), id, ds1)).toBe(false);
    expect(await sys.manager.holdsValidLicense(`0x${'00'.repeat(20)}`, id, ds1)).toBe(false);
  });

  test('follows the NFT: after an approved transfer the old holder gets false and the new one true', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);
    await mined(sys.license.setTransfersEnabled(true));
    await mined(sys.license.connect(lab).approve(await operator.getAddress(), id));

    await mined(sys.license.connect(operator).transferFrom(labAddr, otherAddr, id));

    expect(await sys.license.ownerOf(id)).toBe(otherAddr);
    expect(await sys.manager.holdsValidLicense(labAddr, id, ds1)).toBe(false);
    expect(await sys.manager.holdsValidLicense(otherAddr, id, ds1)).toBe(true);
    expect(await sys.manager.holdsValidLicense(await operator.getAddress(), id, ds1)).toBe(false);
  });

  test('turns false, without reverting, once the license expires', async () => {
    const { id } = await licenseExpiringIn(DAY);
    const before = await sys.manager.holdsValidLicense(labAddr, id, ds1);

    await sys.chain.increaseTime(DAY);

    expect(before).toBe(true);
    expect(await sys.manager.holdsValidLicense(labAddr, id, ds1)).toBe(false);
    expect(await sys.manager.holdsValidLicense(labAddr, id, ds2)).toBe(false);
  });
});

// Issue 8, item 9: before, nothing on chain said whether a job was still running, so an ended or refunded job's
// worker kept receiving keys. These views are what the key gate's worker condition now asks.
describe('isJobActive and jobGrantsKeys', () => {
  test('are false for jobs never opened, without reverting', async () => {
    for (const job of [0n, 1n, 999n, MAX_UINT]) {
      expect(await sys.manager.isJobActive(job)).toBe(false);
      expect(await sys.manager.jobGrantsKeys(job, ds1)).toBe(false);
    }
  });

  test('are true for an open, funded job, and jobGrantsKeys only for the datasets it covers', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);
    const job = await openJob(sys, lab, id, USD);

    expect(await sys.manager.isJobActive(job)).toBe(true);
    expect(await sys.manager.jobGrantsKeys(job, ds1)).toBe(true);
    expect(await sys.manager.jobGrantsKeys(job, ds2)).toBe(true);
    expect(await sys.manager.jobGrantsKeys(job, ds3)).toBe(false);
  });

  test('turn false the moment the lab ends the job, though the worker stays approved for its last reports', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);
    const job = await openJob(sys, lab, id, USD);
    const before = await sys.manager.isJobActive(job);

    await mined(sys.manager.connect(lab).endJob(job));

    expect(before).toBe(true);
    expect(await sys.manager.isJobActive(job)).toBe(false);
    expect(await sys.manager.jobGrantsKeys(job, ds1)).toBe(false);
    expect(await sys.attestations.isApproved(job, sys.worker.address)).toBe(true);
  });

  test('stay false after the refund', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);
    const job = await openJob(sys, lab, id, USD);
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);

    await mined(sys.manager.connect(lab).refund(job, labAddr));

    expect((await sys.manager.getJob(job)).refunded).toBe(true);
    expect(await sys.manager.isJobActive(job)).toBe(false);
    expect(await sys.manager.jobGrantsKeys(job, ds1)).toBe(false);
  });

  test('turn false once the budget is spent', async () => {
    const { id } = await licenseExpiringIn(30 * DAY);
    const job = await openJob(sys, lab, id, 10_000n);
    const { report, signature } = await signedReport(sys, job, [{ datasetId: ds1, samples: 9n, price: 1000n }]);
    await mined(sys.manager.submitReport(report, signature));
    const funded = await sys.manager.isJobActive(job); // 1,000 left
    const last = await signedReport(sys, job, [{ datasetId: ds1, samples: 10n, price: 1000n }]);

    await mined(sys.manager.submitReport(last.report, last.signature));

    expect(funded).toBe(true);
    expect(await sys.manager.isJobActive(job)).toBe(false);
  });

  test('turn false at the license expiry, the boundary where reports stop accruing', async () => {
    const { id, expiry } = await licenseExpiringIn(DAY);
    const job = await openJob(sys, lab, id, USD);
    await sys.chain.setNextTimestamp(expiry - 1n);
    await sys.chain.rpc('evm_mine');
    const before = await sys.manager.isJobActive(job);

    await sys.chain.increaseTime(1);

    expect(before).toBe(true);
    expect(await sys.chain.latestTimestamp()).toBe(expiry);
    expect(await sys.manager.isJobActive(job)).toBe(false);
  });
});

describe('the views are views', () => {
  test('all of them are declared view in the ABI, so they cannot change state or cost a transaction', () => {
    type Name = 'isLicenseActive' | 'datasetsOfJob' | 'holdsValidLicense' | 'isJobActive' | 'jobGrantsKeys' | 'receiptOf' | 'openJob';
    const mutability = (name: Name) => sys.manager.interface.getFunction(name).stateMutability;

    expect((['isLicenseActive', 'datasetsOfJob', 'holdsValidLicense', 'isJobActive', 'jobGrantsKeys', 'receiptOf'] as const).map(mutability)).toEqual([
      'view', 'view', 'view', 'view', 'view', 'view',
    ]);
    expect(mutability('openJob')).toBe('nonpayable');
  });
});
