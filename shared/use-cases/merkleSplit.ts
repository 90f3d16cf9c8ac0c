import { buildRoyaltyTree, loadRoyaltyTree, type RoyaltyTree } from '../domain/royaltyTree.js';
import { DependencyError } from '../errors.js';
import type { ContentStore } from '../ports/ContentStore.js';
import type { MerkleShare, MerkleSplit } from '../schemas/dataset.js';

/**
 * Builds the Merkle tree of `shares`, stores its dump on IPFS (content-addressed: the same shares always give the
 * same CID) and returns what the listing records.
 */
export async function storeMerkleSplit(content: ContentStore, shares: readonly MerkleShare[]): Promise<MerkleSplit> {
  const tree = buildRoyaltyTree(shares.map((s) => ({ account: s.account, units: BigInt(s.units) })));
  const { cid } = await content.addJson(tree.dump());
  return { root: tree.root, totalUnits: tree.totalUnits.toString(), recipients: tree.size, treeCid: cid };
}

/**
 * Loaded trees by dump CID. A CID names immutable content, so a cached tree is never stale; the bound keeps a warm
 * Lambda's memory flat (a 10,000-leaf tree is about 3 MB parsed).
 */
const trees = new Map<string, RoyaltyTree>();
const MAX_CACHED_TREES = 16;

/**
 * The tree of a listing's Merkle split, read from its stored dump, rehashed, and checked against the root the
 * listing records. `SPLIT_TREE_INVALID` when the dump is not such a tree or its root differs.
 */
export async function loadMerkleSplit(content: ContentStore, split: MerkleSplit): Promise<RoyaltyTree> {
  const cached = trees.get(split.treeCid);
  if (cached && cached.root === split.root) return cached;
  let tree: RoyaltyTree;
  try {
    tree = loadRoyaltyTree(await content.getJson(split.treeCid));
  } catch (err) {
    if (err instanceof DependencyError) throw err;
    throw new DependencyError('SPLIT_TREE_INVALID', `The stored split tree ${split.treeCid} is not a valid royalty tree`, { cause: err });
  }
  if (tree.root !== split.root || tree.totalUnits.toString() !== split.totalUnits) {
    throw new DependencyError('SPLIT_TREE_INVALID', `The stored split tree ${split.treeCid} has root ${tree.root}, not the listing's ${split.root}`);
  }
  if (trees.size >= MAX_CACHED_TREES) trees.delete(trees.keys().next().value as string);
  trees.set(split.treeCid, tree);
  return tree;
}
