/**
 * Relayed-call quotas and the relayer budget (issue 8, item 6), on Hardhat's in-process chain, the real relayer and
 * dynalite: a refused registration sends nothing (relayer nonce and journal unchanged) and writes nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { Wallet } from 'ethers';
import { deploySystem } from '../../contracts/test/helpers/fixture.js';
import { devAccountKey } from '../../stack/embeddedChain.js';
import { codeOf } from '../../test/support/errors.js';
import { RELAY_QUOTA_TABLE, RELAY_TABLE, relayerFixture, type RelayerFixture } from '../../test/support/relayerFixture.js';
import { DynamoDatasetRepo } from '../adapters/aws/DynamoDatasetRepo.js';
import { DynamoRelayQuotaStore } from '../adapters/aws/DynamoRelayQuotaStore.js';
import { ensureTables, tableDefinitions } from '../adapters/aws/tables.js';
import { PROVENA_ERROR_ABI } from '../adapters/chain/provenaErrors.js';
import { RegistryRelayer } from '../adapters/chain/RegistryRelayer.js';
import type { EvmRelayer } from '../adapters/chain/EvmRelayer.js';
import { LocalUnixfsContentStore } from '../adapters/ipfs/LocalUnixfsContentStore.js';
import { ProvenaError } from '../errors.js';
import type { DatasetInputWire } from '../schemas/dataset.js';
import { DatasetInput } from '../schemas/dataset.js';
import { createListing } from './createListing.js';
import type { ListingDeps } from './deps.js';
import { registerListing, registrationTypedData, type RegistrationDeps } from './registerListing.js';
import { withinRelayQuota, type RelayQuotaPolicy } from './relayQuota.js';

let fx: RelayerFixture;
let relayer: EvmRelayer;
/** Registration deps plus the content store, which creating the listings under test needs. */
type Deps = RegistrationDeps & ListingDeps;
let base: Omit<Deps, 'relayPolicy'>;
let paymentToken: string;

const policy = (over: Partial<RelayQuotaPolicy> = {}): RelayQuotaPolicy => ({ perAddress: 2, windowSeconds: 86_400, budgetGas: 10_000_000n, periodSeconds: 86_400, gasPerCall: 300_000n, ...over });

beforeAll(async () => {
  const system = await deploySystem();
  paymentToken = await system.token.getAddress();
  fx = await relayerFixture();
  await ensureTables(fx.client, tableDefinitions({ datasets: 'quota-datasets', nonces: 'n', uploads: 'u', relayJournal: RELAY_TABLE, relayQuota: RELAY_QUOTA_TABLE }).filter((d) => d.TableName === 'quota-datasets'));
  relayer = fx.relayer(devAccountKey(18), { errorAbi: PROVENA_ERROR_ABI });
  await relayer.start();
  const registry = new RegistryRelayer(fx.chain.provider, Number(fx.chain.chainId), await system.registry.getAddress(), relayer);
  base = {
    datasets: new DynamoDatasetRepo(fx.client, 'quota-datasets'),
    content: new LocalUnixfsContentStore({ dir: mkdtempSync(join(tmpdir(), 'provena-quota-ipfs-')) }),
    now: () => new Date(),
    registry,
    relayQuota: new DynamoRelayQuotaStore(fx.client, RELAY_QUOTA_TABLE),
  };
}, 120_000);
afterAll(async () => {
  await fx?.close();
});

function input(owner: string): DatasetInputWire {
  return {
    title: 'Quota rows',
    description: 'Rows for the quota test.',
    tags: ['test'],
    dataSchema: { kind: 'tabular', columns: [{ name: 'a', type: 'integer' }] },
    sizeBytes: 10,
    license: { paymentToken, pricePerSample: '5', allowedUses: ['training'], expiryOptionsDays: [30] },
    royaltySplit: [{ recipient: owner, bps: 10_000 }],
    anonymization: { identifierColumns: [], redactTextPii: false },
  };
}

/** A fresh listing of `owner` and the owner's signature over its registration. */
async function signedListing(deps: Deps, owner: Pick<Wallet, 'address' | 'signTypedData'>) {
  const { dataset } = await createListing(deps, { owner: owner.address, input: DatasetInput.parse(input(owner.address)) });
  const td = await registrationTypedData(deps, { id: dataset.id });
  const signature = await owner.signTypedData(td.domain, td.types, td.message);
  return { id: dataset.id, signed: { nonce: td.message.nonce, deadline: td.message.deadline, signature } };
}

/** What the relayer has sent: its chain nonce and its journal's entries. */
async function relayerState() {
  const journal = await fx.client.send(new ScanCommand({ TableName: RELAY_TABLE, Select: 'COUNT' }));
  return { nonce: await fx.chain.provider.getTransactionCount(relayer.address, 'pending'), journal: journal.Count };
}

describe('relayed-call quotas', () => {
  it('refuses an address its third registration in a day with RELAYER_QUOTA_EXCEEDED, sending nothing', async () => {
    const deps: Deps = { ...base, relayPolicy: policy({ perAddress: 2 }) };
    const owner = Wallet.createRandom();
    // Each message signs the owner's current registry nonce: sign the next after the previous one mined.
    await registerListing(deps, { caller: owner.address, ...(await signedListing(deps, owner)) });
    await registerListing(deps, { caller: owner.address, ...(await signedListing(deps, owner)) });
    const c = await signedListing(deps, owner);
    const before = await relayerState();

    const refused = registerListing(deps, { caller: owner.address, ...c }).catch((e: unknown) => e);

    const err = (await refused) as ProvenaError;
    expect(err).toBeInstanceOf(ProvenaError);
    expect(err.code).toBe('RELAYER_QUOTA_EXCEEDED');
    expect(err.status).toBe(429);
    expect((err.details as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(await relayerState()).toEqual(before);
    expect((await base.datasets.get(c.id))?.dataset.chainDatasetId).toBeUndefined();
  }, 60_000);

  it('counts each address on its own: another address still registers', async () => {
    const deps: Deps = { ...base, relayPolicy: policy({ perAddress: 1 }) };
    const [first, second] = [Wallet.createRandom(), Wallet.createRandom()];
    await registerListing(deps, { caller: first.address, ...(await signedListing(deps, first)) });

    const listing = await registerListing(deps, { caller: second.address, ...(await signedListing(deps, second)) });

    expect(listing.chainDatasetId).toMatch(/^[1-9][0-9]*$/);
  }, 60_000);

  it('gives the slot back when the chain refuses the call in simulation (a bad signature costs no quota)', async () => {
    const deps: Deps = { ...base, relayPolicy: policy({ perAddress: 1 }) };
    const owner = Wallet.createRandom();
    const good = await signedListing(deps, owner);
    const forged = { ...good.signed, signature: await Wallet.createRandom().signTypedData((await registrationTypedData(deps, { id: good.id })).domain, { X: [{ name: 'a', type: 'uint256' }] }, { a: 1 }) };

    expect(await codeOf(registerListing(deps, { caller: owner.address, id: good.id, signed: forged }))).toBe('VALIDATION_FAILED');

    expect((await registerListing(deps, { caller: owner.address, ...good })).chainDatasetId).toBeDefined();
  }, 60_000);
});

describe('the relayer budget', () => {
  it('refuses every caller with RELAYER_BUDGET_EXHAUSTED once the period budget is committed, sending nothing', async () => {
    // A period of its own (far in the future), so other tests' spend does not count.
    const deps: Deps = { ...base, now: () => new Date(Date.UTC(2031, 0, 1)), relayPolicy: policy({ perAddress: 100, budgetGas: 600_000n, periodSeconds: 3600 }) };
    const spender = new Wallet(Wallet.createRandom().privateKey);
    await withinRelayQuota(deps, { caller: spender.address }, async () => 'sent');
    await withinRelayQuota(deps, { caller: spender.address }, async () => 'sent');
    const owner = Wallet.createRandom();
    const next = await signedListing({ ...base, relayPolicy: policy() }, owner);
    const before = await relayerState();

    const err = (await registerListing(deps, { caller: owner.address, ...next }).catch((e: unknown) => e)) as ProvenaError;

    expect(err.code).toBe('RELAYER_BUDGET_EXHAUSTED');
    expect(err.status).toBe(503);
    expect(await relayerState()).toEqual(before);
    // The refused caller's quota slot was given back: with a budget again it can relay at once.
    const later = { ...deps, relayPolicy: policy({ perAddress: 1, budgetGas: 900_000n, periodSeconds: 3600 }) };
    expect(await withinRelayQuota(later, { caller: owner.address }, async () => 'sent')).toBe('sent');
  }, 60_000);
});
