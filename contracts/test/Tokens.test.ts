/**
 * Payment-token edge cases: fee-on-transfer (rejected by measuring what arrives), USDT-like tokens without return
 * values (SafeERC20), and a token that hands control to the receiver mid-transfer (re-entry cannot take more).
 */
import { describe, expect, test } from '@jest/globals';
import type { Interface, JsonRpcSigner } from 'ethers';
import { ReentrantReceiver__factory, ReentrantToken__factory, type ReentrantReceiver } from '../typechain/index.js';
import { decodeRevert, expectRevert } from './helpers/errors.js';
import {
  anyPrice,
  balanceOf, buyLicense, DAY, deploySystem, GRACE, mined, openJob, registerExplicit, signedReport, USD, type System,
} from './helpers/fixture.js';

async function withDataset(sys: System, recipients: string[], bps: number[]) {
  return registerExplicit(sys, sys.people[0]!, 100n, { recipients, bps });
}

describe('fee-on-transfer token', () => {
  test('a purchase reverts with LicenseManager_FeeOnTransferToken and nothing is escrowed', async () => {
    const sys = await deploySystem('feeOnTransfer', { labs: 1 });
    const ds = await withDataset(sys, [await sys.people[1]!.getAddress()], [10000]);
    const exp = (await sys.chain.latestTimestamp()) + BigInt(DAY);
    await expectRevert(sys.manager.connect(sys.labs[0]!).purchase([ds], anyPrice([ds]), 1000n * USD, exp), 'LicenseManager_FeeOnTransferToken', [
      1000n * USD, 990n * USD,
    ]);
    expect(await balanceOf(sys, await sys.manager.getAddress())).toBe(0n);
  });
});

describe('token without return values (USDT-like)', () => {
  test('purchase, report, claim and refund all work through SafeERC20', async () => {
    const sys = await deploySystem('noReturn', { labs: 1 });
    const lab = sys.labs[0]!;
    const r = sys.people[1]!;
    const ds = await withDataset(sys, [await r.getAddress()], [10000]);
    const job = await openJob(sys, lab, await buyLicense(sys, lab, [ds], 10n * USD), 10n * USD);
    const { report, signature } = await signedReport(sys, job, [{ datasetId: ds, samples: 40n, price: 100n }]);
    await mined(sys.manager.submitReport(report, signature));
    await mined(sys.manager.connect(r).claim([ds]));
    expect(await balanceOf(sys, r)).toBe(4000n);
    await mined(sys.manager.connect(lab).endJob(job));
    await sys.chain.increaseTime(GRACE + 1);
    const before = await balanceOf(sys, lab);
    await mined(sys.manager.connect(lab).refund(job, await lab.getAddress()));
    expect(await balanceOf(sys, lab)).toBe(before + 10n * USD - 4000n);
    expect(await balanceOf(sys, await sys.manager.getAddress())).toBe(0n);
  });
});

describe('re-entrant token and receivers', () => {
  async function setup() {
    const sys = await deploySystem('reentrant', { labs: 1 });
    const token = ReentrantToken__factory.connect(await sys.token.getAddress(), sys.admin);
    const attacker: ReentrantReceiver = await new ReentrantReceiver__factory(sys.admin).deploy();
    await attacker.waitForDeployment();
    const attackerAddr = await attacker.getAddress();
    await mined(token.setHooked(attackerAddr, true));
    return { sys, token, attacker, attackerAddr };
  }

  /** The attacker and an honest recipient split one dataset 50/50; a report paid 10,000 into its pool. */
  async function fundedPool() {
    const { sys, attacker, attackerAddr } = await setup();
    const lab: JsonRpcSigner = sys.labs[0]!;
    const honest = await sys.people[1]!.getAddress();
    const ds = await withDataset(sys, [attackerAddr, honest], [5000, 5000]);
    const job = await openJob(sys, lab, await buyLicense(sys, lab, [ds], 10n * USD), 10n * USD);
    const { report, signature } = await signedReport(sys, job, [{ datasetId: ds, samples: 100n, price: 100n }]);
    await mined(sys.manager.submitReport(report, signature));
    return { sys, attacker, attackerAddr, honest, ds };
  }

  test('a recipient re-entering claim during its payout gets exactly what it is owed', async () => {
    const { sys, attacker, attackerAddr, honest, ds } = await fundedPool();
    const claimData = sys.manager.interface.encodeFunctionData('claim', [[ds]]);
    await mined(attacker.setAttack(await sys.manager.getAddress(), claimData));
    await mined(attacker.execute(await sys.manager.getAddress(), claimData));
    expect(await attacker.attempts()).toBe(1n);
    expect(await attacker.lastReentrySucceeded()).toBe(false);
    expect(decodeRevert({ data: await attacker.lastReentryError() })?.name).toBe('ReentrancyGuardReentrantCall');
    expect(await balanceOf(sys, attackerAddr)).toBe(5000n);
    await mined(sys.manager.connect(sys.people[1]!).claim([ds]));
    expect(await balanceOf(sys, honest)).toBe(5000n);
    expect(await balanceOf(sys, await sys.manager.getAddress())).toBe(10n * USD - 10_000n);
  });

  // claimOne holds no lock (its gas target): the position is final before the transfer, so a re-entry, into claimOne
  // or into a locked entry point, runs and pays nothing more. Fails if claimOne transferred before writing the position.
  for (const reentry of ['claimOne', 'claim'] as const) {
    test(`a recipient re-entering ${reentry} during its claimOne payout runs, is paid 0 more, and the pool stays exact`, async () => {
      const { sys, attacker, attackerAddr, honest, ds } = await fundedPool();
      const manager = await sys.manager.getAddress();
      const again = reentry === 'claimOne' ? sys.manager.interface.encodeFunctionData('claimOne', [ds]) : sys.manager.interface.encodeFunctionData('claim', [[ds]]);
      await mined(attacker.setAttack(manager, again));
      await mined(attacker.execute(manager, sys.manager.interface.encodeFunctionData('claimOne', [ds])));
      expect(await attacker.attempts()).toBe(1n);
      expect(await attacker.lastReentrySucceeded()).toBe(true);
      expect((sys.manager.interface as Interface).decodeFunctionResult(reentry, await attacker.lastReentryError())[0]).toBe(0n);
      expect(await balanceOf(sys, attackerAddr)).toBe(5000n);
      await mined(sys.manager.connect(sys.people[1]!).claimOne(ds));
      expect(await balanceOf(sys, honest)).toBe(5000n);
      expect(await balanceOf(sys, manager)).toBe(10n * USD - 10_000n);
    });
  }

  test('a lab contract re-entering refund during its refund gets the unused budget once', async () => {
    const { sys, token, attacker, attackerAddr } = await setup();
    const managerAddr = await sys.manager.getAddress();
    const ds = await withDataset(sys, [await sys.people[1]!.getAddress()], [10000]);
    await mined(token.mint(attackerAddr, 10n * USD));
    await mined(attacker.execute(await token.getAddress(), token.interface.encodeFunctionData('approve', [managerAddr, 10n * USD])));
    const exp = (await sys.chain.latestTimestamp()) + BigInt(DAY);
    await mined(attacker.execute(managerAddr, sys.manager.interface.encodeFunctionData('purchase', [[ds], anyPrice([ds]), 10n * USD, exp])));
    await mined(attacker.execute(managerAddr, sys.manager.interface.encodeFunctionData('openJob', [1n, 4n * USD, 10n ** 20n])));
    await sys.chain.increaseTime(DAY + GRACE + 1);
    const refundData = sys.manager.interface.encodeFunctionData('refund', [1n, attackerAddr]);
    await mined(attacker.setAttack(managerAddr, sys.manager.interface.encodeFunctionData('reclaimUnallocated', [1n, attackerAddr])));
    await mined(attacker.execute(managerAddr, refundData));
    expect(await attacker.lastReentrySucceeded()).toBe(false);
    expect(await balanceOf(sys, attackerAddr)).toBe(4n * USD);
    await expectRevert(attacker.execute(managerAddr, refundData), 'LicenseManager_AlreadyRefunded');
    await mined(attacker.execute(managerAddr, sys.manager.interface.encodeFunctionData('reclaimUnallocated', [1n, attackerAddr])));
    expect(await balanceOf(sys, attackerAddr)).toBe(10n * USD);
    expect(await balanceOf(sys, managerAddr)).toBe(0n);
  });
});
