/**
 * The platform relayer of the API process: in the cloud, an SQS FIFO producer for the single writer
 * (functions/relayer/consume.ts; this function never holds the key); in the embedded stack, one in-process
 * writer. Undefined when neither is configured (relayed routes then answer that gasless calls are off).
 */
import { DynamoRelayJournal } from '../../shared/adapters/aws/DynamoRelayJournal.js';
import { SqsRelayer } from '../../shared/adapters/aws/SqsRelayer.js';
import { AwsJsonClient } from '../../shared/adapters/aws/awsJsonClient.js';
import type { HealthCheck } from '../../shared/ports/Health.js';
import type { Relayer } from '../../shared/ports/Relayer.js';
import { getBase, lazy, notInLambdaBundle } from './base.js';

/** The relayer, built once per process. */
export const getRelayer = /* @__PURE__ */ lazy(async (): Promise<(Relayer & HealthCheck) | undefined> => {
  const { config, dynamo, chain, logger } = await getBase();
  if (config.PROVENA_RELAY_QUEUE_URL && config.PROVENA_RELAYER_ADDRESS) {
    const sqs = new AwsJsonClient({ service: 'sqs', region: config.AWS_REGION, targetPrefix: 'AmazonSQS', jsonVersion: '1.0' });
    return new SqsRelayer({
      queueUrl: config.PROVENA_RELAY_QUEUE_URL,
      relayerAddress: config.PROVENA_RELAYER_ADDRESS,
      send: (input) => sqs.call('SendMessage', { ...input }),
      journal: new DynamoRelayJournal(dynamo, config.PROVENA_TABLE_RELAYER),
      provider: chain.provider,
      lowBalanceWei: config.PROVENA_RELAYER_LOW_BALANCE_WEI,
      minBalanceWei: config.PROVENA_RELAYER_MIN_BALANCE_WEI,
    });
  }
  const relayerKey = config.PROVENA_RELAYER_KEY;
  if (!relayerKey) return undefined;
  // The in-process writer holds the key: the embedded stack's alone. A Lambda relays through the queue's single
  // consumer, so no API bundle carries the writer (see `notInLambdaBundle`).
  if (process.env.PROVENA_BUNDLE !== 'lambda') {
    const { createRelayer } = await import('./relayer.js');
    const local = createRelayer({ ...config, PROVENA_RELAYER_KEY: relayerKey }, chain.provider, dynamo, (err, context) => logger.warn(`relayer: ${context}`, { error: err as Error }));
    void local.start().catch((err: unknown) => logger.warn('relayer recovery failed; retried before the next relayed call', { error: err as Error }));
    return local;
  }
  return notInLambdaBundle('PROVENA_RELAYER_KEY', 'an in-process relayer key');
});
