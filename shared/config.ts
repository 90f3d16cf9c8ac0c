/**
 * Configuration, read once at the edge (a Lambda's cold start, `npm start`, the CLI) and validated with zod.
 * A bad or missing value fails at start with a message naming each variable.
 *
 * Only configuration differs between the embedded stack and the cloud: endpoints are set for dynalite/s3rver
 * and left empty for AWS.
 */
import * as z from 'zod';
import {
  BoolSetting as bool,
  BucketSettings,
  ChainSettings,
  ContractAddresses,
  JobQueueSettings,
  HttpUrl as url,
  KeyGateBackend,
  LitAuthSigJson,
  LogLevel,
  PrivateKey,
  REQUIRED_CONTRACTS,
  TableSettings,
} from './configFields.js';


/** Settings of the relayer (shared by the API's in-process relayer and the cloud relayer's queue consumer). */
export const RelayerSettings = z.object({
  PROVENA_TABLE_RELAYER: TableSettings.PROVENA_TABLE_RELAYER,
  /** The relayer's journal of signed calls (DynamoDB). */
  /** A relayed transaction not mined after this long is re-sent with fees raised by 12.5%. */
  PROVENA_RELAYER_BUMP_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** `/v1/health` reports the relayer `degraded` under this balance (wei, decimal). */
  PROVENA_RELAYER_LOW_BALANCE_WEI: z.string().regex(/^[0-9]{1,78}$/).default('50000000000000000').transform(BigInt),
  /** `/v1/health` reports the relayer `down` at or under this balance (wei, decimal). */
  PROVENA_RELAYER_MIN_BALANCE_WEI: z.string().regex(/^[0-9]{1,78}$/).default('0').transform(BigInt),
});

/** Settings of the chain indexer (shared by the API's health check, the embedded loop and the cloud tick). */
export const IndexerSettings = z.object({
  /** The chain index: licenses and jobs (DynamoDB). */
  PROVENA_TABLE_LICENSES: TableSettings.PROVENA_TABLE_LICENSES,
  /** The indexer's cursor (DynamoDB). */
  PROVENA_TABLE_INDEXER: TableSettings.PROVENA_TABLE_INDEXER,
  /** Blocks below the head the indexer leaves unread (reorgs shallower than this never reach the index). 0 locally. */
  PROVENA_INDEXER_CONFIRMATIONS: z.coerce.number().int().min(0).max(1000).default(12),
  /** The first block to index (the contracts' deployment block). */
  PROVENA_INDEXER_START_BLOCK: z.coerce.number().int().min(0).default(0),
  /** Blocks read per tick at most (one eth_getLogs range). */
  PROVENA_INDEXER_BATCH_BLOCKS: z.coerce.number().int().min(1).max(100_000).default(2000),
  /** `/v1/health` reports the indexer `degraded` when it is more than this many blocks behind the confirmation depth. */
  PROVENA_INDEXER_MAX_LAG_BLOCKS: z.coerce.number().int().min(1).default(100),
});

/** Secrets Manager endpoint; set only by tests, empty for AWS (the relayer's and the Lit gate's keys). */
const SecretsManagerSettings = { PROVENA_SECRETS_MANAGER_ENDPOINT: url.optional() };

/** The environment variables the API handlers read. */
export const ApiConfigSchema = z.object({
  ...RelayerSettings.shape,
  ...IndexerSettings.shape,
  AWS_REGION: z.string().min(1).default('us-east-1'),
  PROVENA_LOG_LEVEL: LogLevel.default('INFO'),
  /** DynamoDB endpoint; set for dynalite, empty for AWS. */
  PROVENA_DYNAMODB_ENDPOINT: url.optional(),
  ...TableSettings,
  ...JobQueueSettings,
  /** Relayed (gasless) calls one address may make per rolling window. */
  PROVENA_RELAY_QUOTA_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(20),
  PROVENA_RELAY_QUOTA_WINDOW_SECONDS: z.coerce.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
  /** Gas the relayer may commit per budget period, across all callers (decimal). */
  PROVENA_RELAY_BUDGET_GAS: z.string().regex(/^[0-9]{1,30}$/).default('100000000').transform(BigInt),
  PROVENA_RELAY_BUDGET_PERIOD_SECONDS: z.coerce.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
  /** Gas reserved from the budget per relayed call (a registration uses about 252k). */
  PROVENA_RELAY_GAS_PER_CALL: z.string().regex(/^[0-9]{1,30}$/).default('300000').transform(BigInt),
  /** S3 endpoint; set for s3rver, empty for AWS. */
  PROVENA_S3_ENDPOINT: url.optional(),
  PROVENA_S3_FORCE_PATH_STYLE: bool.default(false),
  ...BucketSettings,
  /** `local`: the in-process UnixFS store under PROVENA_IPFS_DIR; `kubo`: a real IPFS node at PROVENA_KUBO_URL. */
  PROVENA_CONTENT_STORE: z.enum(['local', 'kubo']).default('local'),
  PROVENA_IPFS_DIR: z.string().min(1).optional(),
  PROVENA_KUBO_URL: url.optional(),
  /** Key gate backend. `embedded`: data keys wrapped by a master key in PROVENA_KEY_GATE_MASTER_KEY_FILE. */
  PROVENA_KEY_GATE: KeyGateBackend.default('embedded'),
  PROVENA_KEY_GATE_MASTER_KEY_FILE: z.string().min(1).optional(),
  /** `kms`: the symmetric key data keys are wrapped under (id or ARN). */
  PROVENA_KEY_GATE_KEY_ARN: z.string().min(1).optional(),
  /** `kms` and `lit`: the inbox key (ECC_NIST_P256, KEY_AGREEMENT) owners seal data keys to. */
  PROVENA_KEY_GATE_INBOX_KEY_ARN: z.string().min(1).optional(),
  /** `lit`: the Lit network (Datil generation) data keys are encrypted under. */
  PROVENA_LIT_NETWORK: z.enum(['datil', 'datil-test', 'datil-dev']).optional(),
  /**
   * `lit`: the pinned release Lit Action's CIDv0 (shared/adapters/lit/actions/provenaRelease.js; the CDK sets it).
   * Unset: only conditions Lit evaluates itself are accepted, so the standard ones are refused.
   */
  PROVENA_LIT_ACTION_CID: z.string().regex(/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/, 'must be a CIDv0 (Qm…)').optional(),
  /**
   * `lit` with an action: the gate's Lit wallet, which signs the gate's own Lit session (scoped to executing the
   * release action only; on datil / datil-test it must hold Capacity Credits). Locally the 0x-hex key itself; in the
   * cloud the ARN of the Secrets Manager secret holding it, read once at cold start.
   */
  PROVENA_LIT_WALLET_KEY: z
    .union([PrivateKey, z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/)], 'must be a 0x-prefixed 32-byte hex private key or a Secrets Manager secret ARN')
    .optional(),
  /**
   * `lit` with a wallet, when that wallet does not own Capacity Credits itself: the credits owner's delegation to
   * it, as the JSON AuthSig Lit's `createCapacityDelegationAuthSig` returns (`{"sig","derivedVia","signedMessage",
   * "address"}`). Not a secret (it names the wallets it delegates to); Lit checks it on every session.
   */
  PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: LitAuthSigJson.optional(),
  ...SecretsManagerSettings,
  /** KMS endpoint; set only by tests (test/support/fakeKms.ts), empty for AWS. */
  PROVENA_KMS_ENDPOINT: url.optional(),
  /**
   * Cloud relayer: the relayer's SQS FIFO queue and its key's address. Set together; then relayed calls are
   * enqueued for the single writer (functions/relayer/consume.ts) instead of PROVENA_RELAYER_KEY signing here.
   */
  PROVENA_RELAY_QUEUE_URL: url.optional(),
  PROVENA_RELAYER_ADDRESS: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address').optional(),
  /** Submits owners' signed registrations (gasless for them). A funded key on the chain. */
  PROVENA_RELAYER_KEY: PrivateKey.optional(),
  /** Lifetime of presigned upload URLs, seconds. */
  PROVENA_UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  /** Lifetime of the presigned ciphertext GET a key release hands out, seconds. */
  PROVENA_DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  ...ChainSettings,
  PROVENA_CONTRACTS: ContractAddresses.default({}),
  /** Accepted clock skew of signed requests, seconds. */
  PROVENA_AUTH_MAX_SKEW_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /**
   * HMAC key (32 bytes as 64 hex digits) that seals pagination cursors so that an altered one is refused. Required:
   * the embedded stack generates one under its data directory; in the cloud, one value shared by every function.
   */
  PROVENA_CURSOR_SECRET: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be 32 bytes as 64 hex digits (e.g. `openssl rand -hex 32`)')
    .transform((s) => Buffer.from(s.replace(/^0x/, ''), 'hex')),
  /** Largest request body accepted, bytes (API Gateway's own limit is 10 MB; Lambda's 6 MB). */
  PROVENA_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(6 * 1024 * 1024).default(4 * 1024 * 1024),
  /**
   * The key holding ATTESTOR_ROLE on the AttestationRegistry: it approves worker keys, and only after their
   * evidence verified. Its own relayer instance (own nonces, own journal entries), never the relayer key.
   */
  PROVENA_ATTESTOR_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key').optional(),
  /**
   * `development`: the development attestor's root (generated under PROVENA_ATTESTATION_DEV_DIR) is trusted, debug
   * evidence allowed (embedded stack only); `production`: pinned vendor roots only, the policy in
   * PROVENA_ATTESTATION_PRODUCTION_POLICY.
   */
  PROVENA_ATTESTATION_POLICY: z.enum(['development', 'production']).default('production'),
  PROVENA_ATTESTATION_DEV_DIR: z.string().min(1).optional(),
  /** JSON of an AttestationPolicy with `production: true` (kinds, modes, allowed measurements per kind, TCB statuses, max age). */
  PROVENA_ATTESTATION_PRODUCTION_POLICY: z.string().min(2).optional(),
  /** How long a worker has to post evidence after asking for a nonce. */
  PROVENA_ATTESTATION_NONCE_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
}).superRefine((c, ctx) => {
  for (const name of REQUIRED_CONTRACTS) {
    if (!c.PROVENA_CONTRACTS[name]) ctx.addIssue({ code: 'custom', path: ['PROVENA_CONTRACTS', name], message: `has no ${name} address` });
  }
  if (c.PROVENA_CONTENT_STORE === 'local' && !c.PROVENA_IPFS_DIR) {
    ctx.addIssue({ code: 'custom', path: ['PROVENA_IPFS_DIR'], message: 'required when PROVENA_CONTENT_STORE=local' });
  }
  if (c.PROVENA_KEY_GATE === 'embedded' && !c.PROVENA_KEY_GATE_MASTER_KEY_FILE) {
    ctx.addIssue({ code: 'custom', path: ['PROVENA_KEY_GATE_MASTER_KEY_FILE'], message: 'required when PROVENA_KEY_GATE=embedded' });
  }
  if (c.PROVENA_KEY_GATE === 'kms') {
    for (const name of ['PROVENA_KEY_GATE_KEY_ARN', 'PROVENA_KEY_GATE_INBOX_KEY_ARN'] as const) {
      if (!c[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required when PROVENA_KEY_GATE=kms' });
    }
  }
  if (c.PROVENA_KEY_GATE === 'lit') {
    for (const name of ['PROVENA_LIT_NETWORK', 'PROVENA_KEY_GATE_INBOX_KEY_ARN'] as const) {
      if (!c[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required when PROVENA_KEY_GATE=lit' });
    }
    if (c.PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG && !c.PROVENA_LIT_WALLET_KEY) {
      ctx.addIssue({ code: 'custom', path: ['PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG'], message: 'needs PROVENA_LIT_WALLET_KEY (it delegates Capacity Credits to the gate wallet)' });
    }
    if (c.PROVENA_LIT_ACTION_CID && !c.PROVENA_LIT_WALLET_KEY) {
      ctx.addIssue({ code: 'custom', path: ['PROVENA_LIT_WALLET_KEY'], message: 'required when PROVENA_LIT_ACTION_CID is set (the gate signs its own Lit session)' });
    }
  }
  if (c.PROVENA_ATTESTATION_POLICY === 'development' && !c.PROVENA_ATTESTATION_DEV_DIR) {
    ctx.addIssue({ code: 'custom', path: ['PROVENA_ATTESTATION_DEV_DIR'], message: 'required when PROVENA_ATTESTATION_POLICY=development' });
  }
  if (c.PROVENA_CONTENT_STORE === 'kubo' && !c.PROVENA_KUBO_URL) {
    ctx.addIssue({ code: 'custom', path: ['PROVENA_KUBO_URL'], message: 'required when PROVENA_CONTENT_STORE=kubo' });
  }
});
export type ApiConfig = z.output<typeof ApiConfigSchema>;

/** The environment the cloud relayer's queue consumer (functions/relayer/consume.ts) reads. */
export const RelayerConsumerConfigSchema = z.object({
  ...RelayerSettings.shape,
  AWS_REGION: z.string().min(1).default('us-east-1'),
  PROVENA_LOG_LEVEL: LogLevel.default('INFO'),
  PROVENA_DYNAMODB_ENDPOINT: url.optional(),
  PROVENA_CHAIN_RPC_URL: ChainSettings.PROVENA_CHAIN_RPC_URL,
  PROVENA_CHAIN_ID: ChainSettings.PROVENA_CHAIN_ID,
  /** The relayer key itself (local runs); in the cloud it is read from PROVENA_RELAYER_SECRET_ARN at cold start. */
  PROVENA_RELAYER_KEY: PrivateKey.optional(),
  /** Secrets Manager secret holding the relayer key (full ARN). */
  PROVENA_RELAYER_SECRET_ARN: z.string().min(1).optional(),
  ...SecretsManagerSettings,
  /** Dimension of the relayer's CloudWatch metrics (the stack sets it). */
  PROVENA_STAGE: z.string().min(1).default('dev'),
}).superRefine((c, ctx) => {
  if (!c.PROVENA_RELAYER_KEY && !c.PROVENA_RELAYER_SECRET_ARN) {
    ctx.addIssue({ code: 'custom', path: ['PROVENA_RELAYER_SECRET_ARN'], message: 'required unless PROVENA_RELAYER_KEY is set' });
  }
});
export type RelayerConsumerConfig = z.output<typeof RelayerConsumerConfigSchema>;

/** The environment the cloud indexer's scheduled Lambda (functions/indexer/tick.ts) reads. */
export const IndexerConfigSchema = z.object({
  ...IndexerSettings.shape,
  AWS_REGION: z.string().min(1).default('us-east-1'),
  PROVENA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
  PROVENA_DYNAMODB_ENDPOINT: url.optional(),
  PROVENA_CHAIN_RPC_URL: url,
  PROVENA_CHAIN_ID: z.coerce.number().int().positive(),
  PROVENA_CONTRACTS: ContractAddresses.default({}),
});
export type IndexerConfig = z.output<typeof IndexerConfigSchema>;
