/**
 * Builds the relayer from validated configuration: the API (embedded stack) and the cloud queue consumer share it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { JsonRpcProvider, type Provider } from 'ethers';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { DynamoRelayJournal } from '../../shared/adapters/aws/DynamoRelayJournal.js';
import { AwsJsonClient } from '../../shared/adapters/aws/awsJsonClient.js';
import { emfRecord, RELAYER_METRICS } from '../../shared/adapters/aws/metrics.js';
import { readPrivateKeySecret } from '../../shared/adapters/aws/SecretsManagerKey.js';
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

/**
 * The relayer consumer's composition root: its config read once from `env`, the key read from Secrets Manager
 * (`PROVENA_RELAYER_SECRET_ARN`) unless given, its adapters built here. Each monitor tick also writes the balance
 * metric the stack's `RelayerBalanceLow` alarm reads.
 */
export async function createConsumerRelayer(env: Record<string, string | undefined>, logger: Logger, write: (line: string) => void = (l) => console.log(l)): Promise<RelayCore> {
  const config = parseConfig(RelayerConsumerConfigSchema, env);
  logger.setLogLevel(config.PROVENA_LOG_LEVEL);
  const key =
    config.PROVENA_RELAYER_KEY ??
    (await readPrivateKeySecret(
      new AwsJsonClient({
        service: 'secretsmanager',
        region: config.AWS_REGION,
        targetPrefix: 'secretsmanager',
        jsonVersion: '1.1',
        ...(config.PROVENA_SECRETS_MANAGER_ENDPOINT ? { endpoint: config.PROVENA_SECRETS_MANAGER_ENDPOINT } : {}),
      }),
      config.PROVENA_RELAYER_SECRET_ARN as string,
      'PROVENA_RELAYER_SECRET_ARN',
    ));
  const provider = new JsonRpcProvider(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID, { staticNetwork: true });
  const dynamo = createDynamoClient({ region: config.AWS_REGION, ...(config.PROVENA_DYNAMODB_ENDPOINT ? { endpoint: config.PROVENA_DYNAMODB_ENDPOINT } : {}) });
  const relayer = createRelayer({ ...config, PROVENA_RELAYER_KEY: key }, provider, dynamo, (err, context) => logger.warn(`relayer: ${context}`, { error: err as Error }));
  return {
    recover: () => relayer.recover(),
    submit: (call) => relayer.submit(call),
    async tick() {
      await relayer.tick();
      const { wei } = await relayer.balance();
      const low = BigInt(wei) < config.PROVENA_RELAYER_LOW_BALANCE_WEI;
      write(JSON.stringify(emfRecord(RELAYER_METRICS.namespace, config.PROVENA_STAGE, { [RELAYER_METRICS.balanceBelowThreshold]: low ? 1 : 0, [RELAYER_METRICS.balanceEth]: Number(BigInt(wei) / 10n ** 12n) / 1e6 })));
    },
  };
}
