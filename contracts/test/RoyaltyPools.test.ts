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
    expect((await sys.manager.positionOf(dsE, a3)).claimed).toBe(exact);
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
  // Proven units are capped at the split's totalUnits: the late prover of an over-committing tree gets what is left,
  // the next none (UnitsExhausted), and the pool pays out exactly what it received.
  test('a Merkle split over-committing units cannot take more than its pool received', async () => {
    const [a1, a2, a3] = [await r1.getAddress(), await r2.getAddress(), await r3.getAddress()];
    const bad = buildRoyaltyTree([{ account: a1, units: 6n }, { account: a2, units: 6n }, { account: a3, units: 1n }]);
    const ds = await registerMerkle(sys, sys.people[0]!, 1n, bad.root, 10n); // declares 10 but leaves sum to 13
    const lic = await buyLicense(sys, lab, [ds], USD);
    const j = await openJob(sys, lab, lic, USD);
    const { report, signature } = await signedReport(sys, j, [{ datasetId: ds, samples: 100n, price: 1n }]);
    await mined(sys.manager.submitReport(report, signature));
    await mined(sys.manager.connect(r1).claimWithProofs([{ datasetId: ds, units: 6n, proof: bad.proof(a1) }], [ds]));
    const rc = await mined(sys.manager.connect(r2).claimWithProofs([{ datasetId: ds, units: 6n, proof: bad.proof(a2) }], [ds]));
    const proven = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === 'UnitsProven');
    expect(proven?.args.toArray()).toEqual([ds, a2, 4n]);
    expect([await balanceOf(sys, r1), await balanceOf(sys, r2)]).toEqual([60n, 40n]);
    expect((await sys.manager.positionOf(ds, a2)).units).toBe(4n);
    await expectRevert(
      sys.manager.connect(r3).claimWithProofs([{ datasetId: ds, units: 1n, proof: bad.proof(a3) }], [ds]),
      'RoyaltyPools_UnitsExhausted',
      [ds, a3],
    );
    expect(await sys.manager.residualOf(ds)).toEqual([expect.any(BigInt), 10n, 0n]);
  });
});

// Issue 8, item 10: before, a Merkle split whose leaves sum to less than `totalUnits` locked the difference in the
// pool forever (no leaf can claim it). Now proofs close MERKLE_PROOF_WINDOW after the pool's first sale, and the
// dataset owner sweeps the share of the units no proof holds.
describe('sweepResidual', () => {
  const YEAR = 365 * 86_400;
  const ZERO = `0x${'00'.repeat(20)}`;
  let owner: JsonRpcSigner;
  let ownerAddr: string;
  let short: RoyaltyTree;
  let dsS: bigint;

  /** A Merkle dataset declaring 100 units whose only leaves are r1 (5) and r2 (3): 92 units no leaf holds. */
  async function shortSplit(): Promise<{ ds: bigint; job: bigint; closesAt: bigint }> {
    owner = sys.people[0]!;
    ownerAddr = await owner.getAddress();
    short = buildRoyaltyTree([{ account: await r1.getAddress(), units: 5n }, { account: await r2.getAddress(), units: 3n }]);
    dsS = await registerMerkle(sys, owner, 1n, short.root, 100n);
    const lic = await buyLicense(sys, lab, [dsS], USD);
    const j = await openJob(sys, lab, lic, USD);
    const [closesAt] = await sys.manager.residualOf(dsS);
    return { ds: dsS, job: j, closesAt };
  }
  async function payShort(j: bigint, samples: bigint) {
    const { report, signature } = await signedReport(sys, j, [{ datasetId: dsS, samples, price: 1n }]);
    await mined(sys.manager.submitReport(report, signature));
  }
  /** The id of the last license bought (ids are sequential from 1; the NFT has no totalSupply). */
  const lastLicense = async () => {
    let id = 1n;
    while ((await sys.manager.getLicense(id + 1n)).budget !== 0n) id += 1n;
    return id;
  };
  const proofShort = async (s: JsonRpcSigner) => {
    const a = await s.getAddress();
    return { datasetId: dsS, units: short.unitsOf(a), proof: short.proof(a) };
  };

  test("the proof window closes MERKLE_PROOF_WINDOW after the pool's first sale", async () => {
    const { ds } = await shortSplit();
    const soldAt = (await sys.manager.getLicense(await lastLicense())).purchasedAt;
    const [closesAt, provenUnits, swept] = await sys.manager.residualOf(ds);
    expect(await sys.manager.MERKLE_PROOF_WINDOW()).toBe(BigInt(YEAR));
    expect(closesAt).toBe(soldAt + BigInt(YEAR));
    expect([provenUnits, swept]).toEqual([0n, 0n]);
  });

  test('before the window closes the sweep reverts ProofWindowOpen', async () => {
    const { ds, job: j, closesAt } = await shortSplit();
    await payShort(j, 1000n);
    await expectRevert(sys.manager.connect(owner).sweepResidual(ds, ownerAddr), 'RoyaltyPools_ProofWindowOpen', [ds, closesAt]);
  });

  test('after it, proofs are refused and the owner sweeps the unheld share; with the proven claims, the pool empties to the wei', async () => {
    const { ds, job: j, closesAt } = await shortSplit();
    await payShort(j, 1000n);
    await mined(sys.manager.connect(r1).claimWithProofs([await proofShort(r1)], [ds])); // 5/100 of 1000
    await sys.chain.setNextTimestamp(closesAt);
    await expectRevert(sys.manager.connect(r2).claimWithProofs([await proofShort(r2)], [ds]), 'RoyaltyPools_ProofWindowClosed', [ds, closesAt]);

    const rc = await mined(sys.manager.connect(owner).sweepResidual(ds, ownerAddr));

    // r2 never proved: its 3 units join the 92 no leaf holds.
    expect(await balanceOf(sys, r1)).toBe(50n);
    expect(await balanceOf(sys, owner)).toBe(950n);
    const [, provenUnits, swept] = await sys.manager.residualOf(ds);
    expect([provenUnits, swept]).toEqual([5n, 950n]);
    const pool = await sys.manager.getPool(ds);
    const claimed = (await sys.manager.positionOf(ds, await r1.getAddress())).claimed + swept;
    expect([pool.paidIn, claimed]).toEqual([1000n, 1000n]);
    const ev = rc.logs.map((l) => { try { return sys.manager.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === 'ResidualSwept');
    expect(ev?.args.toArray()).toEqual([ds, ownerAddr, 95n, 950n]);
    // A recipient that proved in time still claims later; the sweep never took its share.
    await mined(sys.manager.connect(r1).claim([ds]));
    expect(await balanceOf(sys, r1)).toBe(50n);
  });

  test('is cumulative: a sale after the sweep pays the owner only the new residual share', async () => {
    const { ds, job: j, closesAt } = await shortSplit();
    await mined(sys.manager.connect(r1).proveUnits(await r1.getAddress(), await proofShort(r1)));
    await mined(sys.manager.connect(r2).proveUnits(await r2.getAddress(), await proofShort(r2)));
    await payShort(j, 1000n);
    await sys.chain.setNextTimestamp(closesAt);
    await mined(sys.manager.connect(owner).sweepResidual(ds, ownerAddr));
    expect(await balanceOf(sys, owner)).toBe(920n);
    await mined(sys.manager.connect(owner).sweepResidual(ds, ownerAddr)); // nothing new
    expect(await balanceOf(sys, owner)).toBe(920n);

    const lic = await buyLicense(sys, lab, [ds], USD);
    const j2 = await openJob(sys, lab, lic, USD);
    await payShort(j2, 500n);
    await mined(sys.manager.connect(owner).sweepResidual(ds, ownerAddr));

    expect(await balanceOf(sys, owner)).toBe(920n + 460n);
  });

  test('only the current owner sweeps, to a non-zero address it names', async () => {
    const { ds, job: j, closesAt } = await shortSplit();
    await payShort(j, 1000n);
    await sys.chain.setNextTimestamp(closesAt);
    await sys.chain.rpc('evm_mine');
    await expectRevert(sys.manager.connect(r1).sweepResidual(ds, await r1.getAddress()), 'RoyaltyPools_NotDatasetOwner', [ds, await r1.getAddress()]);
    await expectRevert(sys.manager.connect(owner).sweepResidual(ds, ZERO), 'RoyaltyPools_ZeroAddress');
    const to = Wallet.createRandom().address;
    await mined(sys.manager.connect(owner).sweepResidual(ds, to));
    expect(await balanceOf(sys, to)).toBe(1000n);
  });

  test('an explicit split or a Merkle dataset never sold has no residual: NoMerklePool', async () => {
    const unsold = await registerMerkle(sys, sys.people[0]!, 1n, tree.root, tree.totalUnits);
    await expectRevert(sys.manager.connect(sys.people[0]!).sweepResidual(dsE, await sys.people[0]!.getAddress()), 'RoyaltyPools_NoMerklePool', [dsE]);
    await expectRevert(sys.manager.connect(sys.people[0]!).sweepResidual(unsold, await sys.people[0]!.getAddress()), 'RoyaltyPools_NoMerklePool', [unsold]);
  });
});
