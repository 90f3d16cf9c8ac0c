/**
 * The relayer's single writer (ethers v6): one FIFO queue per key in this process, so every call gets the next
 * nonce; a journal entry (signed raw transaction, nonce, hashes) written before each broadcast; recovery after a
 * restart by rebroadcasting what was signed; and fee bumps of transactions that do not mine in time.
 *
 * The embedded stack runs it in-process (`start()` also polls for receipts and stuck transactions). The cloud runs
 * the same core inside the SQS FIFO consumer (functions/relayer/consume.ts): one message group per relayer key, so
 * one batch at a time, each starting with `recover()`.
 */
import { Interface, Transaction, Wallet, getAddress, isError, type JsonFragment, type Provider } from 'ethers';
import { ProvenaError, type ErrorCode } from '../../errors.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { RelayJournal } from '../../ports/RelayJournal.js';
import type { RelayHandle, Relayer, RelayerBalance, RelayWaitOptions } from '../../ports/Relayer.js';
import type { RelayAttempt, RelayCall, RelayEntry, RelayFailure, RelayReceipt } from '../../schemas/relay.js';
import { findReceipt, relayerHealth } from './relayerChain.js';

/** Settings of an {@link EvmRelayer}. */
export interface EvmRelayerOptions {
  provider: Provider;
  /** The funded relayer key. Never logged, never in a health answer. */
  privateKey: string;
  chainId: number;
  journal: RelayJournal;
  /** Re-send a transaction with fees raised by 12.5% when it has not mined after this long. Default 60 s. */
  bumpAfterMs?: number;
  /** How often `start()`'s loop looks for receipts and stuck transactions. Default 250 ms. */
  pollIntervalMs?: number;
  /** Gas limit = estimate × (100 + this) / 100. Default 20. */
  gasHeadroomPercent?: number;
  /** Never bump `maxFeePerGas` above this (wei); a transaction at the cap waits. Default: no cap. */
  maxFeeCapWei?: bigint;
  /** `health()` says `degraded` under this balance (wei). Default 0.05 ether. */
  lowBalanceWei?: bigint;
  /** `health()` says `down` at or under this balance (wei). Default 0. */
  minBalanceWei?: bigint;
  /** Custom errors of the contracts it calls, to name a revert (`details.errorName`). */
  errorAbi?: ReadonlyArray<string | JsonFragment>;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Where background failures go (the monitor loop has no caller to throw to). */
  onError?: (err: unknown, context: string) => void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a waiter nobody awaits must not be an unhandled rejection
  return { promise, resolve, reject };
}

/** `x` raised by at least 12.5%, rounded up (the replacement rule of geth-style mempools is 10%). */
export function bumped(x: bigint): bigint {
  return (x * 1125n + 999n) / 1000n;
}

const max = (...xs: bigint[]): bigint => xs.reduce((a, b) => (a > b ? a : b));

function relayError(code: ErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown): ProvenaError {
  return new ProvenaError(code, message, { ...(details ? { details } : {}), ...(cause === undefined ? {} : { cause }) });
}

function failureOf(err: ProvenaError): RelayFailure {
  return { code: err.code, message: err.message, ...(err.details && !Array.isArray(err.details) ? { details: err.details } : {}) };
}

function errorFromFailure(f: RelayFailure | undefined, fallback: ErrorCode): ProvenaError {
  const code = (f?.code ?? fallback) as ErrorCode;
  return relayError(code, f?.message ?? 'The relayed call failed', f?.details);
}

const messageOf = (err: unknown): string => {
  const e = err as { shortMessage?: string; message?: string; info?: { error?: { message?: string } }; error?: { message?: string } };
  return [e?.shortMessage, e?.message, e?.info?.error?.message, e?.error?.message].filter(Boolean).join(' | ');
};
const isInsufficientFunds = (err: unknown) => isError(err, 'INSUFFICIENT_FUNDS') || /insufficient funds|enough funds/i.test(messageOf(err));
const isNonceTooLow = (err: unknown) => isError(err, 'NONCE_EXPIRED') || /nonce too low|nonce has already been used|is too low/i.test(messageOf(err));
const isAlreadyKnown = (err: unknown) => /already known|known transaction|already imported|already in the mempool|already exists/i.test(messageOf(err));
const isUnderpriced = (err: unknown) => isError(err, 'REPLACEMENT_UNDERPRICED') || /underpriced/i.test(messageOf(err));
/** Failures where the node may or may not have taken the transaction: keep it journaled and rebroadcast later. */
const isAmbiguous = (err: unknown) => isError(err, 'NETWORK_ERROR') || isError(err, 'TIMEOUT') || isError(err, 'SERVER_ERROR') || (isError(err, 'UNKNOWN_ERROR') && !messageOf(err));

function revertData(err: unknown): string | undefined {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } } | undefined;
  const data = e?.data ?? e?.info?.error?.data ?? e?.error?.data;
  if (typeof data === 'string' && /^0x[0-9a-fA-F]*$/.test(data)) return data;
  if (data && typeof data === 'object' && typeof (data as { data?: unknown }).data === 'string') return (data as { data: string }).data;
  return undefined;
}

/**
 * The in-process single writer for one relayer key. See the module comment.
 *
 * @example
 * ```ts
 * const relayer = new EvmRelayer({ provider, privateKey, chainId: 31337, journal });
 * await relayer.start();
 * const receipt = await (await relayer.submit({ to, data, idempotencyKey: 'job:42:open' })).wait();
 * ```
 */
export class EvmRelayer implements Relayer {
  /** The relayer account (checksummed). */
  readonly address: string;
  private readonly wallet: Wallet;
  private readonly errors: Interface | undefined;
  private readonly now: () => number;
  private tail: Promise<unknown> = Promise.resolve();
  private nextNonce: number | undefined;
  private recovered = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Calls signed and not yet mined, by idempotency key. */
  private readonly pendingCalls = new Map<string, RelayEntry>();
  private readonly waiters = new Map<string, Deferred<RelayReceipt>>();
  private readonly bumping = new Set<string>();
  /** Ticks in a row on which an entry's nonce was used but none of its hashes had a receipt. */
  private readonly misses = new Map<string, number>();

  constructor(private readonly options: EvmRelayerOptions) {
    this.wallet = new Wallet(options.privateKey);
    this.address = getAddress(this.wallet.address);
    this.errors = options.errorAbi ? new Interface(options.errorAbi as JsonFragment[]) : undefined;
    this.now = options.now ?? (() => Date.now());
  }

  private get provider(): Provider {
    return this.options.provider;
  }

  /** Recovers (see {@link recover}) and starts the loop that settles mined calls and bumps stuck ones. */
  async start(): Promise<void> {
    if (!this.timer && !this.stopped) {
      this.timer = setInterval(() => void this.tick().catch((err) => this.report(err, 'tick')), this.options.pollIntervalMs ?? 250);
      this.timer.unref();
    }
    // If recovery fails here (journal or chain down), the next submit tries again before it signs anything.
    await this.enqueue(() => this.recoverNow());
  }

  /**
   * Stops at once, as a crash would: queued calls that were not signed yet reject with `RELAYER_STOPPED`, waiters
   * too; the call being signed finishes. What was journaled stays pending for the next instance to recover.
   */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.values()) w.reject(relayError('RELAYER_STOPPED', 'The relayer stopped'));
    this.waiters.clear();
  }

  private report(err: unknown, context: string): void {
    this.options.onError?.(err, context);
  }

  /** Runs `job` after every job queued before it: the single writer. */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.stopped) throw relayError('RELAYER_STOPPED', 'The relayer stopped');
      return job();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Runs {@link recoverNow} in the queue (the cloud consumer calls it at the start of every batch). */
  recover(): Promise<void> {
    return this.enqueue(() => this.recoverNow());
  }

  /**
   * Reloads the journal's pending calls: settles those whose nonce the chain has used (mined, or dropped when no
   * hash of theirs has a receipt), rebroadcasts the same signed transactions for the rest, and drops any that sit
   * behind a nonce gap (they could never mine: a chain reset). The next nonce is the larger of the chain's pending
   * count and the last rebroadcast nonce + 1.
   */
  private async recoverNow(): Promise<void> {
    const entries = await this.options.journal.pending(this.address);
    const latest = await this.provider.getTransactionCount(this.address, 'latest');
    this.pendingCalls.clear();
    let expected = latest;
    for (const e of entries) {
      const nonce = e.nonce ?? -1;
      if (nonce < latest) {
        await this.settle(e, true);
      } else if (nonce === expected) {
        this.pendingCalls.set(e.idempotencyKey, e);
        const last = e.attempts[e.attempts.length - 1];
        if (last) await this.broadcast(last.raw).catch((err) => this.report(err, `rebroadcast ${e.idempotencyKey}`));
        expected++;
      } else {
        await this.drop(e, `nonce ${nonce} sits behind a gap (the chain's next nonce is ${expected}): it can never mine`);
      }
    }
    const pending = await this.provider.getTransactionCount(this.address, 'pending');
    this.nextNonce = Math.max(pending, expected);
    this.recovered = true;
  }

  async submit(call: RelayCall): Promise<RelayHandle> {
    if (this.stopped) throw relayError('RELAYER_STOPPED', 'The relayer stopped');
    const entry = await this.enqueue(async () => {
      if (!this.recovered) await this.recoverNow();
      return this.sendNew(call);
    });
    return this.handle(entry);
  }

  /** Signs, journals and broadcasts `call` unless its key has an entry already (then returns that entry). */
  private async sendNew(call: RelayCall, retried = false): Promise<RelayEntry> {
    const { journal } = this.options;
    const existing = this.pendingCalls.get(call.idempotencyKey) ?? (await journal.get(this.address, call.idempotencyKey));
    if (existing && existing.state !== 'failed') return existing;

    const value = BigInt(call.value ?? '0');
    const gasLimit = call.gasLimit ? BigInt(call.gasLimit) : await this.estimate(call, value);
    const fees = await this.fees();
    const nonce = this.nextNonce as number;
    const attempt = await this.sign({ to: call.to, data: call.data, value, gasLimit, nonce }, fees);
    const at = this.now();
    const entry: RelayEntry = {
      relayer: this.address,
      idempotencyKey: call.idempotencyKey,
      call,
      state: 'pending',
      nonce,
      gasLimit: gasLimit.toString(),
      attempts: [attempt],
      version: 0,
      createdAt: at,
      updatedAt: at,
    };
    if (!(await journal.create(entry))) {
      // Another writer journaled this key first (e.g. a redelivered message): the nonce stays unused.
      const first = await journal.get(this.address, call.idempotencyKey);
      if (first) return first;
      throw relayError('RELAYER_REJECTED', `The journal refused call ${call.idempotencyKey}`);
    }
    try {
      await this.broadcast(attempt.raw);
    } catch (err) {
      if (isAmbiguous(err)) {
        this.report(err, `broadcast ${call.idempotencyKey} (kept: it is rebroadcast or bumped later)`);
      } else {
        const failure = this.broadcastFailure(err, call);
        await journal.close(this.address, call.idempotencyKey, 'failed', failureOf(failure));
        if (isNonceTooLow(err) && !retried) {
          // Someone else used this key's nonce: resynchronise and try once more with a fresh nonce.
          this.nextNonce = await this.provider.getTransactionCount(this.address, 'pending');
          return this.sendNew(call, true);
        }
        throw failure;
      }
    }
    this.nextNonce = nonce + 1;
    this.pendingCalls.set(call.idempotencyKey, entry);
    // Look for the receipt soon (an automining chain has it already) rather than a poll interval later.
    if (this.timer) setImmediate(() => void this.tick().catch((err) => this.report(err, 'tick')));
    return entry;
  }

  private broadcastFailure(err: unknown, call: RelayCall): ProvenaError {
    if (isInsufficientFunds(err)) {
      return relayError('RELAYER_INSUFFICIENT_FUNDS', `The relayer ${this.address} cannot pay for call ${call.idempotencyKey}`, { relayer: this.address }, err);
    }
    // Only ethers' short message: the full one carries the request payload (and, for some errors, the RPC URL).
    const reason = ((err as { shortMessage?: string })?.shortMessage ?? 'refused').slice(0, 200);
    return relayError('RELAYER_REJECTED', `The chain refused call ${call.idempotencyKey}: ${reason}`, { relayer: this.address }, err);
  }

  private async estimate(call: RelayCall, value: bigint): Promise<bigint> {
    try {
      const gas = await this.provider.estimateGas({ from: this.address, to: call.to, data: call.data, value });
      return (gas * BigInt(100 + (this.options.gasHeadroomPercent ?? 20))) / 100n;
    } catch (err) {
      if (isInsufficientFunds(err)) {
        const failure = relayError('RELAYER_INSUFFICIENT_FUNDS', `The relayer ${this.address} cannot pay for call ${call.idempotencyKey}`, { relayer: this.address }, err);
        await this.recordFailure(call, failure);
        throw failure;
      }
      const data = revertData(err);
      if (data === undefined && !isError(err, 'CALL_EXCEPTION')) {
        throw relayError('CHAIN_UNAVAILABLE', `Could not simulate call ${call.idempotencyKey}`, undefined, err);
      }
      const errorName = this.decode(data);
      const failure = relayError(
        'RELAYER_REVERTED',
        `Call ${call.idempotencyKey} reverts${errorName ? `: ${errorName}` : ''}`,
        { ...(errorName ? { errorName } : {}), ...(data ? { data } : {}) },
        err,
      );
      await this.recordFailure(call, failure);
      throw failure;
    }
  }

  /** Journals a call refused before anything was signed, so a queued producer can read why; the key stays reusable. */
  private async recordFailure(call: RelayCall, failure: ProvenaError): Promise<void> {
    const at = this.now();
    await this.options.journal
      .create({ relayer: this.address, idempotencyKey: call.idempotencyKey, call, state: 'failed', attempts: [], error: failureOf(failure), version: 0, createdAt: at, updatedAt: at })
      .catch((err) => this.report(err, `journal failure of ${call.idempotencyKey}`));
  }

  private decode(data: string | undefined): string | undefined {
    if (!data || data.length < 10 || !this.errors) return undefined;
    try {
      return this.errors.parseError(data)?.name;
    } catch {
      return undefined;
    }
  }

  private async fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const f = await this.provider.getFeeData();
    const maxPriorityFeePerGas = f.maxPriorityFeePerGas ?? 1_000_000_000n;
    const maxFeePerGas = max(f.maxFeePerGas ?? f.gasPrice ?? maxPriorityFeePerGas, maxPriorityFeePerGas);
    return { maxFeePerGas, maxPriorityFeePerGas };
  }

  private async sign(
    tx: { to: string; data: string; value: bigint; gasLimit: bigint; nonce: number },
    fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  ): Promise<RelayAttempt> {
    const raw = await this.wallet.signTransaction({ type: 2, chainId: this.options.chainId, ...tx, ...fees });
    return {
      hash: Transaction.from(raw).hash as string,
      raw,
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      sentAt: this.now(),
    };
  }

  private async broadcast(raw: string): Promise<void> {
    try {
      await this.provider.broadcastTransaction(raw);
    } catch (err) {
      if (isAlreadyKnown(err)) return;
      throw err;
    }
  }

  private handle(entry: RelayEntry): RelayHandle {
    if (entry.state === 'failed') throw errorFromFailure(entry.error, 'RELAYER_REJECTED');
    const first = entry.attempts[0];
    return {
      idempotencyKey: entry.idempotencyKey,
      ...(entry.nonce === undefined ? {} : { nonce: entry.nonce }),
      ...(first ? { txHash: first.hash } : {}),
      wait: (options) => this.wait(entry.idempotencyKey, options),
    };
  }

  /** Resolves when the call of `idempotencyKey` is mined (see {@link RelayHandle.wait}). */
  async wait(idempotencyKey: string, options: RelayWaitOptions = {}): Promise<RelayReceipt> {
    let result: Promise<RelayReceipt>;
    if (this.pendingCalls.has(idempotencyKey)) {
      let w = this.waiters.get(idempotencyKey);
      if (!w) this.waiters.set(idempotencyKey, (w = deferred()));
      result = w.promise;
    } else {
      const entry = await this.options.journal.get(this.address, idempotencyKey);
      if (!entry) throw relayError('RELAYER_UNKNOWN_CALL', `No relayed call ${idempotencyKey}`);
      if (entry.state === 'mined' && entry.receipt) return entry.receipt;
      if (entry.state === 'pending') {
        // Journaled by another instance and not recovered here: poll the journal.
        result = this.pollJournal(idempotencyKey);
      } else {
        throw errorFromFailure(entry.error, entry.state === 'dropped' ? 'RELAYER_DROPPED' : 'RELAYER_REJECTED');
      }
    }
    if (options.timeoutMs === undefined) return result;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(relayError('RELAYER_TIMEOUT', `Call ${idempotencyKey} did not mine within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async pollJournal(key: string): Promise<RelayReceipt> {
    for (;;) {
      if (this.stopped) throw relayError('RELAYER_STOPPED', 'The relayer stopped');
      await new Promise((r) => setTimeout(r, this.options.pollIntervalMs ?? 250));
      const entry = await this.options.journal.get(this.address, key);
      if (entry?.state === 'mined' && entry.receipt) return entry.receipt;
      if (entry && entry.state !== 'pending') throw errorFromFailure(entry.error, 'RELAYER_DROPPED');
    }
  }

  /**
   * One step of the monitor: settles every pending call whose nonce the chain has used, and queues a fee bump for
   * every call that has waited longer than `bumpAfterMs` since its last send.
   */
  async tick(): Promise<void> {
    if (this.ticking || this.stopped || this.pendingCalls.size === 0) return;
    this.ticking = true;
    try {
      const latest = await this.provider.getTransactionCount(this.address, 'latest');
      const used = [...this.pendingCalls.values()].filter((e) => (e.nonce ?? 0) < latest);
      await Promise.all(used.map((e) => this.settle(e, false)));
      const now = this.now();
      const bumps: Promise<void>[] = [];
      for (const e of this.pendingCalls.values()) {
        const last = e.attempts[e.attempts.length - 1];
        if ((e.nonce ?? 0) < latest || !last || now - last.sentAt < (this.options.bumpAfterMs ?? 60_000) || this.bumping.has(e.idempotencyKey)) continue;
        this.bumping.add(e.idempotencyKey);
        bumps.push(
          this.enqueue(() => this.bump(e.idempotencyKey))
            .catch((err) => this.report(err, `bump ${e.idempotencyKey}`))
            .finally(() => this.bumping.delete(e.idempotencyKey)),
        );
      }
      // Awaited so that a queue consumer's batch ends with its bumps sent (a frozen Lambda sends nothing).
      await Promise.all(bumps);
    } finally {
      this.ticking = false;
    }
  }

  /** Looks for a receipt of any of the entry's hashes (newest first); completes it, or drops it if `final`/repeated. */
  private async settle(entry: RelayEntry, final: boolean): Promise<void> {
    const key = entry.idempotencyKey;
    const result = await findReceipt(this.provider, entry);
    if (!result) {
      const misses = (this.misses.get(key) ?? 0) + 1;
      this.misses.set(key, misses);
      if (final || misses >= 3) await this.drop(entry, `nonce ${entry.nonce} was used by a transaction that is not one of this call's`);
      return;
    }
    await this.options.journal.complete(this.address, key, result).catch((err) => this.report(err, `journal ${key} mined`));
    this.pendingCalls.delete(key);
    this.misses.delete(key);
    this.waiters.get(key)?.resolve(result);
    this.waiters.delete(key);
  }

  private async drop(entry: RelayEntry, why: string): Promise<void> {
    const key = entry.idempotencyKey;
    const failure = relayError('RELAYER_DROPPED', `Call ${key} was dropped: ${why}`, { nonce: entry.nonce });
    await this.options.journal.close(this.address, key, 'dropped', failureOf(failure)).catch((err) => this.report(err, `journal ${key} dropped`));
    this.pendingCalls.delete(key);
    this.misses.delete(key);
    this.waiters.get(key)?.reject(failure);
    this.waiters.delete(key);
  }

  /** Replaces a stuck call's transaction: same nonce, both EIP-1559 fees raised by at least 12.5%, journaled first. */
  private async bump(key: string): Promise<void> {
    const entry = this.pendingCalls.get(key);
    const last = entry?.attempts[entry.attempts.length - 1];
    if (!entry || !last || entry.nonce === undefined || !entry.gasLimit) return;
    const now = await this.fees();
    const maxPriorityFeePerGas = max(bumped(BigInt(last.maxPriorityFeePerGas)), now.maxPriorityFeePerGas);
    let maxFeePerGas = max(bumped(BigInt(last.maxFeePerGas)), now.maxFeePerGas, maxPriorityFeePerGas);
    const cap = this.options.maxFeeCapWei;
    if (cap !== undefined && maxFeePerGas > cap) {
      if (BigInt(last.maxFeePerGas) >= cap || bumped(BigInt(last.maxFeePerGas)) > cap) return; // at the cap: wait
      maxFeePerGas = cap;
    }
    const call = entry.call;
    const attempt = await this.sign({ to: call.to, data: call.data, value: BigInt(call.value ?? '0'), gasLimit: BigInt(entry.gasLimit), nonce: entry.nonce }, { maxFeePerGas, maxPriorityFeePerGas });
    if (!(await this.options.journal.addAttempt(this.address, key, attempt, entry.version))) return; // mined meanwhile
    const next: RelayEntry = { ...entry, attempts: [...entry.attempts, attempt], version: entry.version + 1 };
    if (this.pendingCalls.has(key)) this.pendingCalls.set(key, next);
    try {
      await this.broadcast(attempt.raw);
    } catch (err) {
      // Mined meanwhile (nonce too low) or still underpriced: the next tick settles or bumps again.
      if (!isNonceTooLow(err) && !isUnderpriced(err)) throw err;
    }
  }

  async balance(): Promise<RelayerBalance> {
    return { address: this.address, wei: (await this.provider.getBalance(this.address)).toString() };
  }

  /** `ok`, `degraded` under `lowBalanceWei`, `down` at or under `minBalanceWei` or when the chain does not answer. */
  health(): Promise<ComponentHealth> {
    return relayerHealth(this.provider, this.address, this.options);
  }
}
