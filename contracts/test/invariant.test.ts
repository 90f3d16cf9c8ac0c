/**
 * Invariant suite: random sequences of purchase / open job / report / time / end / refund / reclaim / claim /
 * delist / price update / final report / residual sweep across 3 labs, 4 datasets (3 explicit splits, 1 Merkle) and 4 recipients, checked after
 * every step against ghost accounting. The invariants are listed in contracts/README.md.
 *
 * Transactions go straight to Hardhat's provider (eth_sendTransaction, automine) for speed; a reverted action
 * must fail with one of the custom errors its preconditions allow, and leaves the ghost untouched.
 * INVARIANT_RUNS (default 200) and INVARIANT_DEPTH (default 50) tune the size; INVARIANT_SEED replays a run.
 */
import { beforeAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { Wallet, type Interface } from 'ethers';
import { licenseManagerDomain, signFinalReport, signUsageReport } from '../../shared/eip712.js';
import { buildRoyaltyTree, type RoyaltyTree } from '../merkle.js';
import { decodeRevert } from './helpers/errors.js';
import { deploySystem, EVIDENCE, MAX_PRICE, registerExplicit, registerMerkle, USD, type System } from './helpers/fixture.js';

const RUNS = Number(process.env.INVARIANT_RUNS ?? 200);
const DEPTH = Number(process.env.INVARIANT_DEPTH ?? 50);
const SEED = process.env.INVARIANT_SEED ? Number(process.env.INVARIANT_SEED) : undefined;

interface GhostLicense { lab: number; unallocated: bigint; prices: Map<number, bigint> }
interface GhostJob { license: number; budget: bigint; spent: bigint; settled: bigint[]; refunded: boolean; ended: boolean; finalized: boolean }
interface DatasetSpec { id: bigint; price: bigint; units: Map<number, bigint>; totalUnits: bigint; merkle: boolean; listed: boolean }

let sys: System;
let snap: string;
let managerAddr: string;
let tokenAddr: string;
let registryAddr: string;
let attestAddr: string;
let labs: string[];
let recipients: string[];
let owner: string;
let attestorAddr: string;
/** Where labs send refunds when they name another address (a blocklisted lab's recovery address). */
const recovery = Wallet.createRandom().address;
let tree: RoyaltyTree;
let baseDatasets: DatasetSpec[];
let domain: ReturnType<typeof licenseManagerDomain>;

beforeAll(async () => {
  sys = await deploySystem('mock', { labs: 3 });
  managerAddr = await sys.manager.getAddress();
  tokenAddr = await sys.token.getAddress();
  registryAddr = await sys.registry.getAddress();
  attestAddr = await sys.attestations.getAddress();
  labs = await Promise.all(sys.labs.map((l) => l.getAddress()));
  owner = await sys.people[0]!.getAddress();
  attestorAddr = await sys.attestor.getAddress();
  recipients = await Promise.all(sys.people.slice(1, 5).map((p) => p.getAddress()));
  const [R0, R1, R2, R3] = recipients as [string, string, string, string];
  tree = buildRoyaltyTree([
    { account: R2, units: 3n },
    { account: R3, units: 5n },
    ...Array.from({ length: 20 }, () => ({ account: Wallet.createRandom().address, units: 1n })),
  ]);
  const ownerSigner = sys.people[0]!;
  baseDatasets = [
    { id: await registerExplicit(sys, ownerSigner, 1000n, { recipients: [R0, R1], bps: [5000, 5000] }), price: 1000n, units: new Map([[0, 5000n], [1, 5000n]]), totalUnits: 10_000n, merkle: false, listed: true },
    { id: await registerExplicit(sys, ownerSigner, 7n, { recipients: [R1, R2, R3], bps: [3333, 3333, 3334] }), price: 7n, units: new Map([[1, 3333n], [2, 3333n], [3, 3334n]]), totalUnits: 10_000n, merkle: false, listed: true },
    { id: await registerExplicit(sys, ownerSigner, 123_457n, { recipients: [R0], bps: [10000] }), price: 123_457n, units: new Map([[0, 10_000n]]), totalUnits: 10_000n, merkle: false, listed: true },
    { id: await registerMerkle(sys, ownerSigner, 50n, tree.root, tree.totalUnits), price: 50n, units: new Map([[2, 3n], [3, 5n]]), totalUnits: tree.totalUnits, merkle: true, listed: true },
  ];
  domain = licenseManagerDomain(sys.chain.chainId, managerAddr);
  snap = await sys.chain.snapshot();
});

// ------------------------------------------------------------------------------------------ raw chain access

const GAS = '0x2dc6c0';
async function send(from: string, to: string, data: string): Promise<string | undefined> {
  try {
    await sys.chain.rpc('eth_sendTransaction', [{ from, to, data, gas: GAS }]);
    return undefined;
  } catch (err) {
    const decoded = decodeRevert(err);
    if (!decoded) throw err; // a panic or an unknown failure is a bug
    return decoded.name;
  }
}
async function call<T>(iface: Interface, to: string, fn: string, args: unknown[]): Promise<T> {
  const data = iface.encodeFunctionData(fn, args);
  const ret = (await sys.chain.rpc('eth_call', [{ to, data }, 'latest'])) as string;
  return iface.decodeFunctionResult(fn, ret) as unknown as T;
}
const balanceOf = async (a: string) => (await call<[bigint]>(sys.token.interface, tokenAddr, 'balanceOf', [a]))[0];

// ------------------------------------------------------------------------------------------ actions

const action = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('purchase' as const), lab: fc.nat(2), mask: fc.integer({ min: 1, max: 15 }), budget: fc.bigInt({ min: 1n, max: 50n * USD }).map((b) => (b % 5n === 0n ? b / 1_000_000n + 1n : b)), days: fc.integer({ min: 1, max: 20 }), capBelow: fc.integer({ min: 0, max: 9 }).map((x) => x === 0) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('open' as const), pick: fc.nat(), fraction: fc.integer({ min: 1, max: 100 }), rate: fc.constantFrom(1n, 1000n, 10n ** 24n, 10n ** 24n, 10n ** 24n) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('report' as const), pick: fc.nat(), mask: fc.integer({ min: 1, max: 15 }), deltas: fc.array(fc.integer({ min: -3, max: 120 }), { minLength: 4, maxLength: 4 }), stranger: fc.integer({ min: 0, max: 19 }).map((x) => x === 0), final: fc.integer({ min: 0, max: 9 }).map((x) => x === 0) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('time' as const), seconds: fc.constantFrom(1, 60, 3600, 86_400, 5 * 86_400, 21 * 86_400, 366 * 86_400) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('end' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('refund' as const), pick: fc.nat(), byOther: fc.integer({ min: 0, max: 4 }).map((x) => x === 0), toRecovery: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reclaim' as const), pick: fc.nat(), toRecovery: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('claim' as const), recipient: fc.nat(3), mask: fc.integer({ min: 1, max: 15 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delist' as const), dataset: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reprice' as const), dataset: fc.nat(3), price: fc.bigInt({ min: 1n, max: 200_000n }) }) },
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

const ALLOWED: Record<Action['kind'], string[]> = {
  purchase: ['LicenseManager_DatasetNotListed', 'LicenseManager_PriceAboveMax'],
  open: ['LicenseManager_LicenseExpired', 'LicenseManager_InsufficientUnallocated', 'LicenseManager_ZeroBudget'],
  report: ['LicenseManager_BudgetExceeded', 'LicenseManager_RateCapExceeded', 'LicenseManager_ReportWindowClosed', 'LicenseManager_UnapprovedWorker', 'LicenseManager_JobFinalized', 'LicenseManager_JobEnded'],
  time: [],
  end: ['LicenseManager_JobEnded'],
  sweep: ['RoyaltyPools_ProofWindowOpen', 'RoyaltyPools_NoMerklePool'],
  refund: ['LicenseManager_GraceNotOver', 'LicenseManager_AlreadyRefunded', 'LicenseManager_NotLicenseHolder'],
  reclaim: ['LicenseManager_NothingToRefund'],
  claim: ['RoyaltyPools_ProofWindowClosed'],
  delist: ['DatasetRegistry_AlreadyDelisted'],
  reprice: ['DatasetRegistry_AlreadyDelisted'],
};

/** Outcomes per action kind over the whole suite, to check the sequences exercise the money paths. */
const stats: Partial<Record<Action['kind'], { ok: number; reverted: number }>> = {};
const revertCounts: Record<string, number> = {};

const worker = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const stranger = new Wallet('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');

async function runSequence(actions: Action[]): Promise<void> {
  await sys.chain.revertTo(snap);
  snap = await sys.chain.snapshot();
  const datasets = baseDatasets.map((d) => ({ ...d }));
  const licenses: GhostLicense[] = [];
  const jobs: GhostJob[] = [];
  const paidIn = datasets.map(() => 0n);
  const claimedFromPool = datasets.map(() => 0n);
  const accruedNum = recipients.map(() => datasets.map(() => 0n)); // sum of amount x units, per recipient and pool
  const withdrawn = recipients.map(() => 0n);
  const proven = recipients.map(() => false);
  const labBalance = await Promise.all(labs.map(balanceOf));
  let recovered = await balanceOf(recovery);
  let swept = 0n; // residual of the Merkle pool (index 3) paid to the dataset owner
  const MERKLE = 3;
  const mi = sys.manager.interface;

  /** What left pool `i` on chain: every recipient's position, plus the owner's sweep for the Merkle pool. */
  const claimedOnChain = async (i: number): Promise<bigint> => {
    let total = 0n;
    for (const r of recipients) total += (await call<[{ claimed: bigint }]>(mi, managerAddr, 'positionOf', [datasets[i]!.id, r]))[0].claimed;
    if (i === MERKLE) total += (await call<[bigint, bigint, bigint]>(mi, managerAddr, 'residualOf', [datasets[i]!.id]))[2];
    return total;
  };

  const owed = () =>
    licenses.reduce((a, l) => a + l.unallocated, 0n) +
    jobs.reduce((a, j) => a + (j.refunded ? 0n : j.budget - j.spent), 0n) +
    paidIn.reduce((a, p, i) => a + p - claimedFromPool[i]!, 0n);

  for (const [step, act] of actions.entries()) {
    const where = `step ${step} ${JSON.stringify(act, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
    let error: string | undefined;
    switch (act.kind) {
      case 'purchase': {
        const chosen = datasets.map((_, i) => i).filter((i) => act.mask & (1 << i));
        const now = await sys.chain.latestTimestamp();
        // The buyer's per-dataset cap: the listed price (or, 1 in 10, one wei below it for the first dataset).
        const caps = chosen.map((i, k) => (act.capBelow && k === 0 ? datasets[i]!.price - 1n : k % 2 ? MAX_PRICE : datasets[i]!.price));
        error = await send(labs[act.lab]!, managerAddr, mi.encodeFunctionData('purchase', [chosen.map((i) => datasets[i]!.id), caps, act.budget, now + BigInt(act.days * 86_400)]));
        if (error === 'LicenseManager_PriceAboveMax') expect(act.capBelow).toBe(true);
        if (!error) {
          expect(act.capBelow).toBe(false); // a price above the buyer's cap never sells
          licenses.push({ lab: act.lab, unallocated: act.budget, prices: new Map(chosen.map((i) => [i, datasets[i]!.price])) });
          labBalance[act.lab]! -= act.budget;
        }
        break;
      }
      case 'open': {
        if (licenses.length === 0) continue;
        const li = act.pick % licenses.length;
        const lic = licenses[li]!;
        const budget = (lic.unallocated * BigInt(act.fraction)) / 100n;
        error = await send(labs[lic.lab]!, managerAddr, mi.encodeFunctionData('openJob', [li + 1, budget, act.rate]));
        if (!error) {
          lic.unallocated -= budget;
          jobs.push({ license: li, budget, spent: 0n, settled: datasets.map(() => 0n), refunded: false, ended: false, finalized: false });
          expect(await send(attestorAddr, attestAddr, sys.attestations.interface.encodeFunctionData('approveWorker', [jobs.length, worker.address, EVIDENCE]))).toBeUndefined();
        }
        break;
      }
      case 'report': {
        if (jobs.length === 0) continue;
        const ji = act.pick % jobs.length;
        const job = jobs[ji]!;
        const lic = licenses[job.license]!;
        const chosen = [...lic.prices.keys()].filter((i) => act.mask & (1 << i));
        if (chosen.length === 0) continue;
        const samples = chosen.map((i) => {
          const next = job.settled[i]! + BigInt(act.deltas[i]!);
          return next < 0n ? 0n : next;
        });
        const msg = {
          jobId: BigInt(ji + 1),
          datasetIds: chosen.map((i) => datasets[i]!.id),
          samples,
          amounts: chosen.map((i, k) => samples[k]! * lic.prices.get(i)!),
        };
        const signer = act.stranger ? stranger : worker;
        const data = act.final
          ? mi.encodeFunctionData('finalizeJob', [msg, 'bafy-receipt', await signFinalReport(signer, domain, { ...msg, receiptCid: 'bafy-receipt' })])
          : mi.encodeFunctionData('submitReport', [msg, await signUsageReport(signer, domain, msg)]);
        error = await send(labs[0]!, managerAddr, data);
        if (act.stranger) expect(['LicenseManager_UnapprovedWorker', 'LicenseManager_ReportWindowClosed', 'LicenseManager_JobFinalized', 'LicenseManager_JobEnded']).toContain(error); // never pays
        if (error === 'LicenseManager_JobFinalized') expect(job.finalized).toBe(true);
        if (error === 'LicenseManager_JobEnded') expect(job.ended && !job.finalized).toBe(true);
        if (!error) {
          expect(job.finalized).toBe(false);
          expect(job.ended).toBe(false); // nothing is paid after the lab's endJob (the cancel race)
          if (act.final) {
            job.finalized = true;
            job.ended = true;
            expect((await call<[boolean]>(mi, managerAddr, 'isJobActive', [ji + 1]))[0]).toBe(false);
          }
          chosen.forEach((i, k) => {
            const s = samples[k]!;
            if (s <= job.settled[i]!) return; // stale or replayed: pays nothing
            const amount = (s - job.settled[i]!) * lic.prices.get(i)!;
            job.settled[i] = s;
            job.spent += amount;
            paidIn[i]! += amount;
            for (const [r, u] of datasets[i]!.units) accruedNum[r]![i]! += amount * u;
          });
          const onChain = await call<[{ spent: bigint; budget: bigint }]>(mi, managerAddr, 'getJob', [ji + 1]);
          expect(onChain[0].spent).toBe(job.spent); // total paid == settled samples x price exactly
          expect(job.spent).toBeLessThanOrEqual(job.budget); // per job paid <= budget
        }
        break;
      }
      case 'time':
        await sys.chain.increaseTime(act.seconds);
        break;
      case 'end': {
        if (jobs.length === 0) continue;
        const ji = act.pick % jobs.length;
        error = await send(labs[licenses[jobs[ji]!.license]!.lab]!, managerAddr, mi.encodeFunctionData('endJob', [ji + 1]));
        if (!error) {
          jobs[ji]!.ended = true;
          // An ended job never grants data keys again (issue 8, item 9).
          expect((await call<[boolean]>(mi, managerAddr, 'isJobActive', [ji + 1]))[0]).toBe(false);
        }
        break;
      }
      case 'refund': {
        if (jobs.length === 0) continue;
        const ji = act.pick % jobs.length;
        const job = jobs[ji]!;
        const holder = licenses[job.license]!.lab;
        const caller = act.byOther ? (holder + 1) % labs.length : holder;
        const to = act.toRecovery ? recovery : labs[caller]!;
        error = await send(labs[caller]!, managerAddr, mi.encodeFunctionData('refund', [ji + 1, to]));
        if (act.byOther) expect(error).toBe('LicenseManager_NotLicenseHolder');
        if (!error) {
          job.refunded = true;
          if (act.toRecovery) recovered += job.budget - job.spent;
          else labBalance[holder]! += job.budget - job.spent;
          expect(await balanceOf(labs[holder]!)).toBe(labBalance[holder]);
          expect(await balanceOf(recovery)).toBe(recovered);
          expect((await call<[boolean]>(mi, managerAddr, 'isJobActive', [ji + 1]))[0]).toBe(false);
        }
        break;
      }
      case 'reclaim': {
        if (licenses.length === 0) continue;
        const li = act.pick % licenses.length;
        const lic = licenses[li]!;
        error = await send(labs[lic.lab]!, managerAddr, mi.encodeFunctionData('reclaimUnallocated', [li + 1, act.toRecovery ? recovery : labs[lic.lab]!]));
        if (!error) {
          if (act.toRecovery) recovered += lic.unallocated;
          else labBalance[lic.lab]! += lic.unallocated;
          lic.unallocated = 0n;
          expect(await balanceOf(labs[lic.lab]!)).toBe(labBalance[lic.lab]);
          expect(await balanceOf(recovery)).toBe(recovered);
        }
        break;
      }
      case 'sweep': {
        const d = datasets[MERKLE]!;
        error = await send(owner, managerAddr, mi.encodeFunctionData('sweepResidual', [d.id, owner]));
        if (!error) {
          const chainClaimed = await claimedOnChain(MERKLE);
          const got = (await balanceOf(owner)) - swept;
          swept += got;
          claimedFromPool[MERKLE]! += got;
          expect(chainClaimed).toBe(claimedFromPool[MERKLE]);
          // The owner's residual is the units no proof holds: <= paidIn x residualUnits / totalUnits.
          const provenUnits = [...d.units.entries()].filter(([r]) => proven[r]).reduce((a, [, u]) => a + u, 0n);
          expect(swept * d.totalUnits).toBeLessThanOrEqual(paidIn[MERKLE]! * (d.totalUnits - provenUnits));
        }
        break;
      }
      case 'claim': {
        const r = act.recipient;
        const chosen = datasets.map((_, i) => i).filter((i) => act.mask & (1 << i) && datasets[i]!.units.has(r));
        if (chosen.length === 0) continue;
        const ids = chosen.map((i) => datasets[i]!.id);
        const merkle = chosen.find((i) => datasets[i]!.merkle);
        const data = merkle !== undefined && !proven[r]
          ? mi.encodeFunctionData('claimWithProofs', [[{ datasetId: datasets[merkle]!.id, units: tree.unitsOf(recipients[r]!), proof: tree.proof(recipients[r]!) }], ids])
          : mi.encodeFunctionData('claim', [ids]);
        const before = await Promise.all(chosen.map((i) => call<[{ claimed: bigint }]>(mi, managerAddr, 'positionOf', [datasets[i]!.id, recipients[r]])));
        error = await send(recipients[r]!, managerAddr, data);
        if (!error) {
          if (merkle !== undefined) proven[r] = true;
          const after = await Promise.all(chosen.map((i) => call<[{ claimed: bigint }]>(mi, managerAddr, 'positionOf', [datasets[i]!.id, recipients[r]])));
          let total = 0n;
          chosen.forEach((i, k) => {
            const got = after[k]![0].claimed - before[k]![0].claimed;
            claimedFromPool[i]! += got;
            total += got;
            // withdrawn <= accrued, per pool: claimed x totalUnits <= sum of amount x units
            expect(after[k]![0].claimed * datasets[i]!.totalUnits).toBeLessThanOrEqual(accruedNum[r]![i]!);
          });
          withdrawn[r]! += total;
          expect(await balanceOf(recipients[r]!)).toBe(withdrawn[r]); // recipients receive only through claims
        }
        break;
      }
      case 'delist':
      case 'reprice': {
        const d = datasets[act.dataset]!;
        const data = act.kind === 'delist'
          ? sys.registry.interface.encodeFunctionData('delist', [d.id])
          : sys.registry.interface.encodeFunctionData('update', [d.id, act.price, 'bafy-next']);
        error = await send(owner, registryAddr, data);
        if (!error) {
          if (act.kind === 'delist') d.listed = false;
          else d.price = act.price;
        }
        break;
      }
    }
    if (error && !ALLOWED[act.kind].includes(error)) throw new Error(`${where}: unexpected revert ${error}`);
    const st = (stats[act.kind] ??= { ok: 0, reverted: 0 });
    if (error) {
      st.reverted += 1;
      revertCounts[error] = (revertCounts[error] ?? 0) + 1;
    }
    else st.ok += 1;

    // Invariant 1: the contract holds exactly what it owes (escrow + pools), hence at least that.
    const held = await balanceOf(managerAddr);
    expect(held).toBeGreaterThanOrEqual(owed());
    expect(held).toBe(owed());
    // Invariant 3: sum claimed <= sum paid into pools, per pool.
    claimedFromPool.forEach((c, i) => expect(c).toBeLessThanOrEqual(paidIn[i]!));
  }

  // End of sequence: the chain's own pool and job records agree with the ghost.
  for (const [i, d] of datasets.entries()) {
    const [, , chainPaidIn] = await call<[unknown, bigint, bigint]>(mi, managerAddr, 'getPool', [d.id]);
    const chainClaimed = await claimedOnChain(i);
    expect(chainPaidIn).toBe(paidIn[i]);
    expect(chainClaimed).toBe(claimedFromPool[i]);
    expect(chainClaimed).toBeLessThanOrEqual(chainPaidIn);
  }
  for (const [ji, job] of jobs.entries()) {
    const [j] = await call<[{ spent: bigint; budget: bigint; refunded: boolean }]>(mi, managerAddr, 'getJob', [ji + 1]);
    expect([j.spent, j.budget, j.refunded]).toEqual([job.spent, job.budget, job.refunded]);
  }
}

test(`invariants hold over ${RUNS} random sequences of depth ${DEPTH}`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: DEPTH, maxLength: DEPTH }), runSequence),
    { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: false },
  );
  // The random sequences must actually move money, not just revert.
  for (const kind of ['purchase', 'open', 'report', 'refund', 'reclaim', 'claim'] as const) {
    expect(stats[kind]?.ok ?? 0).toBeGreaterThanOrEqual(Math.ceil(RUNS / 10));
  }
  if (process.env.INVARIANT_STATS) console.log(JSON.stringify({ stats, revertCounts }));
}, 600_000);
