/**
 * The configuration settings more than one deployable reads (the API, the relayer consumer, the embedded stack,
 * the CDK app, the deploy script, the CLI, the worker), each defined once: its name, its parser and its default.
 * Each deployable builds its own zod schema from these fields and parses its environment once, at its edge, with
 * {@link parseConfig}; a bad or missing value fails at start with a message naming the variable.
 */
import * as z from 'zod';
import { ConfigError } from './errors.js';
import { Address } from './schemas/common.js';

/** `true`/`false`/`1`/`0`. */
export const BoolSetting = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
/** An http(s) URL. */
export const HttpUrl = z.url({ protocol: /^https?$/ });
/** A TCP port (0: any free port). */
export const Port = z.coerce.number().int().min(0).max(65535);
/** A secp256k1 private key: 0x + 64 hex digits. */
export const PrivateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key');
/** Powertools log levels. */
export const LogLevel = z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']);

/** A setting holding JSON (at most `maxLength` characters, checked before parsing); `message` when it is not JSON. */
function jsonSetting(message: string, maxLength = 65_536) {
  return z
    .string()
    .max(maxLength)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
    });
}

/** Contract addresses as a JSON object: `{"PaymentToken": "0x…", …}`. */
export const ContractAddresses = jsonSetting('must be a JSON object of contract name to address').pipe(z.record(z.string(), Address));

/**
 * A Lit AuthSig as JSON (what `createCapacityDelegationAuthSig` returns under `capacityDelegationAuthSig`): a
 * personal-sign signature over a SIWE message by `address`. At most 8 KiB, checked before it is parsed.
 */
export const LitAuthSigJson = jsonSetting('must be the JSON AuthSig Lit returns ({"sig","derivedVia","signedMessage","address"})', 8192).pipe(
    z.strictObject({
      sig: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be a 65-byte 0x-hex signature'),
      derivedVia: z.literal('web3.eth.personal.sign'),
      signedMessage: z.string().min(1).max(6000),
      address: Address,
      algo: z.string().max(32).optional(),
    }),
  );

/** The contracts the API cannot work without: a missing one fails at start (never a zero-address fallback). */
export const REQUIRED_CONTRACTS = ['DatasetRegistry', 'LicenseManager', 'AttestationRegistry', 'TrainingLicense', 'PaymentToken'] as const;

/** Settings of the chain every deployable talks to. */
export const ChainSettings = {
  PROVENA_CHAIN_RPC_URL: HttpUrl,
  PROVENA_CHAIN_ID: z.coerce.number().int().positive(),
  /** The chain's name in access conditions (Lit's names on Lit networks, e.g. `baseSepolia`). */
  PROVENA_CHAIN_NAME: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be a chain name such as baseSepolia').default('hardhat'),
} as const;

/** Physical DynamoDB table names per logical table (shared/adapters/aws/tableLayout.ts), one setting each. */
export const TableSettings = {
  PROVENA_TABLE_DATASETS: z.string().min(3).default('provena-datasets'),
  PROVENA_TABLE_NONCES: z.string().min(3).default('provena-nonces'),
  PROVENA_TABLE_UPLOADS: z.string().min(3).default('provena-uploads'),
  /** The relayer's journal of signed calls. */
  PROVENA_TABLE_RELAYER: z.string().min(3).default('provena-relayer'),
  /** Licenses and jobs as the indexer saw them on chain. */
  PROVENA_TABLE_LICENSES: z.string().min(3).default('provena-licenses'),
  /** The indexer's cursor and recent block hashes (reorg detection). */
  PROVENA_TABLE_INDEXER: z.string().min(3).default('provena-indexer'),
  /** Relayed-call quotas and the relayer budget's spend (shared/use-cases/relayQuota.ts). */
  PROVENA_TABLE_RELAY_QUOTA: z.string().min(3).default('provena-relay-quota'),
  /** Training jobs (shared/adapters/aws/tableLayout.ts `jobs`). */
  PROVENA_TABLE_JOBS: z.string().min(3).default('provena-jobs'),
} as const;

/** The ciphertext bucket. */
export const BucketSettings = {
  PROVENA_BUCKET_DATA: z.string().min(3).default('provena-data'),
} as const;

/**
 * The job queue and worker leases (shared by the API and the CDK app). No queue URL: the API's in-process queue
 * (embedded stack, one API process); set: that SQS standard queue.
 */
export const JobQueueSettings = {
  PROVENA_JOB_QUEUE_URL: HttpUrl.optional(),
  /**
   * Addresses allowed to lease jobs (comma-separated): the worker operators' request-signing keys. Empty: no
   * worker can lease (every lease answers WORKER_NOT_OPERATOR); the CDK app warns at synth.
   */
  PROVENA_WORKER_OPERATORS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((a) => a.trim()).filter((a) => a.length > 0))
    .pipe(z.array(Address)),
  /** How long a lease lasts without a heartbeat (the worker renews every third of it). */
  PROVENA_JOB_LEASE_SECONDS: z.coerce.number().int().min(2).max(43_200).default(60),
} as const;

/** Which key gate serves uploads and releases: one setting for the API, the stack and the CDK app. */
export const KeyGateBackend = z.enum(['embedded', 'kms', 'lit']);

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
