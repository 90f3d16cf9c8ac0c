import type { Eip712Domain } from './RegistrySubmitter.js';

/** One recipient's position in one dataset's pool, as the LicenseManager's views give it. */
export interface PoolPosition {
  /** Registry dataset id. */
  datasetId: bigint;
  /** Stored units, else the registry's explicit units (0: not a recipient, or a Merkle recipient not yet proven). */
  units: bigint;
  /** `positionOf(datasetId, recipient).claimed`. */
  claimed: bigint;
  /** `claimable(datasetId, recipient)`. */
  claimable: bigint;
}

/** A recipient's signed `Claim` (the message fields other than `recipient`, plus the signature). */
export interface SignedClaim {
  recipient: string;
  datasetIds: bigint[];
  to: string;
  deadline: bigint;
  signature: string;
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
  /** `recipient`'s position in each pool, read at `blockTag`. */
  positions(recipient: string, datasetIds: readonly bigint[], blockTag: number): Promise<PoolPosition[]>;
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
