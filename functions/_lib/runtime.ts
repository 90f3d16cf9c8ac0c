/**
 * The API's process-wide services, built once per cold start from validated configuration. Every handler
 * module calls `getRuntime()`; on Lambda that is once per container, in the embedded server once per process.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { JsonRpcProvider } from 'ethers';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { DynamoDatasetRepo } from '../../shared/adapters/aws/DynamoDatasetRepo.js';
import { DynamoNonceStore } from '../../shared/adapters/aws/DynamoNonceStore.js';
import { DynamoRelayQuotaStore } from '../../shared/adapters/aws/DynamoRelayQuotaStore.js';
import { DynamoUploadRepo } from '../../shared/adapters/aws/DynamoUploadRepo.js';
import { S3BlobStore } from '../../shared/adapters/aws/S3BlobStore.js';
import { EvmChain } from '../../shared/adapters/chain/EvmChain.js';
import { EvmConditionEvaluator } from '../../shared/adapters/chain/EvmConditionEvaluator.js';
import { RegistryRelayer } from '../../shared/adapters/chain/RegistryRelayer.js';
import { EvmRoyaltyChain } from '../../shared/adapters/chain/EvmRoyaltyChain.js';
import { ProvenaAccessConditions } from '../../shared/adapters/chain/ProvenaAccessConditions.js';
import { KuboContentStore } from '../../shared/adapters/ipfs/KuboContentStore.js';
import { LocalUnixfsContentStore } from '../../shared/adapters/ipfs/LocalUnixfsContentStore.js';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsGateInbox } from '../../shared/adapters/aws/KmsGateInbox.js';
import { KmsKeyGate } from '../../shared/adapters/aws/KmsKeyGate.js';
import { AwsJsonClient } from '../../shared/adapters/aws/awsJsonClient.js';
import { DynamoRelayJournal } from '../../shared/adapters/aws/DynamoRelayJournal.js';
import { SqsRelayer } from '../../shared/adapters/aws/SqsRelayer.js';
import type { Relayer } from '../../shared/ports/Relayer.js';
import { EmbeddedKeyGate, loadOrCreateMasterKey } from '../../shared/adapters/local/EmbeddedKeyGate.js';
import { ApiConfigSchema, type ApiConfig } from '../../shared/config.js';
import { parseConfig } from '../../shared/configFields.js';
import { gateInbox, type GateInbox } from '../../shared/crypto/gateInbox.js';
import { keyRequestDomain } from '../../shared/eip712.js';
import { ConfigError, ProvenaError } from '../../shared/errors.js';
import type { HttpRuntime } from '../../shared/http/handler.js';
import type { ContentStore } from '../../shared/ports/ContentStore.js';
import type { ComponentHealth, HealthCheck } from '../../shared/ports/Health.js';
import type { KeyGate } from '../../shared/ports/KeyGate.js';
import type { ListingDeps } from '../../shared/use-cases/deps.js';
import type { RegistrationDeps } from '../../shared/use-cases/registerListing.js';
import type { RoyaltyDeps } from '../../shared/use-cases/getRoyalties.js';
import type { UploadDeps } from '../../shared/use-cases/uploads.js';
import type { ReleaseKeyDeps } from '../../shared/use-cases/releaseKey.js';
import { createAttestationDeps, type AttestationDeps } from './attestation.js';
import { createRelayer } from './relayer.js';
import { createIndexer } from './indexer.js';
import { EvmLicenseViews } from '../../shared/adapters/chain/EvmLicenseViews.js';
import type { LicenseDeps } from '../../shared/use-cases/getLicense.js';
import type { QuoteDatasetDeps } from '../../shared/use-cases/quoteDataset.js';
import type { JobDeps } from '../../shared/use-cases/jobDeps.js';
import { createJobDeps } from './jobs.js';

/** Everything a handler may use. */
export interface Runtime extends HttpRuntime {
  config: ApiConfig;
  listings: ListingDeps;
  /** HMAC key of page cursors (PROVENA_CURSOR_SECRET). */
  cursorKey: Uint8Array;
  registration: RegistrationDeps;
  uploads: UploadDeps;
  keyRelease: ReleaseKeyDeps;
  royalties: RoyaltyDeps;
  /** Worker attestation: nonces, evidence verification, approval by the attestor key. */
  attestation: AttestationDeps;
  /** The license routes: the chain index and the contracts' views. */
  licenses: LicenseDeps;
  quotes: QuoteDatasetDeps;
  /** Training jobs: the job table, the job queue, the chain's job views and relayed reports, artifacts. */
  jobs: JobDeps;
  chain: EvmChain;
  /** Ciphertext objects (S3 / s3rver). */
  blobs: S3BlobStore;
  gate: KeyGate;
  inbox: GateInbox;
  /** Named health checks for `GET /v1/health`. */
  components: Record<string, HealthCheck>;
}

let runtime: Promise<Runtime> | undefined;

async function embeddedGate(config: ApiConfig, chain: EvmChain, nonces: DynamoNonceStore, logger: Logger): Promise<{ gate: KeyGate; inbox: GateInbox }> {
  const masterKeyFile = config.PROVENA_KEY_GATE_MASTER_KEY_FILE as string;
  const inbox = gateInbox(await loadOrCreateMasterKey(masterKeyFile));
  const gate = await EmbeddedKeyGate.open({
    masterKeyFile,
    evaluator: new EvmConditionEvaluator({ [config.PROVENA_CHAIN_NAME]: chain.provider }),
    nonceStore: nonces,
    logger,
    domain: keyRequestDomain(config.PROVENA_CHAIN_ID),
  });
  return { gate, inbox };
}

/**
 * The KMS gate: data keys wrapped under the symmetric gate key, owners' sealed keys opened through the inbox
 * key-agreement key; neither private key leaves KMS.
 */
function kmsGate(config: ApiConfig, chain: EvmChain, nonces: DynamoNonceStore, logger: Logger): { gate: KeyGate; inbox: GateInbox } {
  const client = new KMSClient({ region: config.AWS_REGION, ...(config.PROVENA_KMS_ENDPOINT ? { endpoint: config.PROVENA_KMS_ENDPOINT } : {}) });
  const gate = new KmsKeyGate({
    client,
    keyId: config.PROVENA_KEY_GATE_KEY_ARN as string,
    evaluator: new EvmConditionEvaluator({ [config.PROVENA_CHAIN_NAME]: chain.provider }),
    nonceStore: nonces,
    logger,
    domain: keyRequestDomain(config.PROVENA_CHAIN_ID),
  });
  return { gate, inbox: new KmsGateInbox({ client, keyId: config.PROVENA_KEY_GATE_INBOX_KEY_ARN as string }) };
}

/** The error uploads and key releases answer while the API does not serve the configured gate. */
export const notServed = (backend: string) =>
  new ProvenaError(
    'KEY_GATE_MISCONFIGURED',
    `The '${backend}' key gate is not served by the API yet: its adapter (shared/adapters/lit/LitKeyGate.ts) is unit-tested, but owners need an inbox key to seal data keys to. Uploads and key releases answer this error until then.`,
  );

/**
 * The Lit gate is unit-tested against its documented API, but the API does not serve it yet (it needs an inbox).
 * Listing routes must keep working in the cloud, so the gate fails only where it is used.
 */
class UnservedKeyGate implements KeyGate {
  constructor(readonly backend: 'lit') {}
  wrapDataKey(): Promise<never> {
    return Promise.reject(notServed(this.backend));
  }
  releaseDataKey(): Promise<never> {
    return Promise.reject(notServed(this.backend));
  }
  async health(): Promise<ComponentHealth> {
    return { status: 'down', detail: `${this.backend} key gate`, error: notServed(this.backend).message };
  }
}

function unservedInbox(backend: 'lit'): GateInbox {
  return {
    scheme: 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1',
    publicKey: () => Promise.reject(notServed(backend)),
    open: () => Promise.reject(notServed(backend)),
  };
}

function contentStore(config: ApiConfig): ContentStore {
  if (config.PROVENA_CONTENT_STORE === 'kubo') return new KuboContentStore({ url: config.PROVENA_KUBO_URL as string });
  return new LocalUnixfsContentStore({ dir: config.PROVENA_IPFS_DIR as string });
}

function contract(config: ApiConfig, name: string): string {
  const address = config.PROVENA_CONTRACTS[name];
  if (!address) throw new ConfigError(`Invalid configuration:\n  PROVENA_CONTRACTS: has no ${name} address`, [{ path: ['PROVENA_CONTRACTS', name], message: 'missing' }]);
  return address;
}

async function build(env: Record<string, string | undefined>): Promise<Runtime> {
  const config = parseConfig(ApiConfigSchema, env);
  const logger = new Logger({ serviceName: 'provena-api', logLevel: config.PROVENA_LOG_LEVEL });
  const dynamo = createDynamoClient({ region: config.AWS_REGION, ...(config.PROVENA_DYNAMODB_ENDPOINT ? { endpoint: config.PROVENA_DYNAMODB_ENDPOINT } : {}) });
  const datasets = new DynamoDatasetRepo(dynamo, config.PROVENA_TABLE_DATASETS);
  const nonces = new DynamoNonceStore(dynamo, config.PROVENA_TABLE_NONCES);
  const uploads = new DynamoUploadRepo(dynamo, config.PROVENA_TABLE_UPLOADS);
  const relayQuota = new DynamoRelayQuotaStore(dynamo, config.PROVENA_TABLE_RELAY_QUOTA);
  const chain = new EvmChain(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID);
  const content = contentStore(config);
  const blobs = new S3BlobStore({
    bucket: config.PROVENA_BUCKET_DATA,
    region: config.AWS_REGION,
    ...(config.PROVENA_S3_ENDPOINT ? { endpoint: config.PROVENA_S3_ENDPOINT } : {}),
    forcePathStyle: config.PROVENA_S3_FORCE_PATH_STYLE,
  });

  const { gate, inbox } =
    config.PROVENA_KEY_GATE === 'embedded'
      ? await embeddedGate(config, chain, nonces, logger)
      : config.PROVENA_KEY_GATE === 'kms'
        ? kmsGate(config, chain, nonces, logger)
        : { gate: new UnservedKeyGate(config.PROVENA_KEY_GATE), inbox: unservedInbox(config.PROVENA_KEY_GATE) };

  const listings: ListingDeps = { datasets, content, now: () => new Date() };
  // One in-process writer for the relayer key (the embedded stack); the cloud will enqueue to SQS FIFO instead.
  const relayerKey = config.PROVENA_RELAYER_KEY;
  let relayer: Relayer & HealthCheck | undefined;
  if (config.PROVENA_RELAY_QUEUE_URL && config.PROVENA_RELAYER_ADDRESS) {
    // Cloud: enqueue for the single writer (functions/relayer/consume.ts); this function never holds the key.
    const sqs = new AwsJsonClient({ service: 'sqs', region: config.AWS_REGION, targetPrefix: 'AmazonSQS', jsonVersion: '1.0' });
    relayer = new SqsRelayer({
      queueUrl: config.PROVENA_RELAY_QUEUE_URL,
      relayerAddress: config.PROVENA_RELAYER_ADDRESS,
      send: (input) => sqs.call('SendMessage', { ...input }),
      journal: new DynamoRelayJournal(dynamo, config.PROVENA_TABLE_RELAYER),
      provider: chain.provider,
      lowBalanceWei: config.PROVENA_RELAYER_LOW_BALANCE_WEI,
      minBalanceWei: config.PROVENA_RELAYER_MIN_BALANCE_WEI,
    });
  } else if (relayerKey) {
    const local = createRelayer({ ...config, PROVENA_RELAYER_KEY: relayerKey }, chain.provider, dynamo, (err, context) => logger.warn(`relayer: ${context}`, { error: err as Error }));
    void local.start().catch((err: unknown) => logger.warn('relayer recovery failed; retried before the next relayed call', { error: err as Error }));
    relayer = local;
  }
  const attestation = createAttestationDeps(config, chain.provider, dynamo, content, {
    licenseManager: contract(config, 'LicenseManager'),
    datasetRegistry: contract(config, 'DatasetRegistry'),
    attestationRegistry: contract(config, 'AttestationRegistry'),
  }, logger);
  const registry = new RegistryRelayer(chain.provider, config.PROVENA_CHAIN_ID, contract(config, 'DatasetRegistry'), relayer);
  const indexer = createIndexer(config, chain.provider, dynamo);
  const jobs = createJobDeps(config, { dynamo, provider: chain.provider, relayer, datasets, content, blobs }, {
    licenseManager: contract(config, 'LicenseManager'),
    datasetRegistry: contract(config, 'DatasetRegistry'),
    attestationRegistry: contract(config, 'AttestationRegistry'),
  });
  const views = new EvmLicenseViews(chain.provider, { licenseManager: contract(config, 'LicenseManager'), datasetRegistry: contract(config, 'DatasetRegistry') });
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
    listings,
    cursorKey: config.PROVENA_CURSOR_SECRET,
    registration: {
      ...listings,
      registry,
      relayQuota,
      relayPolicy: {
        perAddress: config.PROVENA_RELAY_QUOTA_PER_ADDRESS,
        windowSeconds: config.PROVENA_RELAY_QUOTA_WINDOW_SECONDS,
        budgetGas: config.PROVENA_RELAY_BUDGET_GAS,
        periodSeconds: config.PROVENA_RELAY_BUDGET_PERIOD_SECONDS,
        gasPerCall: config.PROVENA_RELAY_GAS_PER_CALL,
      },
    },
    uploads: {
      ...listings,
      uploads,
      blobs,
      gate,
      inbox,
      conditions: new ProvenaAccessConditions({ chain: config.PROVENA_CHAIN_NAME, licenseManager: contract(config, 'LicenseManager'), attestationRegistry: contract(config, 'AttestationRegistry') }),
      urlTtlSeconds: config.PROVENA_UPLOAD_URL_TTL_SECONDS,
    },
    keyRelease: { datasets, content, gate, blobs, downloadUrlTtlSeconds: config.PROVENA_DOWNLOAD_URL_TTL_SECONDS },
    royalties: {
      datasets,
      content,
      // Its own provider without ethers' 250 ms request cache: figures read right after a claim must be current.
      pools: new EvmRoyaltyChain(new JsonRpcProvider(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 }), config.PROVENA_CHAIN_ID, contract(config, 'LicenseManager'), contract(config, 'DatasetRegistry'), relayer),
      chainId: config.PROVENA_CHAIN_ID,
      now: () => new Date(),
      history: indexer.royalties,
      indexedThrough: indexer.indexedThrough,
    },
    attestation: attestation.deps,
    licenses: { licenses: indexer.licenses, views },
    quotes: { datasets, views, now: () => new Date() },
    jobs: jobs.deps,
    chain,
    blobs,
    gate,
    inbox,
    components: { datasets, nonces, uploads, chain, ipfs: content, s3: blobs, keyGate: gate, ...(relayer ? { relayer } : {}), ...(attestation.attestor ? { attestor: attestation.attestor } : {}), indexer: indexer.health, jobs: jobs.repo, jobQueue: jobs.queue },
  };
}

/** The runtime, built on first use from `process.env`. A config error is thrown to every caller alike. */
export function getRuntime(): Promise<Runtime> {
  runtime ??= build(process.env);
  return runtime;
}
