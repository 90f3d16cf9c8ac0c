/**
 * The cloud relayer's producer side: {@link Relayer} that enqueues each call on an SQS FIFO queue, one message
 * group per relayer address (so SQS hands one batch at a time to the consumer: a single writer per key across all
 * Lambda containers) and the idempotency key as deduplication id (SQS drops a repeat within five minutes; the
 * consumer's journal drops it after that). The consumer (functions/relayer/consume.ts) runs the same
 * single-writer core as the embedded stack and journals every call; `wait()` reads that journal and the chain.
 *
 * The SQS client is passed in as a `send` function so this module needs no SQS package: wire it with
 * `(input) => sqs.send(new SendMessageCommand(input))` from `@aws-sdk/client-sqs`.
 */
import { getAddress, type Provider } from 'ethers';
import { DependencyError, ProvenaError, type ErrorCode } from '../../errors.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { RelayJournal } from '../../ports/RelayJournal.js';
import type { RelayHandle, Relayer, RelayerBalance, RelayWaitOptions } from '../../ports/Relayer.js';
import { RelayCall, type RelayReceipt } from '../../schemas/relay.js';
import { findReceipt, relayerHealth, type BalanceThresholds } from '../chain/relayerChain.js';

/** The SendMessage input this adapter produces (a subset of `SendMessageCommandInput`). */
export interface RelaySendMessageInput {
  QueueUrl: string;
  MessageBody: string;
  MessageGroupId: string;
  MessageDeduplicationId: string;
}

/** Settings of an {@link SqsRelayer}. */
export interface SqsRelayerOptions extends BalanceThresholds {
  queueUrl: string;
  /** The relayer account whose consumer drains the queue (its message group). */
  relayerAddress: string;
  send: (input: RelaySendMessageInput) => Promise<unknown>;
  /** The consumer's journal, read to learn a call's outcome. */
  journal: RelayJournal;
  /** Read-only: receipts and the relayer's balance. */
  provider: Provider;
  /** How often `wait()` polls. Default 1 s. */
  pollIntervalMs?: number;
}

/**
 * The SendMessage input for `call`: body = the call as JSON, group = the relayer address, deduplication id = the
 * idempotency key.
 */
export function relayMessage(queueUrl: string, relayerAddress: string, call: RelayCall): RelaySendMessageInput {
  return { QueueUrl: queueUrl, MessageBody: JSON.stringify(call), MessageGroupId: getAddress(relayerAddress), MessageDeduplicationId: call.idempotencyKey };
}

/** {@link Relayer} over an SQS FIFO queue. See the module comment. */
export class SqsRelayer implements Relayer {
  private readonly address: string;

  constructor(private readonly options: SqsRelayerOptions) {
    this.address = getAddress(options.relayerAddress);
  }

  async submit(input: RelayCall): Promise<RelayHandle> {
    const call = RelayCall.parse(input);
    const existing = await this.options.journal.get(this.address, call.idempotencyKey);
    if (!existing || existing.state === 'failed') {
      try {
        await this.options.send(relayMessage(this.options.queueUrl, this.address, call));
      } catch (err) {
        throw new DependencyError('DEPENDENCY_FAILED', `Could not queue relayed call ${call.idempotencyKey}`, { cause: err });
      }
    }
    const first = existing?.state === 'failed' ? undefined : existing?.attempts[0];
    return {
      idempotencyKey: call.idempotencyKey,
      ...(existing?.nonce === undefined || existing.state === 'failed' ? {} : { nonce: existing.nonce }),
      ...(first ? { txHash: first.hash } : {}),
      wait: (options) => this.wait(call.idempotencyKey, existing?.state === 'failed' ? existing.updatedAt : undefined, options),
    };
  }

  /**
   * Polls the journal until the consumer has sent the call, then the chain until one of its transactions mined.
   * `staleFailureAt`: a failed entry this submission replaces; its error is not this submission's answer.
   */
  private async wait(key: string, staleFailureAt: number | undefined, options: RelayWaitOptions = {}): Promise<RelayReceipt> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const entry = await this.options.journal.get(this.address, key);
      if (entry?.state === 'mined' && entry.receipt) return entry.receipt;
      if (entry?.state === 'pending') {
        const receipt = await findReceipt(this.options.provider, entry);
        if (receipt) return receipt;
      }
      if ((entry?.state === 'failed' && entry.updatedAt !== staleFailureAt) || entry?.state === 'dropped') {
        const code = (entry.error?.code ?? (entry.state === 'dropped' ? 'RELAYER_DROPPED' : 'RELAYER_REJECTED')) as ErrorCode;
        throw new ProvenaError(code, entry.error?.message ?? `Relayed call ${key} failed`, entry.error?.details ? { details: entry.error.details } : {});
      }
      if (Date.now() >= deadline) throw new ProvenaError('RELAYER_TIMEOUT', `Call ${key} did not mine within ${options.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, Math.min(this.options.pollIntervalMs ?? 1000, Math.max(0, deadline - Date.now()))));
    }
  }

  async balance(): Promise<RelayerBalance> {
    return { address: this.address, wei: (await this.options.provider.getBalance(this.address)).toString() };
  }

  health(): Promise<ComponentHealth> {
    return relayerHealth(this.options.provider, this.address, this.options);
  }
}
