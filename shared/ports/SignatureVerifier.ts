import type { HealthCheck } from './Health.js';

/**
 * What the API needs from the chain to authenticate callers whose keys live in contracts (ERC-1271 smart
 * accounts held by AI agents). Adapter: `EvmChain` over any JSON-RPC endpoint (Hardhat node or a real chain).
 */
export interface SignatureVerifier extends HealthCheck {
  /** Whether `address` has contract code. */
  isContract(address: string): Promise<boolean>;
  /** ERC-1271: whether `isValidSignature(digest, signature)` on `address` returns the magic value. */
  isValidErc1271Signature(address: string, digest: string, signature: string): Promise<boolean>;
  /**
   * ERC-6492: whether a signature wrapped with its account's factory call is valid for `address`, deploying the
   * account in a simulation when it does not exist yet (counterfactual smart accounts). Nothing is sent on chain.
   */
  isValidErc6492Signature(address: string, digest: string, signature: string): Promise<boolean>;
}
