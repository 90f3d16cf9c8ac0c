/**
 * Merkle royalty splits for datasets with many contributors. Leaves are OpenZeppelin StandardMerkleTree leaves of
 * `(address account, uint256 units)` (double-hashed, sorted pairs), which `RoyaltyPools` verifies with
 * `MerkleProof.verifyCalldata`. The dataset registers `root` and `totalUnits`; each contributor proves its units
 * once (first claim) and claims without a proof afterwards. The tree's dump is stored beside the listing's manifest
 * (content-addressed), so the API can serve each recipient's proof.
 *
 * @example
 * const split = buildRoyaltyTree([{ account: alice, units: 3n }, { account: bob, units: 1n }]);
 * registry.register({ manifestCid, pricePerSample, split: { recipients: [], bps: [], merkleRoot: split.root, totalUnits: split.totalUnits } });
 * manager.claimWithProofs([{ datasetId, units: 3n, proof: split.proof(alice) }], [datasetId]);
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress } from 'ethers';

/** One contributor's units in a Merkle split. */
export interface RoyaltyShare {
  account: string;
  units: bigint;
}

/** The most leaves a split may hold (bounds the dump, the build time and the proof length: 14 hashes). */
export const MAX_MERKLE_SHARES = 10_000;

/** A Merkle split: its root and total units (what the registry records), proofs, and the dump to store. */
export interface RoyaltyTree {
  root: string;
  totalUnits: bigint;
  /** How many leaves (recipients) the tree holds. */
  size: number;
  /** Units of `account` (0n when absent). */
  unitsOf(account: string): bigint;
  /** The proof of `account`'s leaf; throws when it has none. */
  proof(account: string): string[];
  /** The tree as JSON (StandardMerkleTree's dump format) to store beside the manifest. */
  dump(): unknown;
}

const LEAF_ENCODING = ['address', 'uint256'];

function wrap(tree: StandardMerkleTree<[string, string]>, values: readonly [string, string][]): RoyaltyTree {
  const index = new Map<string, number>();
  let totalUnits = 0n;
  values.forEach(([account, units], i) => {
    index.set(account, i);
    totalUnits += BigInt(units);
  });
  return {
    root: tree.root,
    totalUnits,
    size: values.length,
    unitsOf: (account) => {
      const i = index.get(getAddress(account));
      return i === undefined ? 0n : BigInt(values[i]![1]);
    },
    proof: (account) => {
      const i = index.get(getAddress(account));
      if (i === undefined) throw new Error(`royalty tree: ${account} has no share`);
      return tree.getProof(i);
    },
    dump: () => tree.dump(),
  };
}

/** Checks the shares (distinct accounts, positive units, 1..{@link MAX_MERKLE_SHARES} of them, total below 2^64). */
function checked(shares: readonly RoyaltyShare[]): [string, string][] {
  if (shares.length === 0) throw new Error('royalty tree: no shares');
  if (shares.length > MAX_MERKLE_SHARES) throw new Error(`royalty tree: ${shares.length} shares (at most ${MAX_MERKLE_SHARES})`);
  const seen = new Set<string>();
  let totalUnits = 0n;
  const values = shares.map((s): [string, string] => {
    const account = getAddress(s.account);
    if (seen.has(account)) throw new Error(`royalty tree: duplicate account ${account}`);
    if (s.units <= 0n) throw new Error(`royalty tree: units of ${account} must be positive`);
    seen.add(account);
    totalUnits += s.units;
    return [account, s.units.toString()];
  });
  if (totalUnits >= 1n << 64n) throw new Error('royalty tree: total units exceed uint64');
  return values;
}

/** Builds the tree. Accounts must be distinct; units positive and summing to at most 2^64 - 1. */
export function buildRoyaltyTree(shares: readonly RoyaltyShare[]): RoyaltyTree {
  const values = checked(shares);
  return wrap(StandardMerkleTree.of(values, LEAF_ENCODING), values);
}

/**
 * Loads a stored dump and checks it: the `(address,uint256)` standard format, leaves as {@link buildRoyaltyTree}
 * accepts them, and every node rehashed (so `root` is the root of these leaves, not a claim of the dump's). Throws
 * on anything else.
 */
export function loadRoyaltyTree(dump: unknown): RoyaltyTree {
  const data = dump as { format?: unknown; leafEncoding?: unknown; values?: unknown; tree?: unknown };
  if (data?.format !== 'standard-v1' || JSON.stringify(data.leafEncoding) !== JSON.stringify(LEAF_ENCODING) || !Array.isArray(data.values) || !Array.isArray(data.tree)) {
    throw new Error('royalty tree: not a standard (address,uint256) tree dump');
  }
  const tree = StandardMerkleTree.load(data as Parameters<typeof StandardMerkleTree.load<[string, string]>>[0]);
  tree.validate();
  const values: [string, string][] = [];
  for (const [, [account, units]] of tree.entries()) values.push([account, String(units)]);
  const normal = checked(values.map(([account, units]) => ({ account, units: BigInt(units) })));
  normal.forEach(([account], i) => {
    if (account !== values[i]![0]) throw new Error(`royalty tree: account ${values[i]![0]} is not checksummed`);
  });
  return wrap(tree, normal);
}

/** Whether `proof` shows `(account, units)` is a leaf of the tree with `root` (what the contract checks). */
export function verifyRoyaltyProof(root: string, account: string, units: bigint, proof: readonly string[]): boolean {
  return StandardMerkleTree.verify(root, LEAF_ENCODING, [getAddress(account), units.toString()], [...proof]);
}
