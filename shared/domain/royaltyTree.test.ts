import { describe, expect, it } from '@jest/globals';
import { Wallet, getAddress } from 'ethers';
import { MAX_MERKLE_SHARES, buildRoyaltyTree, loadRoyaltyTree, verifyRoyaltyProof } from './royaltyTree.js';

const accounts = Array.from({ length: 5 }, (_, i) => getAddress(`0x${(i + 1).toString(16).padStart(40, '0')}`));
const shares = accounts.map((account, i) => ({ account, units: BigInt(i + 1) }));

describe('royalty trees', () => {
  it('gives every recipient a proof that verifies against the root, and none to a stranger', () => {
    const tree = buildRoyaltyTree(shares);
    expect(tree.totalUnits).toBe(15n);
    expect(tree.size).toBe(5);
    for (const s of shares) expect(verifyRoyaltyProof(tree.root, s.account, s.units, tree.proof(s.account))).toBe(true);
    expect(verifyRoyaltyProof(tree.root, accounts[0]!, 2n, tree.proof(accounts[0]!))).toBe(false);
    expect(tree.unitsOf(Wallet.createRandom().address)).toBe(0n);
  });

  it('reloads its dump to the same root, units and proofs', () => {
    const tree = buildRoyaltyTree(shares);
    const loaded = loadRoyaltyTree(JSON.parse(JSON.stringify(tree.dump())));
    expect(loaded.root).toBe(tree.root);
    expect(loaded.totalUnits).toBe(15n);
    expect(loaded.proof(accounts[3]!)).toEqual(tree.proof(accounts[3]!));
  });

  it('refuses a dump whose leaf was edited (the stored hashes no longer match)', () => {
    const dump = JSON.parse(JSON.stringify(buildRoyaltyTree(shares).dump())) as { values: { value: [string, string] }[] };
    dump.values[0]!.value[1] = '1000';
    expect(() => loadRoyaltyTree(dump)).toThrow();
  });

  it('refuses a dump of another leaf encoding', () => {
    const dump = JSON.parse(JSON.stringify(buildRoyaltyTree(shares).dump())) as { leafEncoding: string[] };
    dump.leafEncoding = ['address', 'uint64'];
    expect(() => loadRoyaltyTree(dump)).toThrow(/not a standard/);
  });

  it('refuses duplicate accounts, zero units, a total of 2^64 and more than the bound', () => {
    expect(() => buildRoyaltyTree([shares[0]!, { ...shares[0]!, account: shares[0]!.account.toLowerCase() }])).toThrow(/duplicate/);
    expect(() => buildRoyaltyTree([{ account: accounts[0]!, units: 0n }])).toThrow(/positive/);
    expect(() => buildRoyaltyTree([{ account: accounts[0]!, units: 1n << 63n }, { account: accounts[1]!, units: 1n << 63n }])).toThrow(/uint64/);
    const many = Array.from({ length: MAX_MERKLE_SHARES + 1 }, (_, i) => ({ account: getAddress(`0x${(i + 1).toString(16).padStart(40, '0')}`), units: 1n }));
    expect(() => buildRoyaltyTree(many)).toThrow(/at most/);
  });
});
