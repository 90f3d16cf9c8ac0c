/** The TS EIP-712 types and Merkle helper agree with the contracts. */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { TypedDataEncoder, Wallet, id } from 'ethers';
import { CLAIM_TYPES, FINAL_REPORT_TYPES, REGISTRATION_TYPES, UPDATE_TYPES, USAGE_REPORT_TYPES, datasetRegistryDomain, licenseManagerDomain } from '../../shared/eip712.js';
import { buildRoyaltyTree } from '../merkle.js';
import { deploySystem, type System } from './helpers/fixture.js';

let sys: System;
beforeAll(async () => {
  sys = await deploySystem('mock', { labs: 0 });
});

const typeHash = (types: Record<string, readonly { name: string; type: string }[]>, primary: string) =>
  id(TypedDataEncoder.from(Object.fromEntries(Object.entries(types).map(([k, v]) => [k, [...v]]))).encodeType(primary));

describe('EIP-712 types', () => {
  test('match the contracts\' typehashes', async () => {
    expect(typeHash(USAGE_REPORT_TYPES, 'UsageReport')).toBe(await sys.manager.USAGE_REPORT_TYPEHASH());
    expect(typeHash(FINAL_REPORT_TYPES, 'FinalReport')).toBe(await sys.manager.FINAL_REPORT_TYPEHASH());
    expect(typeHash(CLAIM_TYPES, 'Claim')).toBe(await sys.manager.CLAIM_TYPEHASH());
    expect(typeHash(REGISTRATION_TYPES, 'Registration')).toBe(await sys.registry.REGISTRATION_TYPEHASH());
    expect(typeHash(UPDATE_TYPES, 'Update')).toBe(await sys.registry.UPDATE_TYPEHASH());
  });
  test('the domain helpers match the contracts\' domain separators', async () => {
    const domain = licenseManagerDomain(sys.chain.chainId, await sys.manager.getAddress());
    expect(TypedDataEncoder.hashDomain(domain)).toBe(await sys.manager.DOMAIN_SEPARATOR());
    const registryDomain = datasetRegistryDomain(sys.chain.chainId, await sys.registry.getAddress());
    expect(TypedDataEncoder.hashDomain(registryDomain)).toBe(await sys.registry.DOMAIN_SEPARATOR());
  });
});

describe('buildRoyaltyTree', () => {
  test('gives each account a proof of its units and sums the total', () => {
    const [a, b, c] = [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address];
    const tree = buildRoyaltyTree([{ account: a, units: 2n }, { account: b, units: 3n }, { account: c, units: 5n }]);
    expect(tree.totalUnits).toBe(10n);
    expect(tree.unitsOf(b.toLowerCase())).toBe(3n);
    expect(tree.unitsOf(Wallet.createRandom().address)).toBe(0n);
    expect(tree.proof(a).length).toBeGreaterThan(0);
  });
  test('rejects duplicates, non-positive units and an empty list', () => {
    const a = Wallet.createRandom().address;
    expect(() => buildRoyaltyTree([{ account: a, units: 1n }, { account: a.toLowerCase(), units: 1n }])).toThrow(/duplicate/);
    expect(() => buildRoyaltyTree([{ account: a, units: 0n }])).toThrow(/positive/);
    expect(() => buildRoyaltyTree([])).toThrow(/no shares/);
  });
});
