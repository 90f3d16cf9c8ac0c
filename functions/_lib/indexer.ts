/**
 * The chain indexer's composition root: its adapters built from validated configuration. The API (health, the
 * license routes), the embedded stack's loop and the cloud's scheduled tick share it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JsonRpcProvider, type Provider } from 'ethers';
import type { z } from 'zod';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { DynamoIndexCursorStore, DynamoLicenseIndex } from '../../shared/adapters/aws/DynamoChainIndex.js';
import { DynamoRoyaltyIndex } from '../../shared/adapters/aws/DynamoRoyaltyIndex.js';
import { EvmChainEventSource } from '../../shared/adapters/chain/EvmChainEventSource.js';
import { ConfigError } from '../../shared/errors.js';
import { IndexerConfigSchema, type IndexerSettings } from '../../shared/config.js';
import { emfRecord, INDEXER_METRICS } from '../../shared/adapters/aws/metrics.js';
import { parseConfig } from '../../shared/configFields.js';
import type { HealthCheck } from '../../shared/ports/Health.js';
import { indexChain, type IndexChainDeps, type IndexChainParameters, type IndexChainReturnType } from '../../shared/use-cases/indexChain.js';
import { indexerHealth } from '../../shared/use-cases/indexerLag.js';

/** What {@link createIndexer} reads. */
export type IndexerWiring = z.output<typeof IndexerSettings> & { PROVENA_CHAIN_ID: number; PROVENA_CONTRACTS: Record<string, string> };

/** A built indexer: one tick, its health (lag) and the license projection it writes. */
export interface Indexer {
  deps: IndexChainDeps;
  params: IndexChainParameters;
  licenses: DynamoLicenseIndex;
  /** Accruals per dataset and claims per recipient (same table as the licenses). */
  royalties: DynamoRoyaltyIndex;
  /** The last indexed block (the cursor's), or the block before the start block when nothing is indexed yet. */
  indexedThrough(): Promise<number>;
  tick(): Promise<IndexChainReturnType>;
  /** `/v1/health` component: lag in blocks and seconds. */
  health: HealthCheck;
}

/** A contract address the indexer needs from PROVENA_CONTRACTS, or CONFIG_INVALID naming it (and `why`). */
function requiredContract(config: IndexerWiring, name: string, why = ''): string {
  const address = config.PROVENA_CONTRACTS[name];
  if (!address) throw new ConfigError(`Invalid configuration:\n  PROVENA_CONTRACTS: has no ${name} address${why}`, [{ path: ['PROVENA_CONTRACTS', name], message: 'missing' }]);
  return address;
}

/** The indexer over `provider` and `dynamo`. Its cursor is named after the chain and the LicenseManager. */
export function createIndexer(config: IndexerWiring, provider: Provider, dynamo: DynamoDBClient): Indexer {
  const manager = requiredContract(config, 'LicenseManager');
  const token = requiredContract(config, 'PaymentToken', ' (claimOne payouts are read from its Transfer events)');
  const source = new EvmChainEventSource(provider, manager, token);
  const cursors = new DynamoIndexCursorStore(dynamo, config.PROVENA_TABLE_INDEXER);
  const licenses = new DynamoLicenseIndex(dynamo, config.PROVENA_TABLE_LICENSES);
  const royalties = new DynamoRoyaltyIndex(dynamo, config.PROVENA_TABLE_LICENSES);
  const deps: IndexChainDeps = { source, cursors, projections: [licenses, royalties] };
  const params: IndexChainParameters = {
    name: `licenses@${config.PROVENA_CHAIN_ID}:${manager}`,
    startBlock: config.PROVENA_INDEXER_START_BLOCK,
    confirmations: config.PROVENA_INDEXER_CONFIRMATIONS,
    maxBlocks: config.PROVENA_INDEXER_BATCH_BLOCKS,
  };
  return {
    deps,
    params,
    licenses,
    royalties,
    indexedThrough: async () => (await cursors.get(params.name))?.block ?? params.startBlock - 1,
    tick: () => indexChain(deps, params),
    health: { health: () => indexerHealth({ source, cursors }, { ...params, maxLagBlocks: config.PROVENA_INDEXER_MAX_LAG_BLOCKS }) },
  };
}

/** The cloud tick's indexer: config read once from `env`. */
export function createIndexerFromEnv(env: Record<string, string | undefined>): Indexer {
  const config = parseConfig(IndexerConfigSchema, env);
  const provider = new JsonRpcProvider(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID, { staticNetwork: true });
  const dynamo = createDynamoClient({ region: config.AWS_REGION, ...(config.PROVENA_DYNAMODB_ENDPOINT ? { endpoint: config.PROVENA_DYNAMODB_ENDPOINT } : {}) });
  return createIndexer(config, provider, dynamo);
}

/**
 * Writes the indexer's lag (blocks behind the confirmation depth) as a CloudWatch embedded-metric log line, which
 * the stack's `IndexerLag` alarm reads; `PROVENA_STAGE` is its dimension.
 */
export function emitIndexerLag(lagBlocks: number, env: Record<string, string | undefined>, write: (line: string) => void = (l) => console.log(l)): void {
  write(JSON.stringify(emfRecord(INDEXER_METRICS.namespace, env.PROVENA_STAGE ?? 'dev', { [INDEXER_METRICS.lagBlocks]: lagBlocks })));
}

/**
 * Runs `indexer.tick()` every `intervalMs` until stopped (the embedded stack's loop). A failed tick is reported
 * and retried at the next interval; a tick that reached the head waits, one that did not continues at once.
 */
export function startIndexerLoop(indexer: Pick<Indexer, 'tick'>, options: { intervalMs: number; onError(err: unknown): void }): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = indexer
      .tick()
      .then((r) => (r.head.number > r.block && !r.raced ? 0 : options.intervalMs))
      .catch((err: unknown) => {
        options.onError(err);
        return options.intervalMs;
      })
      .then((wait) => {
        if (!stopped) timer = setTimeout(loop, wait);
      });
  };
  loop();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
