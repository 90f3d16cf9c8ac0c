/**
 * `GET /v1/royalties/{address}`'s figures against the contracts, on Hardhat's in-process chain and dynalite, with
 * the real indexer and adapters: after a random sequence of usage reports and claims (fast-check, small), every
 * figure equals the contracts' views to the wei, the history's claims sum to what the views say was claimed, each
 * job's payments equal its settled samples × price; the rate is the last report's share over the seconds since the
 * one before; a reorg leaves only the new branch's accruals.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { JsonRpcSigner } from 'ethers';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { USD, buyLicense, deploySystem, openJob, registerExplicit, registerMerkle, signedReport, type System } from '../../contracts/test/helpers/fixture.js';
import { DynamoDatasetRepo } from '../../shared/adapters/aws/DynamoDatasetRepo.js';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { ensureTables, tableDefinitions } from '../../shared/adapters/aws/tables.js';
import { EvmRoyaltyChain } from '../../shared/adapters/chain/EvmRoyaltyChain.js';
import { LocalUnixfsContentStore } from '../../shared/adapters/ipfs/LocalUnixfsContentStore.js';
import { IndexerSettings } from '../../shared/config.js';
import { Dataset, DatasetInput } from '../../shared/schemas/dataset.js';
import { getRoyalties, type RoyaltyDeps } from '../../shared/use-cases/getRoyalties.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../stack/embeddedDynamo.js';
import { createIndexer, type Indexer } from './indexer.js';

const MANIFEST = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
const PRICE = { a: 7n, b: 3n };

let sys: System;
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let base: string;
let deployBlock: number;
let tables = 0;
let ids: { a: bigint; b: bigint };
let jobId: bigint;
let people: JsonRpcSigner[];

beforeAll(async () => {
  sys = await deploySystem();
  deployBlock = await sys.chain.provider.getBlockNumber();
  people = sys.people.slice(0, 2);
  const [p0, p1] = await Promise.all(people.map((p) => p.getAddress()));
  ids = {
    a: await registerExplicit(sys, people[0]!, PRICE.a, { recipients: [p0!, p1!], bps: [6_000, 4_000] }),
    b: await registerExplicit(sys, people[0]!, PRICE.b, { recipients: [p0!], bps: [10_000] }),
  };
  const licenseId = await buyLicense(sys, sys.labs[0]!, [ids.a, ids.b], 500n * USD);
  jobId = await openJob(sys, sys.labs[0]!, licenseId, 400n * USD);
  base = await sys.chain.snapshot();
  dynamo = await startEmbeddedDynamo({ dir: mkdtempSync(join(tmpdir(), 'provena-royalties-')), port: 0 });
  client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

beforeEach(async () => {
  await sys.chain.revertTo(base);
  base = await sys.chain.snapshot();
});

/** Fresh tables, listings for both datasets, an indexer and the route's dependencies. */
async function world(): Promise<{ indexer: Indexer; deps: RoyaltyDeps }> {
  tables++;
  const names = { licenses: `licenses-${tables}`, indexer: `indexer-${tables}`, datasets: `datasets-${tables}` };
  await ensureTables(client, tableDefinitions(names));
  const repo = new DynamoDatasetRepo(client, names.datasets);
  const [p0, p1] = await Promise.all(people.map((p) => p.getAddress()));
  const now = new Date().toISOString();
  for (const [i, [chainId, split]] of ([[ids.a, [{ recipient: p0!, bps: 6_000 }, { recipient: p1!, bps: 4_000 }]], [ids.b, [{ recipient: p0!, bps: 10_000 }]]] as const).entries()) {
    const input = DatasetInput.parse({
      title: `Dataset ${i}`,
      dataSchema: { kind: 'tabular', columns: [{ name: 'x', type: 'float' }] },
      sizeBytes: 10,
      license: { paymentToken: sys.token.target as string, pricePerSample: '1', allowedUses: ['training'], expiryOptionsDays: [30] },
      royaltySplit: split,
      anonymization: {},
    });
    await repo.create(Dataset.parse({ ...input, id: `ds_${String(i).repeat(26)}`, owner: p0, version: 1, status: 'active', manifestCid: MANIFEST, createdAt: now, updatedAt: now, license: { ...input.license, rawAccess: false }, chainDatasetId: String(chainId) }));
  }
  const config = IndexerSettings.parse({ PROVENA_TABLE_LICENSES: names.licenses, PROVENA_TABLE_INDEXER: names.indexer, PROVENA_INDEXER_CONFIRMATIONS: '0', PROVENA_INDEXER_START_BLOCK: String(deployBlock) });
  const indexer = createIndexer({ ...config, PROVENA_CHAIN_ID: Number(sys.chain.chainId), PROVENA_CONTRACTS: { LicenseManager: sys.manager.target as string, PaymentToken: sys.token.target as string } }, sys.chain.provider, client);
  const pools = new EvmRoyaltyChain(sys.chain.provider, Number(sys.chain.chainId), sys.manager.target as string, sys.registry.target as string, undefined);
  return { indexer, deps: { datasets: repo, content: new LocalUnixfsContentStore({ memory: true }), pools, chainId: Number(sys.chain.chainId), now: () => new Date(), history: indexer.royalties, indexedThrough: indexer.indexedThrough } };
}

async function catchUp(ix: Indexer): Promise<void> {
  for (;;) {
    const r = await ix.tick();
    if (r.block >= r.head.number && !r.raced) return;
  }
}

/** A claim is `claim([...])` (it emits RoyaltiesClaimed, even of 0) or, with `one`, `claimOne(a)` (no event of its own). */
type Op = { kind: 'report'; a: number; b: number } | { kind: 'claim'; who: 0 | 1; one?: boolean };

/**
 * Applies `ops`: cumulative reports from the job's worker, claims from each recipient's own key. Returns how many
 * claims each person's history should show: every `claim`, and each `claimOne` that paid (its record is the token's
 * Transfer; one of 0 transfers nothing and leaves no trace).
 */
async function run(ops: readonly Op[]): Promise<number[]> {
  const claims = people.map(() => 0);
  const total = { a: 0n, b: 0n };
  for (const op of ops) {
    if (op.kind === 'report') {
      total.a += BigInt(op.a);
      total.b += BigInt(op.b);
      const { report, signature } = await signedReport(sys, jobId, [
        { datasetId: ids.a, samples: total.a, price: PRICE.a },
        { datasetId: ids.b, samples: total.b, price: PRICE.b },
      ]);
      await (await sys.manager.submitReport(report, signature)).wait();
    } else if (op.one) {
      const rc = await (await sys.manager.connect(people[op.who]!).claimOne(ids.a)).wait();
      if (rc!.logs.length) claims[op.who]!++;
    } else {
      const datasets = op.who === 0 ? [ids.a, ids.b] : [ids.a];
      await (await sys.manager.connect(people[op.who]!).claim(datasets)).wait();
      claims[op.who]!++;
    }
  }
  return claims;
}

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('report' as const), a: fc.integer({ min: 0, max: 50 }), b: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant('claim' as const), who: fc.constantFrom(0 as const, 1 as const), one: fc.boolean() }),
);

describe('GET /v1/royalties/{address} against the contracts', () => {
  it('equals the views to the wei after any short sequence of reports and claims', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), async (ops) => {
        await sys.chain.revertTo(base);
        base = await sys.chain.snapshot();
        const { indexer, deps } = await world();
        const claimCounts = await run(ops);
        await catchUp(indexer);

        for (const [who, person] of people.entries()) {
          const address = await person.getAddress();
          const r = await getRoyalties(deps, { address });
          const at = { blockTag: r.blockNumber };
          let claimedTotal = 0n;
          for (const d of r.datasets) {
            const id = BigInt(d.chainDatasetId);
            const position = await sys.manager.positionOf(id, address, at);
            const claimable = await sys.manager.claimable(id, address, at);
            const claimed = position.claimed;
            claimedTotal += claimed;
            expect({ accrued: d.accrued, claimed: d.claimed, claimable: d.claimable }).toEqual({ accrued: String(claimed + claimable), claimed: String(claimed), claimable: String(claimable) });
            const settled = await sys.manager.settledSamples(jobId, id, at);
            const price = id === ids.a ? PRICE.a : PRICE.b;
            expect(d.jobs.map((j) => [j.jobId, j.samples, j.paidIn])).toEqual(settled === 0n ? [] : [[String(jobId), String(settled), String(settled * price)]]);
          }
          const claims = r.history.filter((h) => h.kind === 'claim');
          expect(claims.reduce((s, c) => s + BigInt(c.amount), 0n)).toBe(claimedTotal);
          expect(claims.length).toBe(claimCounts[who]);
          expect(r.totals.accrued).toBe(String(r.datasets.reduce((s, d) => s + BigInt(d.accrued), 0n)));
        }
      }),
      { numRuns: 6 },
    );
  }, 120_000);

  it("gives a running job's rate as the recipient's share of the last report over the seconds since the one before", async () => {
    const { indexer, deps } = await world();
    const t0 = Number(await sys.chain.latestTimestamp()) + 5;
    await sys.chain.setNextTimestamp(t0);
    await run([{ kind: 'report', a: 10, b: 0 }]);
    await sys.chain.setNextTimestamp(t0 + 20);
    await run([{ kind: 'report', a: 40, b: 0 }]); // cumulative: 40 samples in all, 30 since the first report
    await catchUp(indexer);

    const r = await getRoyalties(deps, { address: await people[1]!.getAddress() });
    const a = r.datasets.find((d) => d.chainDatasetId === String(ids.a));

    // Last report: 30 samples × 7 = 210 into the pool; 40% of it is 84; over 20 s: 4 per second (rounded down).
    expect(a?.jobs).toEqual([expect.objectContaining({ jobId: String(jobId), samples: '40', paidIn: '280', share: '112', running: true, ratePerSecond: '4' })]);
    expect([a?.ratePerSecond, r.totals.ratePerSecond]).toEqual(['4', '4']);

    await (await sys.manager.connect(sys.labs[0]!).endJob(jobId)).wait();
    await catchUp(indexer);
    const ended = await getRoyalties(deps, { address: await people[1]!.getAddress() });
    expect(ended.datasets.find((d) => d.chainDatasetId === String(ids.a))?.jobs[0]).toMatchObject({ running: false, ratePerSecond: '0' });
  }, 60_000);

  // claimOne emits no event of its own: its claim is read from the token's Transfer out of the manager, and the
  // transfers that follow their own event (claim, refund, reclaim) are not counted as one. Fails if the indexer
  // followed RoyaltiesClaimed alone (no claimOne in the history) or every Transfer out (the refunds counted too).
  it('indexes a claimOne from its Transfer, and no refund, reclaim or array claim twice', async () => {
    const { indexer, deps } = await world();
    await run([{ kind: 'report', a: 10, b: 10 }, { kind: 'claim', who: 1, one: true }, { kind: 'claim', who: 0 }, { kind: 'report', a: 5, b: 0 }, { kind: 'claim', who: 1, one: true }]);
    const lab = sys.labs[0]!;
    await (await sys.manager.connect(lab).endJob(jobId)).wait();
    await (await sys.manager.connect(lab).refund(jobId, await lab.getAddress())).wait();
    await (await sys.manager.connect(lab).reclaimUnallocated(1n, await lab.getAddress())).wait();
    await catchUp(indexer);

    const [p0, p1] = await Promise.all(people.map((p) => p.getAddress()));
    const claimsOf = async (address: string) => (await getRoyalties(deps, { address })).history.flatMap((h) => (h.kind === 'claim' ? [h.amount] : []));
    // p1 holds 40% of a: 10 × 7 × 0.4 = 28, then 5 × 7 × 0.4 = 14. p0: 60% of a's 70 plus all of b's 30.
    expect(await claimsOf(p1!)).toEqual(['14', '28']);
    expect(await claimsOf(p0!)).toEqual(['72']);
    expect(await claimsOf(await lab.getAddress())).toEqual([]);
  }, 60_000);

  // An unproven Merkle recipient's claimable is computed off chain from its tree units (the chain says 0 until the
  // proof): it must be the contract's formula, floor(units × paidIn / totalUnits), to the wei. 3 of 9 units and 3
  // paid in: exactly 1, where a per-unit accumulator scaled by 1e18 (the pools' formula before issue 13) gives
  // 3 × floor(3e18 / 9) / 1e18 = 0. The proof-and-claim then pays what was shown.
  it("shows an unproven Merkle recipient's claimable as the contract will pay it, to the wei", async () => {
    const [p0, p1] = await Promise.all(people.map((p) => p.getAddress()));
    const tree = StandardMerkleTree.of([[p0!, '3'], [p1!, '6']], ['address', 'uint256']);
    const merkle = await registerMerkle(sys, people[0]!, 1n, tree.root, 9n);
    const job = await openJob(sys, sys.labs[0]!, await buyLicense(sys, sys.labs[0]!, [merkle], USD), USD);
    const { report, signature } = await signedReport(sys, job, [{ datasetId: merkle, samples: 3n, price: 1n }]);
    await (await sys.manager.submitReport(report, signature)).wait();
    const { deps } = await world();
    const block = await sys.chain.provider.getBlockNumber();

    const [shown] = await deps.pools.positions(p0!, [merkle], block, [3n]);
    expect(shown).toMatchObject({ units: 3n, claimed: 0n, claimable: 1n, unproven: true });
    const before = await sys.token.balanceOf(p0!);
    await (await sys.manager.connect(people[0]!).claimWithProofs([{ datasetId: merkle, units: 3n, proof: tree.getProof([p0!, '3']) }], [merkle])).wait();
    expect((await sys.token.balanceOf(p0!)) - before).toBe(shown!.claimable);
  }, 60_000);

  it('keeps only the new branch after a reorg, and counts a block indexed twice once', async () => {
    const { indexer, deps } = await world();
    await catchUp(indexer);
    const fork = await sys.chain.snapshot();
    await run([{ kind: 'report', a: 5, b: 5 }]);
    await catchUp(indexer);
    await sys.chain.revertTo(fork);
    await run([{ kind: 'report', a: 1, b: 0 }, { kind: 'claim', who: 0 }]);
    await sys.chain.rpc('evm_mine');
    await catchUp(indexer);
    await indexer.deps.projections[1]!.apply(await indexer.deps.source.events(deployBlock, (await indexer.deps.source.head()).number));

    const r = await getRoyalties(deps, { address: await people[0]!.getAddress() });

    expect(r.history.map((h) => (h.kind === 'accrual' ? `accrual ${h.chainDatasetId} ${h.poolAmount}` : `claim ${h.amount}`))).toEqual(['claim 4', `accrual ${ids.a} 7`]);
  }, 60_000);
});
