import type { RelayCall, RelayReceipt } from '../schemas/relay.js';
import type { HealthCheck } from './Health.js';

/** Options for {@link RelayHandle.wait}. */
export interface RelayWaitOptions {
  /** Give up (error `RELAYER_TIMEOUT`) after this many milliseconds; the call itself goes on. Default: no limit. */
  timeoutMs?: number;
}

/** A submitted call. `nonce` and `txHash` are known once it is signed (at once in-process, later via a queue). */
export interface RelayHandle {
  idempotencyKey: string;
  nonce?: number;
  /** The first transaction's hash; a fee bump replaces it, and the receipt names the one that mined. */
  txHash?: string;
  /**
   * Resolves once a transaction of this call is mined (`status: 'reverted'` included). Rejects with
   * `RELAYER_DROPPED` when the call can never mine, `RELAYER_TIMEOUT` after `timeoutMs`.
   */
  wait(options?: RelayWaitOptions): Promise<RelayReceipt>;
}

/** The relayer's funded account, for health and alerts. */
export interface RelayerBalance {
  address: string;
  /** Wei, as a decimal string. */
  wei: string;
}

/**
 * Sends contract calls from the platform's funded key, one writer per key: every call gets the next nonce, a call
 * stuck in the mempool is re-sent with higher fees, and calls signed before a restart are rebroadcast, never
 * re-signed. Use cases depend on this port; the adapters are the in-process relayer (embedded stack, one queue per
 * key) and the SQS FIFO relayer (cloud, one message group per key).
 *
 * Errors (as `ProvenaError` codes): `RELAYER_REVERTED` (the call reverts in simulation; `details.errorName` is the
 * decoded custom error when known, `details.data` the revert data), `RELAYER_INSUFFICIENT_FUNDS`,
 * `RELAYER_REJECTED` (the node refused the transaction), `RELAYER_STOPPED`, `RELAYER_NOT_CONFIGURED`. Nothing is
 * sent when `submit` throws.
 *
 * @example
 * ```ts
 * const handle = await relayer.submit({ to: registry, data, idempotencyKey: `registry:register:${sigHash}` });
 * const receipt = await handle.wait();
 * ```
 */
export interface Relayer extends HealthCheck {
  /**
   * Queues `call` and resolves once it is signed and handed to the chain (or the queue). The same
   * `idempotencyKey` again returns the first call's handle: one transaction, whatever the number of submissions.
   */
  submit(call: RelayCall): Promise<RelayHandle>;
  /** The relayer account's balance. */
  balance(): Promise<RelayerBalance>;
}
