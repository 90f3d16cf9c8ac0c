/**
 * Configuration, read once at the edge (a Lambda's cold start, `npm start`, the CLI) and validated with zod.
 * A bad or missing value fails at start with a message naming each variable.
 *
 * Only configuration differs between the embedded stack and the cloud: endpoints are set for dynalite/s3rver
 * and left empty for AWS.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { Address } from './schemas/common.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const url = z.url({ protocol: /^https?$/ });

/** Contract addresses as a JSON object: `{"PaymentToken": "0x…", …}` (shared with the CDK app's config). */
export const ContractAddresses = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of contract name to address' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), Address));

/** Settings of the relayer (shared by the API's in-process relayer and the cloud relayer's queue consumer). */
export const RelayerSettings = z.object({
  /** The relayer's journal of signed calls (DynamoDB). */
  PROVENA_TABLE_RELAYER: z.string().min(3).default('provena-relayer'),
  /** A relayed transaction not mined after this long is re-sent with fees raised by 12.5%. */
  PROVENA_RELAYER_BUMP_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** `/v1/health` reports the relayer `degraded` under this balance (wei, decimal). */
  PROVENA_RELAYER_LOW_BALANCE_WEI: z.string().regex(/^[0-9]{1,78}$/).default('50000000000000000').transform(BigInt),
  /** `/v1/health` reports the relayer `down` at or under this balance (wei, decimal). */
  PROVENA_RELAYER_MIN_BALANCE_WEI: z.string().regex(/^[0-9]{1,78}$/).default('0').transform(BigInt),
});

/** The environment variables the API handlers read. */
export const ApiConfigSchema = z.object({
  ...RelayerSettings.shape,
  AWS_REGION: z.string().min(1).default('us-east-1'),
  PROVENA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
  /** DynamoDB endpoint; set for dynalite, empty for AWS. */
  PROVENA_DYNAMODB_ENDPOINT: url.optional(),
  PROVENA_TABLE_DATASETS: z.string().min(3).default('provena-datasets'),
  PROVENA_TABLE_NONCES: z.string().min(3).default('provena-nonces'),
  PROVENA_TABLE_UPLOADS: z.string().min(3).default('provena-uploads'),
  /** Relayed-call quotas and the relayer budget's spend (shared/use-cases/relayQuota.ts). */
  PROVENA_TABLE_RELAY_QUOTA: z.string().min(3).default('provena-relay-quota'),
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
  PROVENA_BUCKET_DATA: z.string().min(3).default('provena-data'),
  /** `local`: the in-process UnixFS store under PROVENA_IPFS_DIR; `kubo`: a real IPFS node at PROVENA_KUBO_URL. */
  PROVENA_CONTENT_STORE: z.enum(['local', 'kubo']).default('local'),
  PROVENA_IPFS_DIR: z.string().min(1).optional(),
  PROVENA_KUBO_URL: url.optional(),
  /** Key gate backend. `embedded`: data keys wrapped by a master key in PROVENA_KEY_GATE_MASTER_KEY_FILE. */
  PROVENA_KEY_GATE: z.enum(['embedded', 'kms', 'lit']).default('embedded'),
  PROVENA_KEY_GATE_MASTER_KEY_FILE: z.string().min(1).optional(),
  /** Submits owners' signed registrations (gasless for them). A funded key on the chain. */
  PROVENA_RELAYER_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key').optional(),
  /** Lifetime of presigned upload URLs, seconds. */
  PROVENA_UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  /** Lifetime of the presigned ciphertext GET a key release hands out, seconds. */
  PROVENA_DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  PROVENA_CHAIN_RPC_URL: url,
  PROVENA_CHAIN_ID: z.coerce.number().int().positive(),
  /** The chain's name in access conditions (Lit's names on Lit networks, e.g. `baseSepolia`). */
  PROVENA_CHAIN_NAME: z.string().min(1).default('hardhat'),
  PROVENA_CONTRACTS: ContractAddresses.default({}),
  /** Accepted clock skew of signed requests, seconds. */
  PROVENA_AUTH_MAX_SKEW_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /** Largest request body accepted, bytes (API Gateway's own limit is 10 MB; Lambda's 6 MB). */
  PROVENA_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(6 * 1024 * 1024).default(4 * 1024 * 1024),
}).superRefine((c, ctx) => {
  if (c.PROVENA_CONTENT_STORE === 'local' && !c.PROVENA_IPFS_DIR) {
    ctx.addIssue({ code: 'custom', path: ['PROVENA_IPFS_DIR'], message: 'required when PROVENA_CONTENT_STORE=local' });
  }
  if (c.PROVENA_KEY_GATE === 'embedded' && !c.PROVENA_KEY_GATE_MASTER_KEY_FILE) {
    ctx.addIssue({ code: 'custom', path: ['PROVENA_KEY_GATE_MASTER_KEY_FILE'], message: 'required when PROVENA_KEY_GATE=embedded' });
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
  PROVENA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
  PROVENA_DYNAMODB_ENDPOINT: url.optional(),
  PROVENA_CHAIN_RPC_URL: url,
  PROVENA_CHAIN_ID: z.coerce.number().int().positive(),
  /** The relayer key (in the cloud, to be read from Secrets Manager at cold start instead). */
  PROVENA_RELAYER_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key'),
});
export type RelayerConsumerConfig = z.output<typeof RelayerConsumerConfigSchema>;

/**
 * Parses `env` with `schema`, throwing a {@link ConfigError} whose message names every bad variable.
 *
 * @example
 * ```ts
 * const config = parseConfig(ApiConfigSchema, process.env);
 * ```
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  // Empty strings mean "unset": CDK and shells often pass them for optional values.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = schema.safeParse(cleaned);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
  const lines = issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`, issues);
}
