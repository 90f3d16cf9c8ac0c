/**
 * Gasless registration through the relayer on Hardhat's in-process chain: one transaction per signed message,
 * registry refusals mapped to the API's errors, nothing sent on a refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet, type Signer } from 'ethers';
import { deploySystem } from '../../../contracts/test/helpers/fixture.js';
import { codeOf } from '../../../test/support/errors.js';
import type { Dataset } from '../../schemas/dataset.js';
import { devAccountKey } from '../../../stack/embeddedChain.js';
import type { EvmRelayer } from './EvmRelayer.js';
import { PROVENA_ERROR_ABI } from './provenaErrors.js';
import { RegistryRelayer } from './RegistryRelayer.js';
import { relayerFixture, type RelayerFixture } from '../../../test/support/relayerFixture.js';

let fx: RelayerFixture;
let relayer: EvmRelayer;
let registry: RegistryRelayer;
let registryAddress: string;

beforeAll(async () => {
  const system = await deploySystem();
  fx = await relayerFixture();
  relayer = fx.relayer(devAccountKey(19), { errorAbi: PROVENA_ERROR_ABI });
  await relayer.start();
  registryAddress = await system.registry.getAddress();
  registry = new RegistryRelayer(fx.chain.provider, Number(fx.chain.chainId), registryAddress, relayer);
});
afterAll(async () => {
  await fx?.close();
});

// Only the fields the registry reads; the rest of a Dataset is the API's.
const listingOf = (owner: string, price = '5') =>
  ({ owner, manifestCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', license: { pricePerSample: price }, royaltySplit: [{ recipient: owner, bps: 10_000 }] }) as unknown as Dataset;

async function signedFor(owner: Signer, listing: Dataset) {
  const td = await registry.typedData(listing, Math.floor(Date.now() / 1000));
  const signature = await owner.signTypedData(td.domain, td.types, td.message);
  return { nonce: td.message.nonce, deadline: td.message.deadline, signature };
}

describe('RegistryRelayer', () => {
  it('registers a listing with one transaction, even when the signed message is relayed twice', async () => {
    const owner = Wallet.createRandom();
    const listing = listingOf(owner.address);
    const signed = await signedFor(owner, listing);
    const before = await fx.chain.provider.getTransactionCount(relayer.address, 'latest');

    const [a, b] = await Promise.all([registry.relay(listing, signed), registry.relay(listing, signed)]);

    expect(a).toMatch(/^[1-9][0-9]*$/);
    expect(b).toBe(a);
    expect(await fx.chain.provider.getTransactionCount(relayer.address, 'latest')).toBe(before + 1);
  });

  it('answers VALIDATION_FAILED for a signature over other terms, and sends nothing', async () => {
    const owner = Wallet.createRandom();
    const signed = await signedFor(owner, listingOf(owner.address, '5'));
    const before = await fx.chain.provider.getTransactionCount(relayer.address, 'latest');

    expect(await codeOf(registry.relay(listingOf(owner.address, '6'), signed))).toBe('VALIDATION_FAILED');

    expect(await fx.chain.provider.getTransactionCount(relayer.address, 'latest')).toBe(before);
  });

  it('answers RELAYER_NOT_CONFIGURED without a relayer key', async () => {
    const owner = Wallet.createRandom();
    const listing = listingOf(owner.address);
    const bare = new RegistryRelayer(fx.chain.provider, Number(fx.chain.chainId), registryAddress, undefined);

    expect(await codeOf(bare.relay(listing, await signedFor(owner, listing)))).toBe('RELAYER_NOT_CONFIGURED');
  });
});
