import type { Eip712Domain } from './RegistrySubmitter.js';

/** One recipient's position in one dataset's pool, as the LicenseManager's views give it. */
export interface PoolPosition {
  /** Registry dataset id. */
  datasetId: bigint;
  /** Stored units, else the registry's explicit units (0: not a recipient, or a Merkle recipient not yet proven). */
  units: bigint;
  /** `positionOf(datasetId, recipient).claimed`. */
  claimed: bigint;
  /** `claimable(datasetId, recipient)`, or for a Merkle recipient not yet proven, what its tree units are owed. */
  claimable: bigint;
  /** True when `units` come from the split's tree, not the chain: the recipient's first claim must carry a proof. */
  unproven?: boolean;
}

/** A Merkle recipient's leaf, for {@link RoyaltyChain.positions} and {@link SignedClaim.proofs}. */
export interface UnitsProof {
  datasetId: bigint;
  units: bigint;
  proof: string[];
}

/** A dataset's split as the registry records it (`saleTerms`): Merkle root (zero for an explicit split) and units. */
export interface RegistrySplit {
  datasetId: bigint;
  merkleRoot: string;
  totalUnits: bigint;
}

/** A recipient's signed `Claim` (the message fields other than `recipient`, plus the signature). */
export interface SignedClaim {
  recipient: string;
  datasetIds: bigint[];
  to: string;
  deadline: bigint;
  signature: string;
  /**
   * Merkle leaves proven in the same call (`claimWithSig` proves before it claims). Not signed: a proof can only
   * store the recipient's own units, which anyone may do (`proveUnits`).
   */
  proofs?: UnitsProof[];
}

/** A mined claim: what its `RoyaltiesClaimed` event says and where it mined. */
export interface MinedClaim {
  recipient: string;
  to: string;
  amount: bigint;
  txHash: string;
  blockNumber: number;
}

/**
 * The LicenseManager's royalty pools: views read at one block, and gasless claims relayed through the
 * {@link Relayer}. A signed claim takes effect at most once (the contract consumes the recipient's nonce) and the same
 * signature submitted again sends no second transaction: it answers the first one's result.
 *
 * Errors (`ProvenaError` codes): `CLAIM_SIGNATURE_INVALID` (not the recipient's signature over this message and its
 * current nonce), `CLAIM_EXPIRED`, `ROYALTY_NOT_RECIPIENT`, `RELAYER_*` (see the Relayer port), `CHAIN_UNAVAILABLE`.
 */
export interface RoyaltyChain {
  /** The chain's latest block: its number (pin the reads of one answer to it) and timestamp (claim deadlines). */
  latestBlock(): Promise<{ number: number; timestamp: number }>;
  /**
   * `recipient`'s position in each pool, read at `blockTag`. `treeUnits[i]`, when given, is the recipient's units
   * in dataset `i`'s Merkle tree: used (and the claimable computed from the pool's accumulator) while the chain has
   * no units stored for it, so an unproven recipient sees what its first claim will pay.
   */
  positions(recipient: string, datasetIds: readonly bigint[], blockTag: number, treeUnits?: readonly (bigint | undefined)[]): Promise<PoolPosition[]>;
  /** Each dataset's registered split (`saleTerms`), at `blockTag` (default: latest). */
  registrySplits(datasetIds: readonly bigint[], blockTag?: number): Promise<RegistrySplit[]>;
  /** Each pool's total units and everything paid into it (`getPool`), at `blockTag`. */
  pools(datasetIds: readonly bigint[], blockTag: number): Promise<{ datasetId: bigint; totalUnits: bigint; paidIn: bigint }[]>;
  /** Whether each job is open and funded (`isJobActive`), at `blockTag`. */
  activeJobs(jobIds: readonly bigint[], blockTag: number): Promise<boolean[]>;
  /** The nonce `recipient`'s next `Claim` must carry (`claimNonces`), at `blockTag` (default: latest). */
  claimNonce(recipient: string, blockTag?: number): Promise<bigint>;
  /** The LicenseManager's EIP-712 domain. */
  claimDomain(): Eip712Domain;
  /** Submits `claimWithSig` through the relayer and waits until it mined. */
  relayClaim(claim: SignedClaim): Promise<MinedClaim>;
}
