/**
 * Builds the relayer from validated configuration: the API (embedded stack) and the cloud queue consumer share it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { JsonRpcProvider, type Provider } from 'ethers';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { DynamoRelayJournal } from '../../shared/adapters/aws/DynamoRelayJournal.js';
import { EvmRelayer } from '../../shared/adapters/chain/EvmRelayer.js';
import { PROVENA_ERROR_ABI } from '../../shared/adapters/chain/provenaErrors.js';
import { RelayerConsumerConfigSchema, type RelayerSettings } from '../../shared/config.js';
import { parseConfig } from '../../shared/configFields.js';
import type { z } from 'zod';

/** What {@link createRelayer} reads. */
export type RelayerConfig = z.output<typeof RelayerSettings> & { PROVENA_RELAYER_KEY: string; PROVENA_CHAIN_ID: number };

/** The single writer for `config.PROVENA_RELAYER_KEY`, journaling to `PROVENA_TABLE_RELAYER`. Not started. */
export function createRelayer(
  config: RelayerConfig,
  provider: Provider,
  dynamo: DynamoDBClient,
  onError: (err: unknown, context: string) => void,
  pollIntervalMs?: number,
): EvmRelayer {
  return new EvmRelayer({
    provider,
    privateKey: config.PROVENA_RELAYER_KEY,
    chainId: config.PROVENA_CHAIN_ID,
    journal: new DynamoRelayJournal(dynamo, config.PROVENA_TABLE_RELAYER),
    bumpAfterMs: config.PROVENA_RELAYER_BUMP_AFTER_SECONDS * 1000,
    lowBalanceWei: config.PROVENA_RELAYER_LOW_BALANCE_WEI,
    minBalanceWei: config.PROVENA_RELAYER_MIN_BALANCE_WEI,
    errorAbi: PROVENA_ERROR_ABI,
    onError,
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
  });
}

/** What the SQS consumer drives: the single writer's recover/submit/tick. */
export type RelayCore = Pick<EvmRelayer, 'recover' | 'submit' | 'tick'>;

/** The relayer consumer's composition root: its config read once from `env`, its adapters built here. */
export function createConsumerRelayer(env: Record<string, string | undefined>, logger: Logger): RelayCore {
  const config = parseConfig(RelayerConsumerConfigSchema, env);
  logger.setLogLevel(config.PROVENA_LOG_LEVEL);
  const provider = new JsonRpcProvider(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID, { staticNetwork: true });
  const dynamo = createDynamoClient({ region: config.AWS_REGION, ...(config.PROVENA_DYNAMODB_ENDPOINT ? { endpoint: config.PROVENA_DYNAMODB_ENDPOINT } : {}) });
  return createRelayer(config, provider, dynamo, (err, context) => logger.warn(`relayer: ${context}`, { error: err as Error }));
}
