/**
 * Merkle splits end to end below the HTTP layer, on Hardhat's in-process chain, dynalite and an in-memory UnixFS
 * store, with the real use cases and adapters: a listing created with `merkleShares` stores its tree beside the
 * manifest; the split route serves proofs the contract accepts, checked against the registry's root; the royalty
 * report counts an unproven recipient from its tree units to the wei of what its first (proving) claim pays, and a
 * second claim needs no proof.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { JsonRpcSigner } from 'ethers';
import { USD, buyLicense, deploySystem, openJob, registerExplicit, registerMerkle, signedReport, type System } from '../../contracts/test/helpers/fixture.js';
import { DynamoDatasetRepo } from '../../shared/adapters/aws/DynamoDatasetRepo.js';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { ensureTables, tableDefinitions } from '../../shared/adapters/aws/tables.js';
import { EvmRoyaltyChain } from '../../shared/adapters/chain/EvmRoyaltyChain.js';
import { LocalUnixfsContentStore } from '../../shared/adapters/ipfs/LocalUnixfsContentStore.js';
import { verifyRoyaltyProof } from '../../shared/domain/royaltyTree.js';
import { ProvenaError } from '../../shared/errors.js';
import { DatasetInput, DatasetManifest, type Dataset } from '../../shared/schemas/dataset.js';
import { createListing } from '../../shared/use-cases/createListing.js';
import { getRoyalties, type RoyaltyDeps } from '../../shared/use-cases/getRoyalties.js';
import { getSplitShare } from '../../shared/use-cases/getSplitShare.js';
import { updateListing } from '../../shared/use-cases/updateListing.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../stack/embeddedDynamo.js';

const PRICE = 7n;
const UNITS = [5n, 3n, 2n];

let sys: System;
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let deps: RoyaltyDeps;
let people: JsonRpcSigner[];
let addrs: string[];
let listing: Dataset & { chainDatasetId: string };
let jobId: bigint;

function input(split: Record<string, unknown>) {
  return DatasetInput.parse({
    title: 'Contributed notes',
    dataSchema: { kind: 'text', description: 'notes' },
    sizeBytes: 10,
    license: { paymentToken: sys.token.target as string, pricePerSample: String(PRICE), allowedUses: ['training'], expiryOptionsDays: [30] },
    anonymization: {},
    ...split,
  });
}

async function registered(dataset: Dataset, chainDatasetId: bigint): Promise<Dataset & { chainDatasetId: string }> {
  const next = { ...dataset, version: dataset.version + 1, chainDatasetId: String(chainDatasetId) };
  await deps.datasets.replace(next, dataset.version);
  return next;
}

async function report(samples: bigint): Promise<void> {
  const { report: r, signature } = await signedReport(sys, jobId, [{ datasetId: BigInt(listing.chainDatasetId), samples, price: PRICE }]);
  await (await sys.manager.submitReport(r, signature)).wait();
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProvenaError) return err.code;
    throw err;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  sys = await deploySystem();
  people = sys.people.slice(0, 4);
  addrs = await Promise.all(people.map((p) => p.getAddress()));
  dynamo = await startEmbeddedDynamo({ dir: mkdtempSync(join(tmpdir(), 'provena-merkle-')), port: 0 });
  client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  await ensureTables(client, tableDefinitions({ datasets: 'datasets-merkle' }));
  const content = new LocalUnixfsContentStore({ memory: true });
  const pools = new EvmRoyaltyChain(sys.chain.provider, Number(sys.chain.chainId), sys.manager.target as string, sys.registry.target as string, undefined);
  deps = { datasets: new DynamoDatasetRepo(client, 'datasets-merkle'), content, pools, chainId: Number(sys.chain.chainId), now: () => new Date() };
  const merkleShares = UNITS.map((units, i) => ({ account: addrs[i]!, units: String(units) }));
  const { dataset } = await createListing(deps, { owner: addrs[0]!, input: input({ merkleShares }) });
  const split = dataset.merkleSplit!;
  listing = await registered(dataset, await registerMerkle(sys, people[0]!, PRICE, split.root, BigInt(split.totalUnits)));
  const licenseId = await buyLicense(sys, sys.labs[0]!, [BigInt(listing.chainDatasetId)], 500n * USD);
  jobId = await openJob(sys, sys.labs[0]!, licenseId, 400n * USD);
}, 90_000);

afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

describe('a listing with a Merkle split', () => {
  it('records the root, total units and the CID of a tree dump stored beside its manifest', async () => {
    expect(listing.royaltySplit).toEqual([]);
    expect(listing.merkleSplit).toMatchObject({ totalUnits: '10', recipients: 3 });
    const manifest = DatasetManifest.parse(await deps.content.getJson(listing.manifestCid));
    expect(manifest.listing.merkleSplit).toEqual(listing.merkleSplit);
    expect(await deps.content.has(listing.merkleSplit!.treeCid)).toBe(true);
  });

  it('serves each recipient a proof that verifies against the registry root, and 404s a stranger', async () => {
    const [, , , root] = await sys.registry.saleTerms(BigInt(listing.chainDatasetId));
    const share = await getSplitShare(deps, { id: listing.id, address: addrs[1]! });
    expect(share).toMatchObject({ kind: 'merkle', units: '3', totalUnits: '10', root: root.toLowerCase(), proven: false, chainDatasetId: listing.chainDatasetId });
    expect(verifyRoyaltyProof(root, addrs[1]!, 3n, share.proof)).toBe(true);
    expect(await code(getSplitShare(deps, { id: listing.id, address: addrs[3]! }))).toBe('SPLIT_ACCOUNT_NOT_FOUND');
  });

  it('reports an unproven recipient from its tree units, and its proving claim pays exactly that', async () => {
    await report(100n); // 700 paid in
    const before = await getRoyalties(deps, { address: addrs[1]! });
    expect(before.datasets).toHaveLength(1);
    expect(before.datasets[0]).toMatchObject({ units: '3', totalUnits: '10', claimed: '0', claimable: '210' });
    expect(await sys.manager.claimable(BigInt(listing.chainDatasetId), addrs[1]!)).toBe(0n); // the chain alone sees nothing yet

    const share = await getSplitShare(deps, { id: listing.id, address: addrs[1]! });
    const id = BigInt(listing.chainDatasetId);
    const balance = await sys.token.balanceOf(addrs[1]!);
    await (await sys.manager.connect(people[1]!).claimWithProofs([{ datasetId: id, units: 3n, proof: share.proof }], [id])).wait();
    expect((await sys.token.balanceOf(addrs[1]!)) - balance).toBe(210n);

    expect((await getSplitShare(deps, { id: listing.id, address: addrs[1]! })).proven).toBe(true);
    const after = await getRoyalties(deps, { address: addrs[1]! });
    expect(after.datasets[0]).toMatchObject({ units: '3', claimed: '210', claimable: '0' });
  });

  it('lets a proven recipient claim again without a proof', async () => {
    await report(200n); // 700 more
    const id = BigInt(listing.chainDatasetId);
    const r = await getRoyalties(deps, { address: addrs[1]! });
    expect(r.datasets[0]?.claimable).toBe('210');
    const balance = await sys.token.balanceOf(addrs[1]!);
    await (await sys.manager.connect(people[1]!).claim([id])).wait();
    expect((await sys.token.balanceOf(addrs[1]!)) - balance).toBe(210n);
  });

  it('refuses to serve a tree whose root is not the one the registry records', async () => {
    const { dataset } = await createListing(deps, { owner: addrs[0]!, input: input({ merkleShares: [{ account: addrs[1]!, units: '1' }] }) });
    const explicitId = await registerExplicit(sys, people[0]!, PRICE, { recipients: [addrs[0]!], bps: [10_000] });
    const mismatched = await registered(dataset, explicitId);
    expect(await code(getSplitShare(deps, { id: mismatched.id, address: addrs[1]! }))).toBe('SPLIT_ROOT_MISMATCH');
  });

  it('refuses a stored dump whose leaves were edited', async () => {
    const dump = JSON.parse(JSON.stringify(await deps.content.getJson(listing.merkleSplit!.treeCid))) as { values: { value: [string, string] }[] };
    dump.values[0]!.value[1] = '999';
    const { cid } = await deps.content.addJson(dump);
    const { dataset } = await createListing(deps, { owner: addrs[0]!, input: input({ royaltySplit: [{ recipient: addrs[0]!, bps: 10_000 }] }) });
    const tampered = { ...dataset, version: 2, royaltySplit: [], merkleSplit: { ...listing.merkleSplit!, treeCid: cid } };
    await deps.datasets.replace(tampered, 1);
    expect(await code(getSplitShare(deps, { id: dataset.id, address: addrs[1]! }))).toBe('SPLIT_TREE_INVALID');
  });

  it('refuses to replace a Merkle split with an explicit one, leaving the listing as it was', async () => {
    const refused = await code(updateListing(deps, { caller: addrs[0]!, id: listing.id, patch: { royaltySplit: [{ recipient: addrs[0]!, bps: 10_000 }] } }));
    expect(refused).toBe('SPLIT_KIND_FIXED');
    expect((await deps.datasets.get(listing.id))?.dataset).toEqual(listing);
    const edited = await updateListing(deps, { caller: addrs[0]!, id: listing.id, patch: { title: 'Contributed notes, v2' } });
    expect(edited.merkleSplit).toEqual(listing.merkleSplit);
    listing = edited as typeof listing;
  });
});
