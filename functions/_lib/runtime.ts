/**
 * The API's process-wide services, built once per cold start from validated configuration. Every handler
 * module calls `getRuntime()`; on Lambda that is once per container, in the embedded server once per process.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { DynamoDatasetRepo } from '../../shared/adapters/aws/DynamoDatasetRepo.js';
import { DynamoNonceStore } from '../../shared/adapters/aws/DynamoNonceStore.js';
import { S3BlobStore } from '../../shared/adapters/aws/S3BlobStore.js';
import { EvmChain } from '../../shared/adapters/chain/EvmChain.js';
import { KuboContentStore } from '../../shared/adapters/ipfs/KuboContentStore.js';
import { LocalUnixfsContentStore } from '../../shared/adapters/ipfs/LocalUnixfsContentStore.js';
import { ApiConfigSchema, parseConfig, type ApiConfig } from '../../shared/config.js';
import type { HttpRuntime } from '../../shared/http/handler.js';
import type { ContentStore } from '../../shared/ports/ContentStore.js';
import type { HealthCheck } from '../../shared/ports/Health.js';
import type { ListingDeps } from '../../shared/use-cases/deps.js';

/** Everything a handler may use. */
export interface Runtime extends HttpRuntime {
  config: ApiConfig;
  listings: ListingDeps;
  chain: EvmChain;
  /** Ciphertext objects (S3 / s3rver). */
  blobs: S3BlobStore;
  /** Named health checks for `GET /v1/health`. */
  components: Record<string, HealthCheck>;
}

let runtime: Promise<Runtime> | undefined;

function contentStore(config: ApiConfig): ContentStore {
  if (config.PROVENA_CONTENT_STORE === 'kubo') return new KuboContentStore({ url: config.PROVENA_KUBO_URL as string });
  return new LocalUnixfsContentStore({ dir: config.PROVENA_IPFS_DIR as string });
}

async function build(env: Record<string, string | undefined>): Promise<Runtime> {
  const config = parseConfig(ApiConfigSchema, env);
  const logger = new Logger({
    serviceName: 'provena-api',
    logLevel: config.PROVENA_LOG_LEVEL,
  });
  const dynamo = createDynamoClient({ region: config.AWS_REGION, ...(config.PROVENA_DYNAMODB_ENDPOINT ? { endpoint: config.PROVENA_DYNAMODB_ENDPOINT } : {}) });
  const datasets = new DynamoDatasetRepo(dynamo, config.PROVENA_TABLE_DATASETS);
  const nonces = new DynamoNonceStore(dynamo, config.PROVENA_TABLE_NONCES);
  const chain = new EvmChain(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID);
  const content = contentStore(config);
  const blobs = new S3BlobStore({
    bucket: config.PROVENA_BUCKET_DATA,
    region: config.AWS_REGION,
    ...(config.PROVENA_S3_ENDPOINT ? { endpoint: config.PROVENA_S3_ENDPOINT } : {}),
    forcePathStyle: config.PROVENA_S3_FORCE_PATH_STYLE,
  });
  return {
    config,
    logger,
    maxBodyBytes: config.PROVENA_MAX_BODY_BYTES,
    verify: {
      chainId: config.PROVENA_CHAIN_ID,
      nonces,
      chain,
      maxSkewSeconds: config.PROVENA_AUTH_MAX_SKEW_SECONDS,
      now: () => Math.floor(Date.now() / 1000),
    },
    listings: { datasets, content, now: () => new Date() },
    chain,
    blobs,
    components: { datasets, nonces, chain, ipfs: content, s3: blobs },
  };
}

/** The runtime, built on first use from `process.env`. A config error is thrown to every caller alike. */
export function getRuntime(): Promise<Runtime> {
  runtime ??= build(process.env);
  return runtime;
}
