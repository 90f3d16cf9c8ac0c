/**
 * The CDK app's configuration: read once from the environment by `infra/bin/app.ts` and validated with zod.
 *
 * Synth-time defaults: with no environment at all, `npx cdk synth` must work (CI, reviews, tests), so the
 * `dev` stage falls back to local-only endpoints (a Hardhat/anvil RPC on 127.0.0.1, chain 31337 named `hardhat`,
 * a Kubo on 127.0.0.1, no contracts). Those values are useless on AWS, so:
 *  - every other stage fails here, naming each missing variable in {@link DEPLOY_REQUIRED};
 *  - `dev` records which ones it defaulted (`defaulted`), and the app turns them into synth warnings, so
 *    `cdk deploy --strict` (or reading the warnings) catches a deploy with placeholder settings.
 */
import { getAddress } from 'ethers';
import * as z from 'zod';
import { ChainSettings, ContractAddresses, HttpUrl, KeyGateBackend, LitAuthSigJson, REQUIRED_CONTRACTS, parseConfig } from '../../shared/configFields.js';

/** Variables that only have a local-only default, valid for `cdk synth` but never for `cdk deploy`. */
export const DEPLOY_REQUIRED = [
  'PROVENA_CHAIN_RPC_URL',
  'PROVENA_CHAIN_ID',
  'PROVENA_CHAIN_NAME',
  'PROVENA_CONTRACTS',
  'PROVENA_KUBO_URL',
] as const;

/** Synth-only defaults for {@link DEPLOY_REQUIRED}, applied for the `dev` stage alone. */
const DEV_DEFAULTS = {
  PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:8545',
  PROVENA_CHAIN_ID: 31337,
  PROVENA_CHAIN_NAME: 'hardhat',
  // Placeholders so a dev synth passes the API's schema, which requires every contract: a real deployment of any
  // stage sets PROVENA_CONTRACTS from `npm run deploy`'s address file, and a stage other than dev must.
  PROVENA_CONTRACTS: Object.fromEntries(REQUIRED_CONTRACTS.map((name, i) => [name, `0x${'de7'.padEnd(37, '0')}${String(i + 1).padStart(3, '0')}`])) as Record<string, string>,
  PROVENA_KUBO_URL: 'http://127.0.0.1:5001',
} satisfies Record<(typeof DEPLOY_REQUIRED)[number], unknown>;

const url = HttpUrl;

const JsonContracts = ContractAddresses;

const InstanceTypes = z
  .string()
  .transform((s) => s.split(',').map((t) => t.trim()).filter((t) => t !== ''))
  .pipe(
    z
      .array(
        // GPU families only (g4dn, g5, g6, g6e ...): the trainer needs CUDA; the enclave needs >= 4 vCPUs,
        // which every xlarge-or-bigger size has.
        z.string().regex(/^g\d+[a-z]*\.(\d+)?xlarge$/, 'must be a GPU instance type such as g5.xlarge (xlarge or larger)'),
      )
      // Spot capacity of one type comes and goes; three pools or more keep a queue moving, and pools of three GPU
      // models or more (the family names the GPU: g4dn T4, g5 A10G, g6 L4, g6e L40S) do not all dry up together.
      .min(3, 'needs at least three GPU instance types (Spot pools)')
      .max(20, 'an Auto Scaling mixed instances policy takes at most 20 overrides')
      .refine((types) => new Set(types.map((t) => t.split('.')[0])).size >= 3, 'needs at least three GPU families (GPU models), e.g. g5, g6 and g6e'),
  );

/** Raw environment schema (strings in, typed values out). */
export const InfraEnvSchema = z
  .object({
    /** Stage name: prefixes the stack name; `dev` is the only stage with synth defaults and DESTROY policies. */
    PROVENA_STAGE: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'lowercase letters, digits and dashes, at most 16').default('dev'),
    PROVENA_CHAIN_RPC_URL: url.optional(),
    PROVENA_CHAIN_ID: ChainSettings.PROVENA_CHAIN_ID.optional(),
    /** The chain's name in access conditions (Lit's chain names on Lit networks, e.g. `baseSepolia`). */
    PROVENA_CHAIN_NAME: ChainSettings.PROVENA_CHAIN_NAME.unwrap().optional(),
    PROVENA_CONTRACTS: JsonContracts.optional(),
    PROVENA_KUBO_URL: url.optional(),
    /** Who releases dataset keys to attested workers: AWS KMS (attestation-conditioned) or Lit Protocol. */
    PROVENA_KEY_GATE: KeyGateBackend.exclude(['embedded']).default('kms'),
    PROVENA_LIT_NETWORK: z.enum(['datil-dev', 'datil-test', 'datil']).default('datil-dev'),
    /** The release Lit Action's CIDv0; unset: computed from shared/adapters/lit/actions/provenaRelease.js. */
    PROVENA_LIT_ACTION_CID: z.string().regex(/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/, 'must be a CIDv0 (Qm…)').optional(),
    /**
     * With `PROVENA_KEY_GATE=lit`, when the gate wallet does not own the Capacity Credits: their owner's delegation
     * to it, the JSON AuthSig of Lit's `createCapacityDelegationAuthSig`. Given to the key-gate Lambdas only.
     */
    PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: LitAuthSigJson.optional(),
    /**
     * Secrets Manager secret holding the Lit gate's own wallet key (0x + 64 hex), which signs its Lit session to run
     * the release action (it owns the Capacity Credits, or they are delegated to it). Required with `PROVENA_KEY_GATE=lit`. Full ARN.
     */
    PROVENA_LIT_WALLET_SECRET_ARN: z
      .string()
      .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/, 'must be the full ARN of a Secrets Manager secret (with its 6-character suffix)')
      .optional(),
    /**
     * Secrets Manager secret holding the relayer's private key (0x + 64 hex), which pays the gas of owners'
     * gasless registrations. Full ARN, including the 6-character suffix Secrets Manager appends.
     */
    PROVENA_RELAYER_SECRET_ARN: z
      .string()
      .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/, 'must be the full ARN of a Secrets Manager secret (with its 6-character suffix)')
      .optional(),
    /** The relayer key's address (public): the relay queue's message group. Required with the secret. */
    PROVENA_RELAYER_ADDRESS: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address').transform((a) => getAddress(a)).optional(),
    /** Email for alarms (DLQ not empty, API 5xx); no subscription when unset. */
    PROVENA_ALARM_EMAIL: z.email().optional(),
    PROVENA_GPU_INSTANCE_TYPES: InstanceTypes.default(['g5.xlarge', 'g5.2xlarge', 'g6.xlarge', 'g6.2xlarge', 'g6e.xlarge']),
    /** Max Spot price, USD/hour; unset caps at the on-demand price (AWS's recommendation). */
    PROVENA_GPU_MAX_SPOT_PRICE: z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal USD/hour price such as 1.20').optional(),
    PROVENA_GPU_MAX_CAPACITY: z.coerce.number().int().min(0).max(100).default(2),
    /** `s3://bucket/key.tar.gz` of the built worker agent (gpu-workers/agent); the user data runs it. */
    PROVENA_GPU_AGENT_S3_URI: z.string().regex(/^s3:\/\/[a-z0-9.-]{3,63}\/.+$/, 'must be s3://bucket/key').optional(),
    /** `s3://bucket/key.eif` of the enclave image (infra/worker/build.sh); the instances run it with nitro-cli. */
    PROVENA_GPU_EIF_S3_URI: z.string().regex(/^s3:\/\/[a-z0-9.-]{3,63}\/.+\.eif$/, 'must be s3://bucket/key.eif').optional(),
    /** vCPUs and MiB the instances give the enclave (nitro-cli run-enclave, the allocator). */
    PROVENA_ENCLAVE_CPU_COUNT: z.coerce.number().int().min(2).max(64).multipleOf(2).default(2),
    PROVENA_ENCLAVE_MEMORY_MIB: z.coerce.number().int().min(1024).max(262_144).default(4096),
    /** `true` runs the enclave with `--debug-mode` (console readable, PCRs zero): refused for every stage but dev. */
    PROVENA_ENCLAVE_DEBUG_MODE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    /**
     * The worker operator key sealed under the stack's `WorkerOperatorKeyArn` (base64 CiphertextBlob of `aws kms
     * encrypt --encryption-context provena:purpose=worker-operator-key`): not secret; KMS releases it only to the
     * attested enclave. Unset: the enclaves get no operator key (set it after the first deploy created the key).
     */
    PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT: z.base64().min(8).max(8192).optional(),
    /** PCR0 (SHA-384, hex) of the enclave image allowed to decrypt with the key-gate KMS key. */
    PROVENA_ENCLAVE_PCR0: z.string().regex(/^[0-9a-fA-F]{96}$/, 'must be 96 hex digits (SHA-384)').optional(),
    /** `true`: also release training-only keys to confidential-GPU workers on another cloud (see KeyGate.ts). */
    PROVENA_KEY_GATE_REMOTE_WORKERS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    /** Worker operator addresses the API accepts lease requests from (comma-separated). */
    PROVENA_WORKER_OPERATORS: z
      .string()
      .transform((s) => s.split(',').map((a) => a.trim()).filter((a) => a !== ''))
      .pipe(z.array(z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x-prefixed 20-byte addresses')))
      .default([]),
    /** A job lease's length in seconds; also the job queue's visibility timeout. */
    PROVENA_JOB_LEASE_SECONDS: z.coerce.number().int().min(60).max(43_200).default(900),
    /** Alarm when the relayer's balance (wei, decimal) falls under this. */
    PROVENA_RELAYER_LOW_BALANCE_WEI: z.string().regex(/^[0-9]{1,78}$/).default('50000000000000000'),
    /** Alarm when the indexer is more than this many blocks behind. */
    PROVENA_INDEXER_MAX_LAG_BLOCKS: z.coerce.number().int().min(1).default(100),
  })
  .superRefine((c, ctx) => {
    if (c.PROVENA_KEY_GATE === 'lit' && c.PROVENA_LIT_WALLET_SECRET_ARN === undefined) {
      ctx.addIssue({ code: 'custom', path: ['PROVENA_LIT_WALLET_SECRET_ARN'], message: 'required with PROVENA_KEY_GATE=lit: the gate signs its own Lit session with this wallet' });
    }
    if ((c.PROVENA_RELAYER_SECRET_ARN === undefined) !== (c.PROVENA_RELAYER_ADDRESS === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['PROVENA_RELAYER_ADDRESS'], message: 'set together with PROVENA_RELAYER_SECRET_ARN (the address of the key it holds)' });
    }
    if (c.PROVENA_STAGE === 'dev') return;
    if (c.PROVENA_ENCLAVE_DEBUG_MODE) {
      ctx.addIssue({ code: 'custom', path: ['PROVENA_ENCLAVE_DEBUG_MODE'], message: `debug-mode enclaves are refused for stage "${c.PROVENA_STAGE}" (only dev)` });
    }
    for (const name of DEPLOY_REQUIRED) {
      if (c[name] === undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: `required for stage "${c.PROVENA_STAGE}" (only dev has synth-only defaults)` });
      }
    }
  });

/** The validated configuration the stack is built from. */
export interface InfraConfig {
  readonly stage: string;
  readonly chainRpcUrl: string;
  readonly chainId: number;
  /** The chain's name in access conditions. */
  readonly chainName: string;
  readonly contracts: Readonly<Record<string, string>>;
  readonly kuboUrl: string;
  readonly keyGate: 'kms' | 'lit';
  readonly litNetwork: string;
  /** The pinned release Lit Action (PROVENA_LIT_ACTION_CID), passed to the API when the gate is `lit`. */
  readonly litActionCid?: string;
  /** The Capacity Credits delegation to the Lit gate wallet, as validated JSON (PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG). */
  readonly litCapacityDelegationAuthSig?: string;
  /** Full ARN of the Lit gate wallet's secret (PROVENA_LIT_WALLET_SECRET_ARN), set when the gate is `lit`. */
  readonly litWalletSecretArn?: string;
  /** Full ARN of the relayer key's secret; unset: `registerDataset` cannot relay. */
  readonly relayerSecretArn?: string;
  /** The relayer key's address, set with `relayerSecretArn`. */
  readonly relayerAddress?: string;
  readonly alarmEmail?: string;
  readonly gpuInstanceTypes: readonly string[];
  readonly gpuMaxSpotPrice?: string;
  readonly gpuMaxCapacity: number;
  readonly gpuAgentS3Uri?: string;
  readonly enclavePcr0?: string;
  readonly gpuEifS3Uri?: string;
  readonly enclaveCpuCount: number;
  readonly enclaveMemoryMib: number;
  readonly enclaveDebugMode: boolean;
  readonly workerOperatorKeyCiphertext?: string;
  readonly keyGateRemoteWorkers: boolean;
  readonly workerOperators: readonly string[];
  readonly jobLeaseSeconds: number;
  readonly relayerLowBalanceWei: string;
  readonly indexerMaxLagBlocks: number;
  /** Deploy-required variables that fell back to a synth-only default (dev only). */
  readonly defaulted: readonly string[];
}

/**
 * Parses the CDK app's environment. Throws a ConfigError naming every bad or missing variable.
 *
 * @example
 * ```ts
 * const config = readInfraConfig(process.env);
 * ```
 */
export function readInfraConfig(env: Record<string, string | undefined>): InfraConfig {
  const e = parseConfig(InfraEnvSchema, env);
  const defaulted = DEPLOY_REQUIRED.filter((n) => e[n] === undefined);
  return {
    stage: e.PROVENA_STAGE,
    chainRpcUrl: e.PROVENA_CHAIN_RPC_URL ?? DEV_DEFAULTS.PROVENA_CHAIN_RPC_URL,
    chainId: e.PROVENA_CHAIN_ID ?? DEV_DEFAULTS.PROVENA_CHAIN_ID,
    chainName: e.PROVENA_CHAIN_NAME ?? DEV_DEFAULTS.PROVENA_CHAIN_NAME,
    contracts: e.PROVENA_CONTRACTS ?? DEV_DEFAULTS.PROVENA_CONTRACTS,
    kuboUrl: e.PROVENA_KUBO_URL ?? DEV_DEFAULTS.PROVENA_KUBO_URL,
    keyGate: e.PROVENA_KEY_GATE,
    litNetwork: e.PROVENA_LIT_NETWORK,
    ...(e.PROVENA_LIT_ACTION_CID !== undefined && { litActionCid: e.PROVENA_LIT_ACTION_CID }),
    ...(e.PROVENA_LIT_WALLET_SECRET_ARN !== undefined && { litWalletSecretArn: e.PROVENA_LIT_WALLET_SECRET_ARN }),
    ...(e.PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG !== undefined && { litCapacityDelegationAuthSig: JSON.stringify(e.PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG) }),
    ...(e.PROVENA_RELAYER_SECRET_ARN !== undefined && { relayerSecretArn: e.PROVENA_RELAYER_SECRET_ARN }),
    ...(e.PROVENA_RELAYER_ADDRESS !== undefined && { relayerAddress: e.PROVENA_RELAYER_ADDRESS }),
    ...(e.PROVENA_ALARM_EMAIL !== undefined && { alarmEmail: e.PROVENA_ALARM_EMAIL }),
    gpuInstanceTypes: e.PROVENA_GPU_INSTANCE_TYPES,
    ...(e.PROVENA_GPU_MAX_SPOT_PRICE !== undefined && { gpuMaxSpotPrice: e.PROVENA_GPU_MAX_SPOT_PRICE }),
    gpuMaxCapacity: e.PROVENA_GPU_MAX_CAPACITY,
    ...(e.PROVENA_GPU_AGENT_S3_URI !== undefined && { gpuAgentS3Uri: e.PROVENA_GPU_AGENT_S3_URI }),
    ...(e.PROVENA_ENCLAVE_PCR0 !== undefined && { enclavePcr0: e.PROVENA_ENCLAVE_PCR0.toLowerCase() }),
    ...(e.PROVENA_GPU_EIF_S3_URI !== undefined && { gpuEifS3Uri: e.PROVENA_GPU_EIF_S3_URI }),
    enclaveCpuCount: e.PROVENA_ENCLAVE_CPU_COUNT,
    enclaveMemoryMib: e.PROVENA_ENCLAVE_MEMORY_MIB,
    enclaveDebugMode: e.PROVENA_ENCLAVE_DEBUG_MODE,
    ...(e.PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT !== undefined && { workerOperatorKeyCiphertext: e.PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT }),
    keyGateRemoteWorkers: e.PROVENA_KEY_GATE_REMOTE_WORKERS,
    workerOperators: e.PROVENA_WORKER_OPERATORS,
    jobLeaseSeconds: e.PROVENA_JOB_LEASE_SECONDS,
    relayerLowBalanceWei: e.PROVENA_RELAYER_LOW_BALANCE_WEI,
    indexerMaxLagBlocks: e.PROVENA_INDEXER_MAX_LAG_BLOCKS,
    defaulted,
  };
}
