/**
 * The embedded stack: every component Provena needs, on this machine, on loopback, speaking the real
 * protocols. `npm start` runs it; the integration tests run the very same thing.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import * as z from 'zod';
import { deployProvena, readDeployment, writeDeployment, type Deployment } from '../contracts/deploy.js';
import { DeleteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../shared/adapters/aws/dynamo.js';
import { DynamoDatasetRepo } from '../shared/adapters/aws/DynamoDatasetRepo.js';
import { ensureTables, tableDefinitions } from '../shared/adapters/aws/tables.js';
import { devAccountKey, startEmbeddedChain, type EmbeddedChain } from './embeddedChain.js';
import { startEmbeddedDynamo } from './embeddedDynamo.js';
import { EMBEDDED_S3_DEV_CREDENTIALS, startEmbeddedS3 } from './embeddedS3.js';
import { startHttpServer } from './httpServer.js';
import { BucketSettings, ChainSettings, LogLevel, Port, PrivateKey, TableSettings, parseConfig } from '../shared/configFields.js';
import { createIndexerFromEnv, startIndexerLoop } from '../functions/_lib/indexer.js';

/** Dev account index holding ATTESTOR_ROLE on the embedded chain (0 deploys and administers, 1 relays). */
export const STACK_ATTESTOR_ACCOUNT = 2;

/**
 * Dev account indexes of the embedded stack's worker operators (PROVENA_WORKER_OPERATORS): keys that sign lease
 * requests only, so they need no funds. 20 and up are outside the twenty funded Hardhat accounts that tests use as
 * labs and payers; two, so that a second local worker (or a test) can take over an expired lease.
 */
export const STACK_WORKER_OPERATOR_ACCOUNTS = [20, 21] as const;

/** Repo root (handler paths in the route table are relative to it). */
export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const port = Port;

/** The embedded stack's own settings (the API's settings are derived from them). */
export const StackConfigSchema = z.object({
  /** Where all local state lives; a restart with the same directory keeps listings. */
  PROVENA_DATA_DIR: z.string().min(1).default('.provena'),
  PROVENA_API_PORT: port.default(8787),
  PROVENA_CHAIN_PORT: port.default(8545),
  PROVENA_DYNAMODB_PORT: port.default(8000),
  PROVENA_S3_PORT: port.default(4568),
  /** The one key pair the embedded S3 accepts (SigV4-verified) and the API signs with. Development data only. */
  PROVENA_S3_ACCESS_KEY_ID: z.string().min(1).default(EMBEDDED_S3_DEV_CREDENTIALS.accessKeyId),
  PROVENA_S3_SECRET_ACCESS_KEY: z.string().min(1).default(EMBEDDED_S3_DEV_CREDENTIALS.secretAccessKey),
  /** Use this chain instead of starting a Hardhat node (its deployer key must be funded). */
  PROVENA_CHAIN_RPC_URL: ChainSettings.PROVENA_CHAIN_RPC_URL.optional(),
  /** Deploys the contracts; defaults to Hardhat's first dev account (local chains only). */
  PROVENA_DEPLOYER_KEY: PrivateKey.optional(),
  ...TableSettings,
  ...BucketSettings,
  PROVENA_LOG_LEVEL: LogLevel.default('INFO'),
  /** How often the embedded indexer looks for new blocks, ms. */
  PROVENA_INDEXER_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** Requests per second (steady) each client IP may send the embedded API; 0 turns the limits off. */
  PROVENA_RATE_LIMIT_RPS: z.coerce.number().min(0).max(100_000).default(100),
  /** Requests each client IP may send at once. Routes add their own, stricter per-caller limits (routes.ts). */
  PROVENA_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Lease length of the embedded API's job queue (the integration tests shorten it). */
  PROVENA_JOB_LEASE_SECONDS: z.coerce.number().int().min(2).max(43_200).default(60),
  /** When set, a JSON file describing the running stack is written there once it is ready. */
  PROVENA_READY_FILE: z.string().optional(),
});
export type StackConfig = z.output<typeof StackConfigSchema>;

/** What a running stack tells its users (also written to the ready file). */
export interface StackInfo {
  apiUrl: string;
  rpcUrl: string;
  chainId: number;
  dynamodbEndpoint: string;
  s3Endpoint: string;
  ipfsDir: string;
  dataDir: string;
  deployment: Deployment;
  deploymentFile: string;
  chainLog?: string;
}

export interface RunningStack {
  info: StackInfo;
  stop(): Promise<void>;
}

/** The hash contracts/scripts/build.ts stamps on a build: a deployment of another build is not reused. */
function contractsBuildHash(): string {
  try {
    return readFileSync(join(ROOT, 'contracts', 'artifacts', '.build-hash'), 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

async function deployOrReuse(rpcUrl: string, chainId: number, deployerKey: string, dir: string): Promise<{ deployment: Deployment; file: string; reused: boolean }> {
  const provider = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true });
  const buildHash = contractsBuildHash();
  try {
    const existing = readDeployment(dir, chainId) as (Deployment & { buildHash?: string }) | undefined;
    if (existing && existing.buildHash === buildHash) {
      const codes = await Promise.all(Object.values(existing.contracts).map((a) => provider.getCode(a)));
      // A restarted Hardhat node starts empty: redeploy when any contract is gone.
      if (codes.every((c) => c !== '0x')) return { deployment: existing, file: join(dir, `${chainId}.json`), reused: true };
    }
    const signer = new NonceManager(new Wallet(deployerKey, provider));
    // The attestor is dev account 2, never the deployer (admin): see contracts/README.md, trust assumptions.
    const deployment = await deployProvena(signer, { attestor: new Wallet(devAccountKey(STACK_ATTESTOR_ACCOUNT)).address });
    return { deployment, file: writeDeployment(dir, { ...deployment, buildHash } as Deployment), reused: false };
  } finally {
    provider.destroy();
  }
}

/**
 * After a fresh deployment (a restarted Hardhat node keeps no state), listings still name registry ids of the old
 * chain, which the new chain will hand to other datasets. Forget them, so nothing (key releases included) trusts a
 * registry id that no longer means this listing. Embedded only: a real chain is never reset under the API.
 */
async function forgetChainRegistrations(client: DynamoDBClient, table: string): Promise<number> {
  const repo = new DynamoDatasetRepo(client, table);
  let count = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ProjectionExpression: 'id', ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    for (const item of page.Items ?? []) {
      const stored = await repo.get(item.id?.S as string);
      if (!stored?.dataset.chainDatasetId) continue;
      const { chainDatasetId: _id, chainManifestCid: _cid, ...rest } = stored.dataset;
      await repo.replace(rest, stored.dataset.version);
      count++;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/**
 * Empties the relayer's journal after a chain reset: its entries name transactions of the old chain, and an
 * idempotency key replayed on the new chain must send a transaction, not return a receipt of the old one.
 */
async function forgetRelayJournal(client: DynamoDBClient, table: string): Promise<void> {
  await emptyTable(client, table, 'id');
}

/** Deletes every item of `table` (keyed by `key`). Embedded only. */
async function emptyTable(client: DynamoDBClient, table: string, key: string): Promise<void> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ProjectionExpression: '#k', ExpressionAttributeNames: { '#k': key }, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    for (const item of page.Items ?? []) if (item[key]) await client.send(new DeleteItemCommand({ TableName: table, Key: { [key]: item[key] } }));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/**
 * The HMAC key of page cursors (`PROVENA_CURSOR_SECRET`), generated on first start under the data directory
 * (mode 600, like the key gate's master key) so cursors handed out before a restart still open after it.
 */
export function loadOrCreateCursorSecret(dataDir: string): string {
  const file = join(dataDir, 'api', 'cursor.key');
  mkdirSync(join(dataDir, 'api'), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} must hold 64 lowercase hex digits (delete it to generate a new one)`);
  return hex;
}

/**
 * Starts the chain (or uses `PROVENA_CHAIN_RPC_URL`), deploys the contracts, starts dynalite and s3rver with
 * tables and buckets, and serves the API handlers. Sets the API's environment variables in this process, as
 * Lambda would have them.
 */
export async function startStack(env: Record<string, string | undefined>, log: (line: string) => void = () => {}): Promise<RunningStack> {
  const cfg = parseConfig(StackConfigSchema, env);
  // The SDK warns on every client that Node 20 support ends in 2027; Lambda runs Node 22. Say it once, in the README.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dataDir = resolve(cfg.PROVENA_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };

  try {
    let chain: EmbeddedChain | undefined;
    let rpcUrl = cfg.PROVENA_CHAIN_RPC_URL;
    let chainId: number;
    if (rpcUrl) {
      const p = new JsonRpcProvider(rpcUrl);
      chainId = Number((await p.getNetwork()).chainId);
      p.destroy();
    } else {
      log(`starting chain (hardhat node) on 127.0.0.1:${cfg.PROVENA_CHAIN_PORT || '(any free port)'} ...`);
      chain = await startEmbeddedChain({ root: ROOT, port: cfg.PROVENA_CHAIN_PORT, logDir: join(dataDir, 'logs') });
      stops.push(() => (chain as EmbeddedChain).close());
      rpcUrl = chain.rpcUrl;
      chainId = chain.chainId;
    }
    const deployerKey = cfg.PROVENA_DEPLOYER_KEY ?? devAccountKey(0);
    const { deployment, file: deploymentFile, reused } = await deployOrReuse(rpcUrl, chainId, deployerKey, join(dataDir, 'deployments'));
    log(`contracts ${reused ? 'found' : 'deployed'}: ${Object.entries(deployment.contracts).map(([n, a]) => `${n}=${a}`).join(' ')}`);

    const dynamo = await startEmbeddedDynamo({ dir: join(dataDir, 'dynamodb'), port: cfg.PROVENA_DYNAMODB_PORT });
    stops.push(() => dynamo.close());
    const client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    const created = await ensureTables(
      client,
      tableDefinitions({ datasets: cfg.PROVENA_TABLE_DATASETS, nonces: cfg.PROVENA_TABLE_NONCES, uploads: cfg.PROVENA_TABLE_UPLOADS, relayJournal: cfg.PROVENA_TABLE_RELAYER, licenses: cfg.PROVENA_TABLE_LICENSES, indexer: cfg.PROVENA_TABLE_INDEXER, relayQuota: cfg.PROVENA_TABLE_RELAY_QUOTA, jobs: cfg.PROVENA_TABLE_JOBS }),
    );
    if (created.length) log(`created or rebuilt tables: ${created.join(', ')}`);
    if (!reused) {
      const forgotten = await forgetChainRegistrations(client, cfg.PROVENA_TABLE_DATASETS);
      if (forgotten) log(`the chain was reset: ${forgotten} listing(s) lost their registry entry; run \`provena dataset register\` and upload again`);
      await forgetRelayJournal(client, cfg.PROVENA_TABLE_RELAYER);
      // The chain index describes the old chain: the indexer rebuilds it from the new deployment's block.
      await emptyTable(client, cfg.PROVENA_TABLE_LICENSES, 'rid');
      await emptyTable(client, cfg.PROVENA_TABLE_INDEXER, 'name');
      // Jobs name job ids of the old chain (the queue is in memory and starts empty).
      await emptyTable(client, cfg.PROVENA_TABLE_JOBS, 'jobId');
    }
    client.destroy();

    const s3Credentials = { accessKeyId: cfg.PROVENA_S3_ACCESS_KEY_ID, secretAccessKey: cfg.PROVENA_S3_SECRET_ACCESS_KEY };
    const s3 = await startEmbeddedS3({ dir: join(dataDir, 's3'), port: cfg.PROVENA_S3_PORT, buckets: [cfg.PROVENA_BUCKET_DATA], credentials: s3Credentials, region: 'us-east-1' });
    stops.push(() => s3.close());

    const ipfsDir = join(dataDir, 'ipfs');
    mkdirSync(ipfsDir, { recursive: true });

    // The API reads its configuration from the environment exactly as a Lambda does.
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      // The embedded S3 verifies SigV4 with exactly this pair; dynalite accepts any. Never send real AWS credentials to them.
      AWS_ACCESS_KEY_ID: s3Credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3Credentials.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      PROVENA_LOG_LEVEL: cfg.PROVENA_LOG_LEVEL,
      PROVENA_DYNAMODB_ENDPOINT: dynamo.endpoint,
      PROVENA_TABLE_DATASETS: cfg.PROVENA_TABLE_DATASETS,
      PROVENA_TABLE_NONCES: cfg.PROVENA_TABLE_NONCES,
      PROVENA_TABLE_UPLOADS: cfg.PROVENA_TABLE_UPLOADS,
      PROVENA_TABLE_RELAYER: cfg.PROVENA_TABLE_RELAYER,
      PROVENA_TABLE_LICENSES: cfg.PROVENA_TABLE_LICENSES,
      PROVENA_TABLE_RELAY_QUOTA: cfg.PROVENA_TABLE_RELAY_QUOTA,
      PROVENA_TABLE_INDEXER: cfg.PROVENA_TABLE_INDEXER,
      PROVENA_TABLE_JOBS: cfg.PROVENA_TABLE_JOBS,
      // No PROVENA_JOB_QUEUE_URL: the API's in-process queue (this process serves every route).
      PROVENA_WORKER_OPERATORS: STACK_WORKER_OPERATOR_ACCOUNTS.map((i) => new Wallet(devAccountKey(i)).address).join(','),
      PROVENA_JOB_LEASE_SECONDS: String(cfg.PROVENA_JOB_LEASE_SECONDS),
      // A local chain does not reorg by itself: index every block at once.
      PROVENA_INDEXER_CONFIRMATIONS: '0',
      PROVENA_INDEXER_START_BLOCK: String(deployment.blockNumber),
      PROVENA_KEY_GATE: 'embedded',
      PROVENA_KEY_GATE_MASTER_KEY_FILE: join(dataDir, 'keygate', 'master.key'),
      PROVENA_RELAYER_KEY: devAccountKey(1),
      PROVENA_CURSOR_SECRET: loadOrCreateCursorSecret(dataDir),
      // The attestor (ATTESTOR_ROLE since deployment) signs through its own relayer instance: see functions/_lib/runtime.ts.
      PROVENA_ATTESTOR_KEY: devAccountKey(STACK_ATTESTOR_ACCOUNT),
      PROVENA_ATTESTATION_POLICY: 'development',
      PROVENA_ATTESTATION_DEV_DIR: dataDir,
      PROVENA_S3_ENDPOINT: s3.endpoint,
      PROVENA_S3_FORCE_PATH_STYLE: 'true',
      PROVENA_BUCKET_DATA: cfg.PROVENA_BUCKET_DATA,
      PROVENA_CONTENT_STORE: 'local',
      PROVENA_IPFS_DIR: ipfsDir,
      PROVENA_CHAIN_RPC_URL: rpcUrl,
      PROVENA_CHAIN_ID: String(chainId),
      PROVENA_CONTRACTS: JSON.stringify(deployment.contracts),
    });

    const api = await startHttpServer({
      root: ROOT,
      port: cfg.PROVENA_API_PORT,
      staticRoot: join(ROOT, 'web', 'dist'),
      ...(cfg.PROVENA_RATE_LIMIT_RPS > 0 ? { rateLimit: { perClient: { ratePerSecond: cfg.PROVENA_RATE_LIMIT_RPS, burst: cfg.PROVENA_RATE_LIMIT_BURST } } } : {}),
    });
    stops.push(() => api.close());

    // The indexer loop (the cloud runs the same tick from a scheduled Lambda).
    const indexer = startIndexerLoop(createIndexerFromEnv(process.env), {
      intervalMs: cfg.PROVENA_INDEXER_INTERVAL_MS,
      onError: (err) => log(`indexer: ${err instanceof Error ? err.message : String(err)} (retrying)`),
    });
    stops.push(() => indexer.stop());

    const info: StackInfo = {
      apiUrl: api.url,
      rpcUrl,
      chainId,
      dynamodbEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      ipfsDir,
      dataDir,
      deployment,
      deploymentFile,
      ...(chain ? { chainLog: chain.logFile } : {}),
    };
    if (cfg.PROVENA_READY_FILE) writeFileSync(cfg.PROVENA_READY_FILE, JSON.stringify(info, null, 2));
    return { info, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
