import type { HealthCheck } from './Health.js';

/** A reserved per-address slot, to hand back with {@link RelayQuotaStore.releaseSlot}. */
export interface RelaySlot {
  address: string;
  /** When the slot was taken, epoch milliseconds (also its identity in the window). */
  atMs: number;
}

/**
 * Counters that bound what callers can make the relayer spend (issue 8, item 6): a sliding window of relayed calls
 * per address, and a fixed-period budget across all callers. Every change is one single-item conditional write
 * (no transactions: dynalite has none), and expired entries are dropped on read (dynalite has no TTL).
 *
 * Adapter: `DynamoRelayQuotaStore` (AWS DynamoDB and the embedded dynalite alike).
 */
export interface RelayQuotaStore extends HealthCheck {
  /**
   * Takes one slot for `address` at `nowMs` unless it already holds `limit` slots younger than `windowMs`.
   * Returns the slot, or `{ retryAfterMs }` (when its oldest slot leaves the window) when the window is full.
   */
  takeSlot(address: string, nowMs: number, windowMs: number, limit: number): Promise<RelaySlot | { retryAfterMs: number }>;
  /** Gives back a slot taken by {@link takeSlot} (nothing was relayed for it). Idempotent. */
  releaseSlot(slot: RelaySlot, windowMs: number): Promise<void>;
  /**
   * Adds `amount` to the spend of period `period` unless the total would exceed `budget`. Returns whether it was
   * added. `expiresAtSeconds` lets DynamoDB's TTL delete the period's counter later.
   */
  spend(period: string, amount: bigint, budget: bigint, expiresAtSeconds: number): Promise<boolean>;
  /** Takes back `amount` spent by {@link spend} in `period` (nothing was relayed for it). */
  refund(period: string, amount: bigint): Promise<void>;
}
