/**
 * Merkle royalty splits for datasets with many contributors. Leaves are OpenZeppelin StandardMerkleTree leaves of
 * `(address account, uint256 units)` (double-hashed, sorted pairs), which the contract verifies with
 * `MerkleProof.verifyCalldata`. The dataset registers `root` and `totalUnits`; each contributor proves its units
 * once (first claim) and claims without a proof afterwards.
 *
 * @example
 * const split = buildRoyaltyTree([{ account: alice, units: 3n }, { account: bob, units: 1n }]);
 * registry.register({ manifestCid, pricePerSample, split: { recipients: [], bps: [], merkleRoot: split.root, totalUnits: split.totalUnits } });
 * manager.claimWithProofs([{ datasetId, units: 3n, proof: split.proof(alice) }], [datasetId]);
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress } from 'ethers';

export interface RoyaltyShare {
  account: string;
  units: bigint;
}

export interface RoyaltyTree {
  root: string;
  totalUnits: bigint;
  /** Units of `account` (0n when absent). */
  unitsOf(account: string): bigint;
  /** The proof of `account`'s leaf; throws when it has none. */
  proof(account: string): string[];
  /** The tree as JSON (StandardMerkleTree's dump format) to store beside the manifest. */
  dump(): unknown;
}

/** Builds the tree. Accounts must be distinct; units positive and summing to at most 2^64 - 1. */
export function buildRoyaltyTree(shares: readonly RoyaltyShare[]): RoyaltyTree {
  const index = new Map<string, number>();
  let totalUnits = 0n;
  const values: [string, string][] = shares.map((s, i) => {
    const account = getAddress(s.account);
    if (index.has(account)) throw new Error(`buildRoyaltyTree: duplicate account ${account}`);
    if (s.units <= 0n) throw new Error(`buildRoyaltyTree: units of ${account} must be positive`);
    index.set(account, i);
    totalUnits += s.units;
    return [account, s.units.toString()];
  });
  if (values.length === 0) throw new Error('buildRoyaltyTree: no shares');
  if (totalUnits >= 1n << 64n) throw new Error('buildRoyaltyTree: total units exceed uint64');
  const tree = StandardMerkleTree.of(values, ['address', 'uint256']);
  return {
    root: tree.root,
    totalUnits,
    unitsOf: (account) => {
      const i = index.get(getAddress(account));
      return i === undefined ? 0n : BigInt(values[i]![1]);
    },
    proof: (account) => {
      const i = index.get(getAddress(account));
      if (i === undefined) throw new Error(`buildRoyaltyTree: ${account} has no share`);
      return tree.getProof(i);
    },
    dump: () => tree.dump(),
  };
}
