/**
 * Relayed contract calls: what a use case asks the relayer to send, what it gets back, and the journal entry the
 * relayer keeps per call. The same schemas are the body of the cloud relayer's SQS messages, so producer and
 * consumer cannot drift.
 */
import * as z from 'zod';
import { Address, TokenAmount } from './common.js';

const Hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'must be 0x-prefixed hex bytes');
const Hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte hash');

/**
 * A key naming one intended call. Submitting the same key again returns the first call's result and never sends a
 * second transaction. It doubles as an SQS FIFO deduplication id, hence the character set and length.
 *
 * @example
 * ```ts
 * `registry:register:${keccak256(signature)}`
 * ```
 */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[0-9A-Za-z!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/, 'must be 1-128 printable ASCII characters without spaces');

/** One contract call to relay: target, calldata, optional value (wei) and gas limit, and its idempotency key. */
export const RelayCall = z.strictObject({
  to: Address,
  data: Hex,
  /** Wei sent with the call, a decimal string. */
  value: TokenAmount.optional(),
  /** Fixed gas limit; estimated (plus headroom) when absent. */
  gasLimit: TokenAmount.optional(),
  idempotencyKey: IdempotencyKey,
});
export type RelayCall = z.output<typeof RelayCall>;

/** One event log of a mined relayed call. */
export const RelayLog = z.object({ address: Address, topics: z.array(Hash), data: Hex });
export type RelayLog = z.output<typeof RelayLog>;

/** A relayed call once mined: the hash that was mined (the last fee bump, or an earlier one), nonce and block. */
export const RelayReceipt = z.object({
  idempotencyKey: IdempotencyKey,
  txHash: Hash,
  nonce: z.number().int().nonnegative(),
  blockNumber: z.number().int().nonnegative(),
  /** `reverted`: mined, but the call reverted (the fee was paid, nothing changed). */
  status: z.enum(['success', 'reverted']),
  logs: z.array(RelayLog),
});
export type RelayReceipt = z.output<typeof RelayReceipt>;

/** One signed transaction for a call: the first send, or a fee bump of it with the same nonce. */
export const RelayAttempt = z.object({
  hash: Hash,
  /** The signed raw transaction: rebroadcasting it after a restart can never send the call twice. */
  raw: Hex,
  maxFeePerGas: TokenAmount,
  maxPriorityFeePerGas: TokenAmount,
  /** Epoch milliseconds. */
  sentAt: z.number().int().nonnegative(),
});
export type RelayAttempt = z.output<typeof RelayAttempt>;

/**
 * Where a journaled call stands. `pending`: signed with a nonce, not mined yet. `mined`: a receipt exists for one
 * of its attempts. `dropped`: its nonce was taken by another transaction, or it can never mine (a nonce gap after a
 * chain reset). `failed`: refused before anything was broadcast (a revert in simulation, no funds); the key may be
 * submitted again.
 */
export const RelayState = z.enum(['pending', 'mined', 'dropped', 'failed']);
export type RelayState = z.output<typeof RelayState>;

/** A stable error recorded with a dropped or failed call. */
export const RelayFailure = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });
export type RelayFailure = z.output<typeof RelayFailure>;

/** The relayer's durable record of one call, keyed by (relayer address, idempotency key). */
export const RelayEntry = z.object({
  relayer: Address,
  idempotencyKey: IdempotencyKey,
  call: RelayCall,
  state: RelayState,
  /** Absent on a `failed` entry (no nonce was used). */
  nonce: z.number().int().nonnegative().optional(),
  gasLimit: TokenAmount.optional(),
  attempts: z.array(RelayAttempt),
  receipt: RelayReceipt.optional(),
  error: RelayFailure.optional(),
  /** Optimistic-concurrency counter: every write increments it. */
  version: z.number().int().nonnegative(),
  createdAt: z.number().int().nonnegative(),
  updatedAt: z.number().int().nonnegative(),
});
export type RelayEntry = z.output<typeof RelayEntry>;
