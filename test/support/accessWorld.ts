/**
 * Test fixture for the key gate's access conditions: the real Provena contracts deployed on the in-process Hardhat
 * chain by the contracts' fixture (`deploySystem`, which goes through `deployProvena`), driven into the states the
 * conditions must tell apart. Requesters are fresh wallets with their private keys (the gates seal released keys
 * to them), funded with ETH and the payment token:
 *
 * - `holder` holds `license` (datasets A and B, 30 days) and `expiredLicense` (dataset C, its expiry passed);
 * - `other` holds `otherLicense` (dataset C, active); `stranger` holds nothing;
 * - on `license`: `job` (the fixture's `worker` approved, open, 10 samples of A reported), `unapprovedJob` (no key
 *   approved) and `endedJob` (the worker approved, then the holder ended it).
 */
import { parseEther, Wallet } from 'ethers';
import { anyPrice, DAY, deploySystem, EVIDENCE, registerExplicit, signedReport, USD } from '../../contracts/test/helpers/fixture.js';
import type { System } from '../../contracts/test/helpers/fixture.js';

export interface AccessWorld {
  sys: System;
  /** Addresses of the deployed contracts. */
  manager: string;
  attestations: string;
  licenseToken: string;
  registry: string;
  /** On-chain dataset ids. */
  ds: { a: bigint; b: bigint; c: bigint };
  holder: Wallet;
  other: Wallet;
  stranger: Wallet;
  /** The fixture's attested worker key (`sys.worker`). */
  worker: Wallet;
  license: bigint;
  expiredLicense: bigint;
  otherLicense: bigint;
  job: bigint;
  unapprovedJob: bigint;
  endedJob: bigint;
  /** Samples of dataset A reported on `job` (`settledSamples(job, A)`). */
  reportedSamples: bigint;
}

async function mined(tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> {
  await (await tx).wait();
}

async function idFrom(tx: ReturnType<System['manager']['purchase']>, sys: System, event: 'LicensePurchased' | 'JobOpened'): Promise<bigint> {
  const receipt = await (await tx).wait();
  for (const log of receipt?.logs ?? []) {
    let parsed: ReturnType<System['manager']['interface']['parseLog']> = null;
    try {
      parsed = sys.manager.interface.parseLog(log); // logs of the token and the NFT are not the manager's
    } catch {
      parsed = null;
    }
    if (parsed?.name === event) return parsed.args[0] as bigint;
  }
  throw new Error(`no ${event} event`);
}

/** Deploys the contracts and drives them into the state described in the file comment. */
export async function deployAccessWorld(): Promise<AccessWorld> {
  const sys = await deploySystem();
  const provider = sys.chain.provider;
  const [owner, recipient] = sys.people as [System['people'][number], System['people'][number]];
  const split = { recipients: [await recipient.getAddress()], bps: [10_000] };
  const ds = {
    a: await registerExplicit(sys, owner, 1000n, split),
    b: await registerExplicit(sys, owner, 1000n, split),
    c: await registerExplicit(sys, owner, 1000n, split),
  };
  const manager = await sys.manager.getAddress();
  const fresh = () => new Wallet(Wallet.createRandom().privateKey, provider);
  const [holder, other, stranger] = [fresh(), fresh(), fresh()];
  for (const w of [holder, other]) {
    await mined(sys.admin.sendTransaction({ to: w.address, value: parseEther('10') }));
    await mined(sys.token.mint(w.address, 1000n * USD));
    await mined(sys.token.connect(w).approve(manager, 2n ** 255n));
  }
  const now = await sys.chain.latestTimestamp();
  const buy = (who: Wallet, ids: bigint[], expiry: bigint) =>
    idFrom(sys.manager.connect(who).purchase(ids, anyPrice(ids), 100n * USD, expiry), sys, 'LicensePurchased');
  const license = await buy(holder, [ds.a, ds.b], now + BigInt(30 * DAY));
  const expiredLicense = await buy(holder, [ds.c], now + 600n);
  const otherLicense = await buy(other, [ds.c], now + BigInt(30 * DAY));

  const open = () => idFrom(sys.manager.connect(holder).openJob(license, USD, 10n ** 30n), sys, 'JobOpened');
  const job = await open();
  const unapprovedJob = await open();
  const endedJob = await open();
  await mined(sys.attestations.approveWorker(job, sys.worker.address, EVIDENCE));
  await mined(sys.attestations.approveWorker(endedJob, sys.worker.address, EVIDENCE));
  await mined(sys.manager.connect(holder).endJob(endedJob));

  await sys.chain.increaseTime(601); // past expiredLicense's expiry; also lets the report below see elapsed time
  const reportedSamples = 10n;
  const { report, signature } = await signedReport(sys, job, [{ datasetId: ds.a, samples: reportedSamples, price: 1000n }]);
  await mined(sys.manager.submitReport(report, signature));

  return {
    sys,
    manager,
    attestations: await sys.attestations.getAddress(),
    licenseToken: await sys.license.getAddress(),
    registry: await sys.registry.getAddress(),
    ds,
    holder,
    other,
    stranger,
    worker: sys.worker,
    license,
    expiredLicense,
    otherLicense,
    job,
    unapprovedJob,
    endedJob,
    reportedSamples,
  };
}
