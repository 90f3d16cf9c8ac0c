import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Wallet, type JsonRpcSigner } from 'ethers';
import { licenseManagerDomain, signClaim } from '../../shared/eip712.js';
import { buildRoyaltyTree, type RoyaltyTree } from '../merkle.js';
import { expectRevert } from './helpers/errors.js';
import {
  balanceOf, buyLicense, deploySystem, mined, openJob, registerExplicit, registerMerkle, signedReport, USD, type System,
} from './helpers/fixture.js';

let sys: System;
let snap: string;
let lab: JsonRpcSigner;
let r1: JsonRpcSigner;
let r2: JsonRpcSigner;
let r3: JsonRpcSigner;
let tree: RoyaltyTree;
let dsE: bigint; // explicit 1/3-ish split: 3334/3333/3333 between r1, r2, r3
let dsM: bigint; // Merkle split: r1 5 units, r2 3 units, 50 random contributors 1 unit each (total 58)
let job: bigint;
const PRICE = 1000n;

beforeAll(async () => {
  sys = await deploySystem();
  lab = sys.labs[0]!;
  [r1, r2, r3] = [sys.people[1]!, sys.people[2]!, sys.people[3]!];
  const [a1, a2, a3] = await Promise.all([r1, r2, r3].map((s) => s.getAddress())) as [string, string, string];
  dsE = await registerExplicit(sys, sys.people[0]!, 7n, { recipients: [a1, a2, a3], bps: [3334, 3333, 3333] });
  tree = buildRoyaltyTree([
    { account: a1, units: 5n },
    { account: a2, units: 3n },
    ...Array.from({ length: 50 }, () => ({ account: Wallet.createRandom().address, units: 1n })),
  ]);
  dsM = await registerMerkle(sys, sys.people[0]!, PRICE, tree.root, tree.totalUnits);
  const lic = await buyLicense(sys, lab, [dsE, dsM], 1000n * USD);
  job = await openJob(sys, lab, lic, 1000n * USD);
  snap = await sys.chain.snapshot();
});
beforeEach(async () => {
  await sys.chain.revertTo(snap);
  snap = await sys.chain.snapshot();
});

async function pay(samplesE: bigint, samplesM: bigint) {
  const { report, signature } = await signedReport(sys, job, [
    { datasetId: dsE, samples: samplesE, price: 7n },
    { datasetId: dsM, samples: samplesM, price: PRICE },
  ]);
  await mined(sys.manager.submitReport(report, signature));
}
const proofOf = async (s: JsonRpcSigner) => {
  const a = await s.getAddress();
  return { datasetId: dsM, units: tree.unitsOf(a), proof: tree.proof(a) };
};

describe('claim', () => {
  test('a non-recipient reverts', async () => {
    await pay(10n, 10n);
    await expectRevert(sys.manager.connect(lab).claim([dsE]), 'RoyaltyPools_NotRecipient', [dsE, await lab.getAddress()]);
  });
  test('a Merkle recipient without proven units reverts', async () => {
    await pay(10n, 10n);
    await expectRevert(sys.manager.connect(r1).claim([dsM]), 'RoyaltyPools_NotRecipient', [dsM, await r1.getAddress()]);
  });
  test('with nothing accrued transfers nothing', async () => {
    const rc = await mined(sys.manager.connect(r1).claim([dsE]));
    expect(sys.manager.interface.parseLog(rc.logs[0]!)?.args.toArray()).toEqual([await r1.getAddress(), await r1.getAddress(), 0n]);
    expect(await balanceOf(sys, r1)).toBe(0n);
  });
  test('sends the recipient\'s share across datasets in one transfer', async () => {
    await pay(300n, 58n);
    await mined(sys.manager.connect(r1).claimWithProofs([await proofOf(r1)], [dsE, dsM]));
    // dsE: 2100 x 3334 / 10000 = 700.14 -> 700; dsM: 58000 x 5 / 58 = 5000
    expect(await balanceOf(sys, r1)).toBe(700n + 5000n);
  });
  test('carries rounding: many small payments and claims never exceed the exact share, and converge to it', async () => {
    const a3 = await r3.getAddress();
    for (let s = 1n; s <= 30n; s++) {
      await pay(s, 0n);
      await mined(sys.manager.connect(r3).claim([dsE]));
    }
    const exact = (30n * 7n * 3333n) / 10_000n; // floor of the exact share
    expect(await balanceOf(sys, a3)).toBe(exact);
    const pool = await sys.manager.getPool(dsE);
    expect(pool.paidIn).toBe(30n * 7n);
    expect(pool.claimed).toBe(exact);
  });
});

describe('claimWithProofs / proveUnits', () => {
  test('a proof for another account, other units or an explicit dataset reverts', async () => {
    const p1 = await proofOf(r1);
    await expectRevert(sys.manager.connect(r2).claimWithProofs([p1], [dsM]), 'RoyaltyPools_InvalidProof', [dsM, await r2.getAddress()]);
    await expectRevert(sys.manager.connect(r1).claimWithProofs([{ ...p1, units: 6n }], [dsM]), 'RoyaltyPools_InvalidProof');
    await expectRevert(sys.manager.connect(r1).claimWithProofs([{ ...p1, datasetId: dsE }], [dsE]), 'RoyaltyPools_InvalidProof');
  });
  test('zero units revert', async () => {
    await expectRevert(sys.manager.proveUnits(await r1.getAddress(), { ...(await proofOf(r1)), units: 0n }), 'RoyaltyPools_NotRecipient');
  });
  test('anyone can prove units for an account; proving again is a no-op', async () => {
    const a1 = await r1.getAddress();
    const rc = await mined(sys.manager.connect(lab).proveUnits(a1, await proofOf(r1)));
    expect(sys.manager.interface.parseLog(rc.logs[0]!)?.args.toArray()).toEqual([dsM, a1, 5n]);
    expect((await sys.manager.positionOf(dsM, a1)).units).toBe(5n);
    const again = await mined(sys.manager.connect(lab).proveUnits(a1, { ...(await proofOf(r1)), proof: [] }));
    expect(again.logs).toHaveLength(0);
  });
  test('the first claim pays with a proof, later claims need none', async () => {
    await pay(0n, 58n);
    await mined(sys.manager.connect(r2).claimWithProofs([await proofOf(r2)], [dsM]));
    expect(await balanceOf(sys, r2)).toBe(3000n);
    await pay(0n, 116n);
    await mined(sys.manager.connect(r2).claim([dsM]));
    expect(await balanceOf(sys, r2)).toBe(6000n);
  });
});

describe('claimWithSig', () => {
  const sign = async (signer: JsonRpcSigner, to: string, nonce: bigint, deadline: bigint, ids = [dsE]) =>
    signClaim(signer, licenseManagerDomain(sys.chain.chainId, await sys.manager.getAddress()), {
      recipient: await signer.getAddress(), datasetIds: ids, to, nonce, deadline,
    });

  test('a zero `to` reverts', async () => {
    const a1 = await r1.getAddress();
    await expectRevert(sys.manager.claimWithSig(a1, [], [dsE], `0x${'00'.repeat(20)}`, 2n ** 40n, '0x'), 'RoyaltyPools_ZeroAddress');
  });
  test('an expired deadline reverts', async () => {
    const a1 = await r1.getAddress();
    const deadline = (await sys.chain.latestTimestamp()) - 1n;
    await expectRevert(sys.manager.claimWithSig(a1, [], [dsE], a1, deadline, await sign(r1, a1, 0n, deadline)), 'RoyaltyPools_SignatureExpired');
  });
  test('a signature by another signer, for another `to`, or replayed reverts', async () => {
    await pay(100n, 0n);
    const a1 = await r1.getAddress();
    const relayer = sys.labs[1]!;
    const deadline = (await sys.chain.latestTimestamp()) + 3600n;
    await expectRevert(sys.manager.connect(relayer).claimWithSig(a1, [], [dsE], a1, deadline, await sign(r2, a1, 0n, deadline)), 'RoyaltyPools_InvalidSignature', [a1]);
    const sig = await sign(r1, a1, 0n, deadline);
    await expectRevert(sys.manager.connect(relayer).claimWithSig(a1, [], [dsE], await relayer.getAddress(), deadline, sig), 'RoyaltyPools_InvalidSignature');
    await mined(sys.manager.connect(relayer).claimWithSig(a1, [], [dsE], a1, deadline, sig));
    await expectRevert(sys.manager.connect(relayer).claimWithSig(a1, [], [dsE], a1, deadline, sig), 'RoyaltyPools_InvalidSignature');
  });
  test('a relayer claims for the recipient to its chosen address, with Merkle proofs in the same call', async () => {
    await pay(100n, 58n);
    const a1 = await r1.getAddress();
    const to = Wallet.createRandom().address;
    const deadline = (await sys.chain.latestTimestamp()) + 3600n;
    const sig = await sign(r1, to, 0n, deadline, [dsE, dsM]);
    await mined(sys.manager.connect(sys.labs[2]!).claimWithSig(a1, [await proofOf(r1)], [dsE, dsM], to, deadline, sig));
    expect(await balanceOf(sys, to)).toBe((700n * 3334n) / 10_000n + 5000n);
    expect(await sys.manager.claimNonces(a1)).toBe(1n);
  });
});

describe('lab cost', () => {
  test('a report costs the same gas whether the dataset has 1 or 32 recipients', async () => {
    const one = [await r1.getAddress()];
    const many = Array.from({ length: 32 }, () => Wallet.createRandom().address);
    const ds1 = await registerExplicit(sys, sys.people[0]!, 5n, { recipients: one, bps: [10000] });
    const ds32 = await registerExplicit(sys, sys.people[0]!, 5n, { recipients: many, bps: many.map((_, i) => (i === 0 ? 10000 - 31 * 312 : 312)) });
    const gas: bigint[] = [];
    for (const ds of [ds1, ds32]) {
      const j = await openJob(sys, lab, await buyLicense(sys, lab, [ds], USD), USD);
      for (const samples of [10n, 20n]) {
        const { report, signature } = await signedReport(sys, j, [{ datasetId: ds, samples, price: 5n }]);
        const rc = await mined(sys.manager.submitReport(report, signature));
        if (samples === 20n) gas.push(rc.gasUsed);
      }
    }
    expect(gas[0]).toBe(gas[1]);
  });
});

describe('pool solvency', () => {
  test('a Merkle split over-committing units cannot take more than its pool received', async () => {
    const [a1, a2] = [await r1.getAddress(), await r2.getAddress()];
    const bad = buildRoyaltyTree([{ account: a1, units: 10n }, { account: a2, units: 10n }]);
    const ds = await registerMerkle(sys, sys.people[0]!, 1n, bad.root, 10n); // declares 10 but leaves sum to 20
    const lic = await buyLicense(sys, lab, [ds], USD);
    const j = await openJob(sys, lab, lic, USD);
    const { report, signature } = await signedReport(sys, j, [{ datasetId: ds, samples: 100n, price: 1n }]);
    await mined(sys.manager.submitReport(report, signature));
    await mined(sys.manager.connect(r1).claimWithProofs([{ datasetId: ds, units: 10n, proof: bad.proof(a1) }], [ds]));
    expect(await balanceOf(sys, r1)).toBe(100n);
    await expectRevert(
      sys.manager.connect(r2).claimWithProofs([{ datasetId: ds, units: 10n, proof: bad.proof(a2) }], [ds]),
      'RoyaltyPools_PoolOverdrawn',
      [ds, 100n, 0n],
    );
  });
});
