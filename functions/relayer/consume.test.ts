/**
 * The cloud relayer's shape without AWS: the producer's SQS FIFO message, and the consumer running the
 * single-writer core over SQS records on Hardhat's in-process chain and a dynalite journal. The "queue" is an array
 * the test delivers by hand, duplicates included (SQS delivers at least once).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SQSRecord } from 'aws-lambda';
import { Wallet } from 'ethers';
import { MockUSD__factory } from '../../contracts/typechain/index.js';
import { SqsRelayer, relayMessage, type RelaySendMessageInput } from '../../shared/adapters/aws/SqsRelayer.js';
import { relayerFixture, type RelayerFixture } from '../../test/support/relayerFixture.js';
import { devAccountKey } from '../../stack/embeddedChain.js';
import type { RelayCall } from '../../shared/schemas/relay.js';
import { codeOf } from '../../test/support/errors.js';
import { consumeRelayBatch } from './consume.js';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/provena-relayer.fifo';
const silent = { warn: () => undefined, error: () => undefined };

let fx: RelayerFixture;
beforeAll(async () => {
  fx = await relayerFixture();
});
afterAll(async () => {
  await fx?.close();
});

/** A producer whose queue is an array, and a function that turns queued messages into SQS records. */
function producer(relayerAddress: string) {
  const queued: RelaySendMessageInput[] = [];
  const relayer = new SqsRelayer({
    queueUrl: QUEUE,
    relayerAddress,
    send: async (input) => void queued.push(input),
    journal: fx.journal,
    provider: fx.chain.provider,
    pollIntervalMs: 20,
  });
  // Only the fields the consumer reads; the rest of an SQSRecord is AWS metadata.
  const records = (messages: RelaySendMessageInput[]) => messages.map((m, i) => ({ messageId: `m${i}`, body: m.MessageBody }) as SQSRecord);
  return { relayer, queued, records };
}

const transfer = (key: string, value: string): RelayCall => ({ to: Wallet.createRandom().address, data: '0x', value, idempotencyKey: key });

describe('the cloud relayer', () => {
  it('queues each call in the message group of its relayer, deduplicated by its idempotency key', () => {
    const call = transfer('job:42:open', '5');

    const message = relayMessage(QUEUE, call.to.toLowerCase(), call);

    expect(message).toEqual({ QueueUrl: QUEUE, MessageGroupId: call.to, MessageDeduplicationId: 'job:42:open', MessageBody: JSON.stringify(call) });
    expect(JSON.parse(message.MessageBody)).toEqual(call);
  });

  it('relays queued calls once each, duplicates delivered included, and the producer waits for their receipts', async () => {
    const core = fx.relayer(devAccountKey(17));
    const { relayer, queued, records } = producer(core.address);
    const first = await fx.chain.provider.getTransactionCount(core.address, 'latest');
    const calls = [transfer('q:1', '11'), transfer('q:2', '12'), transfer('q:3', '13')];
    const handles = await Promise.all(calls.map((c) => relayer.submit(c)));
    const batch = records([...queued, queued[1] as RelaySendMessageInput, { ...(queued[0] as RelaySendMessageInput), MessageBody: '{"to":' }]);

    const result = await consumeRelayBatch(core, batch, silent);
    const receipts = await Promise.all(handles.map((h) => h.wait({ timeoutMs: 10_000 })));

    expect(result.batchItemFailures).toEqual([]);
    expect(receipts.map((r) => [r.status, r.nonce])).toEqual([
      ['success', first],
      ['success', first + 1],
      ['success', first + 2],
    ]);
    expect(await fx.chain.provider.getTransactionCount(core.address, 'latest')).toBe(first + 3);
    expect((await Promise.all(calls.map((c) => fx.chain.provider.getBalance(c.to)))).map(String)).toEqual(['11', '12', '13']);
    expect(await fx.journal.pending(core.address)).toEqual([]);
  });

  it('consumes a reverting call without retrying it, and the producer learns RELAYER_REVERTED', async () => {
    const token = await new MockUSD__factory(fx.chain.signers[0] as NonNullable<(typeof fx.chain.signers)[0]>).deploy();
    const core = fx.relayer(devAccountKey(18));
    const { relayer, queued, records } = producer(core.address);
    const data = token.interface.encodeFunctionData('transfer', [Wallet.createRandom().address, 10n ** 30n]);
    const handle = await relayer.submit({ to: await token.getAddress(), data, idempotencyKey: 'q:revert' });

    const result = await consumeRelayBatch(core, records(queued), silent);

    expect(result.batchItemFailures).toEqual([]);
    expect(await codeOf(handle.wait({ timeoutMs: 5_000 }))).toBe('RELAYER_REVERTED');
    expect(await fx.chain.provider.getTransactionCount(core.address, 'latest')).toBe(0);
  });

  it('retries a call the relayer cannot pay for, and every record after it, to keep the group in order', async () => {
    const core = fx.relayer(Wallet.createRandom().privateKey);
    const { relayer, queued, records } = producer(core.address);
    for (const c of [transfer('poor:1', '1'), transfer('poor:2', '2')]) await relayer.submit(c);

    const result = await consumeRelayBatch(core, records(queued), silent);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }]);
    expect(await fx.chain.provider.getTransactionCount(core.address, 'pending')).toBe(0);
  });
});
