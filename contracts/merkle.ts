/**
 * Merkle royalty splits: the tree lives in `shared/domain/royaltyTree.ts` (the API, CLI and contract tests build the
 * same leaves); this module keeps the contracts' tests and scripts importing it from here.
 */
export { buildRoyaltyTree, loadRoyaltyTree, verifyRoyaltyProof, type RoyaltyShare, type RoyaltyTree } from '../shared/domain/royaltyTree.js';
