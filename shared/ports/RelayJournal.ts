import type { RelayAttempt, RelayEntry, RelayFailure, RelayReceipt } from '../schemas/relay.js';
import type { HealthCheck } from './Health.js';

/**
 * The relayer's durable record of every call it signs, keyed by (relayer address, idempotency key). Each method is
 * one conditional write, so two writers racing on an entry cannot both win. The relayer writes an entry before it
 * broadcasts, which is what lets a restarted relayer rebroadcast (never re-sign) what it had sent.
 */
export interface RelayJournal extends HealthCheck {
  /** The entry for `idempotencyKey`, or `undefined`. */
  get(relayer: string, idempotencyKey: string): Promise<RelayEntry | undefined>;
  /**
   * Writes a new entry. Returns `false` (and writes nothing) when the key already has an entry that is not
   * `failed` (a failed call may be submitted again).
   */
  create(entry: RelayEntry): Promise<boolean>;
  /** Appends a fee bump. Returns `false` when the entry is no longer pending or is not at `expectedVersion`. */
  addAttempt(relayer: string, idempotencyKey: string, attempt: RelayAttempt, expectedVersion: number): Promise<boolean>;
  /** Marks a pending entry mined with `receipt`. Returns `false` when it was not pending. */
  complete(relayer: string, idempotencyKey: string, receipt: RelayReceipt): Promise<boolean>;
  /** Marks a pending entry `dropped` (can never mine) or `failed` (nothing of it reached the chain). */
  close(relayer: string, idempotencyKey: string, state: 'dropped' | 'failed', error: RelayFailure): Promise<boolean>;
  /** Every pending entry of `relayer`, in nonce order. */
  pending(relayer: string): Promise<RelayEntry[]>;
}
