/**
 * What every route's composition starts from: validated configuration, the logger, the DynamoDB client, the chain
 * and the request verifier (nonces + chain). Built once per process on first use.
 *
 * The rest of the runtime is split into pieces (functions/_lib/*Runtime.ts), each built lazily and imported only
 * by the handlers whose route needs it: esbuild then leaves the adapters a route never uses (the KMS client in a
 * listing route, ethers' contract bindings in the health-free routes, the attestation verifiers outside the
 * attestation routes) out of that route's bundle. The embedded stack imports every handler into one process, so
 * there each piece is still built once and shared: one code path for embedded and cloud.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { DynamoNonceStore } from '../../shared/adapters/aws/DynamoNonceStore.js';
import { EvmChain } from '../../shared/adapters/chain/EvmChain.js';
import { ApiConfigSchema, type ApiConfig } from '../../shared/config.js';
import { parseConfig } from '../../shared/configFields.js';
import { ConfigError } from '../../shared/errors.js';
import type { HttpRuntime } from '../../shared/http/handler.js';

/** The services every route shares. */
export interface Base extends HttpRuntime {
  config: ApiConfig;
  dynamo: DynamoDBClient;
  chain: EvmChain;
  nonces: DynamoNonceStore;
}

/**
 * A process-wide value built on first call; a failure (a config error) is kept and thrown to every caller alike,
 * as the single runtime did.
 *
 * Each piece of the composition is declared `lazy(…)` (or `withBase(…)`) with a `@__PURE__` annotation: esbuild
 * then drops a piece that no code of the bundle uses, with the adapters only that piece imports.
 */
export function lazy<T>(make: () => Promise<T> | T): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= Promise.resolve().then(make));
}

/** The address of a deployed contract from PROVENA_CONTRACTS, or CONFIG_INVALID naming it. */
export function contract(config: ApiConfig, name: string): string {
  const address = config.PROVENA_CONTRACTS[name];
  if (!address) throw new ConfigError(`Invalid configuration:\n  PROVENA_CONTRACTS: has no ${name} address`, [{ path: ['PROVENA_CONTRACTS', name], message: 'missing' }]);
  return address;
}

/** The base, built on first use from `process.env`. */
export const getBase = /* @__PURE__ */ lazy((): Base => {
  const config = parseConfig(ApiConfigSchema, process.env);
  const logger = new Logger({ serviceName: 'provena-api', logLevel: config.PROVENA_LOG_LEVEL });
  const dynamo = createDynamoClient({ region: config.AWS_REGION, ...(config.PROVENA_DYNAMODB_ENDPOINT ? { endpoint: config.PROVENA_DYNAMODB_ENDPOINT } : {}) });
  const nonces = new DynamoNonceStore(dynamo, config.PROVENA_TABLE_NONCES);
  const chain = new EvmChain(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID);
  return {
    config,
    logger,
    dynamo,
    chain,
    nonces,
    maxBodyBytes: config.PROVENA_MAX_BODY_BYTES,
    verify: {
      chainId: config.PROVENA_CHAIN_ID,
      nonces,
      chain,
      maxSkewSeconds: config.PROVENA_AUTH_MAX_SKEW_SECONDS,
      now: () => Math.floor(Date.now() / 1000),
    },
  };
});

/**
 * The Lambda bundles are built with esbuild's `define` `process.env.PROVENA_BUNDLE` = `"lambda"`
 * (infra/lib/constructs/provenaFunction.ts, bench/lambda.ts). Composition tests it before the dynamic import of an
 * adapter only the embedded stack uses (the local UnixFS blockstore, the master-key-file gate): the test folds to
 * a constant there and esbuild drops the import, and the modules behind it, from every Lambda bundle. Anywhere
 * else (tsx, jest, the embedded stack) the variable is unset and every adapter is available.
 *
 * The error of a configuration that names such an adapter in a Lambda bundle.
 */
export function notInLambdaBundle(setting: string, value: string): never {
  throw new ConfigError(`Invalid configuration:\n  ${setting}: '${value}' is for the embedded stack only; a Lambda bundle does not contain it`, [{ path: [setting], message: `'${value}' is not available in a Lambda bundle` }]);
}

/** A route's runtime getter: the base plus the pieces `extra` builds (once per process). */
export function withBase<T extends object>(extra: (base: Base) => Promise<T> | T): () => Promise<Base & T> {
  return lazy(async () => {
    const base = await getBase();
    return { ...base, ...(await extra(base)) };
  });
}
