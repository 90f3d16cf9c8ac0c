/**
 * The attestation routes' composition root: the deployment's policy, the attestor's relayer, the chain views.
 *
 * Why a second relayer instance for the attestor key rather than ATTESTOR_ROLE for the relayer account: the
 * relayer key sends whatever owners sign (registrations, updates) and is fed by any caller of those routes; the
 * attestor key must sign exactly one thing, an approval that follows verified evidence (contracts/README.md, trust
 * assumptions: the attestor is its own key, never the admin). Two keys keep that separation visible on chain, and
 * a bug in a relayed route cannot approve a worker. Each key has one writer (its own nonces) and its own journal
 * entries: the journal is keyed by (relayer address, idempotency key), so both share one table without meeting.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Provider } from 'ethers';
import { DynamoAttestationNonces } from '../../shared/adapters/aws/DynamoAttestationNonces.js';
import { EvmJobAttestations } from '../../shared/adapters/chain/EvmJobAttestations.js';
import type { EvmRelayer } from '../../shared/adapters/chain/EvmRelayer.js';
import { devAttestationPolicy, DevAttestor } from '../../shared/attestation/devAttestor.js';
import { AttestationPolicy } from '../../shared/attestation/types.js';
import { BUILTIN_VERIFIERS } from '../../shared/attestation/verifiers.js';
import type { ApiConfig } from '../../shared/config.js';
import { ConfigError } from '../../shared/errors.js';
import type { ContentStore } from '../../shared/ports/ContentStore.js';
import type { AttestWorkerDeps } from '../../shared/use-cases/attestWorker.js';
import type { IssueAttestationNonceDeps } from '../../shared/use-cases/issueAttestationNonce.js';
import { contract, getBase, lazy, withBase } from './base.js';
import { getContent } from './listings.js';
import { createRelayer } from './relayer.js';

/** What both attestation routes use. */
export type AttestationDeps = AttestWorkerDeps & IssueAttestationNonceDeps;

/**
 * The policy from configuration. Development: the dev attestor's root (created under the directory on first
 * start). Production: PROVENA_ATTESTATION_PRODUCTION_POLICY, which must say `production: true`. A production
 * deployment without one answers CONFIG_INVALID on the attestation routes only (listing routes keep working).
 */
export function attestationPolicy(config: ApiConfig): () => AttestationPolicy {
  if (config.PROVENA_ATTESTATION_POLICY === 'development') {
    const policy = devAttestationPolicy(DevAttestor.open(config.PROVENA_ATTESTATION_DEV_DIR as string, { now: new Date() }).rootFingerprint);
    return () => policy;
  }
  const fail = (message: string) => () => {
    throw new ConfigError(`Invalid configuration:\n  PROVENA_ATTESTATION_PRODUCTION_POLICY: ${message}`, [{ path: ['PROVENA_ATTESTATION_PRODUCTION_POLICY'], message }]);
  };
  if (config.PROVENA_ATTESTATION_PRODUCTION_POLICY === undefined) return fail('required when PROVENA_ATTESTATION_POLICY=production');
  let parsed: ReturnType<typeof AttestationPolicy.safeParse>;
  try {
    parsed = AttestationPolicy.safeParse(JSON.parse(config.PROVENA_ATTESTATION_PRODUCTION_POLICY));
  } catch {
    return fail('is not JSON');
  }
  if (!parsed.success) return fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  if (!parsed.data.production) return fail('must say "production": true');
  const policy = parsed.data;
  return () => policy;
}

/** Builds the attestation deps; starts the attestor's relayer (recovery in the background) when a key is configured. */
export function createAttestationDeps(
  config: ApiConfig,
  provider: Provider,
  dynamo: DynamoDBClient,
  content: ContentStore,
  contracts: { licenseManager: string; datasetRegistry: string; attestationRegistry: string },
  logger: Logger,
): { deps: AttestationDeps; attestor: EvmRelayer | undefined } {
  const key = config.PROVENA_ATTESTOR_KEY;
  const attestor = key ? createRelayer({ ...config, PROVENA_RELAYER_KEY: key }, provider, dynamo, (err, context) => logger.warn(`attestor relayer: ${context}`, { error: err as Error })) : undefined;
  void attestor?.start().catch((err: unknown) => logger.warn('attestor relayer recovery failed; retried before the next approval', { error: err as Error }));
  const deps: AttestationDeps = {
    jobs: new EvmJobAttestations(provider, contracts, attestor),
    nonces: new DynamoAttestationNonces(dynamo, config.PROVENA_TABLE_NONCES),
    content,
    policy: attestationPolicy(config),
    verifiers: BUILTIN_VERIFIERS,
    now: () => new Date(),
    nonceTtlSeconds: config.PROVENA_ATTESTATION_NONCE_TTL_SECONDS,
  };
  return { deps, attestor };
}

/** The attestation deps and the attestor's relayer, built once per process. */
export const getAttestation = /* @__PURE__ */ lazy(async () => {
  const { config, chain, dynamo, logger } = await getBase();
  return createAttestationDeps(config, chain.provider, dynamo, await getContent(), {
    licenseManager: contract(config, 'LicenseManager'),
    datasetRegistry: contract(config, 'DatasetRegistry'),
    attestationRegistry: contract(config, 'AttestationRegistry'),
  }, logger);
});

/** `rt.attestation`. */
export const attestationRuntime = /* @__PURE__ */ withBase(async () => ({ attestation: (await getAttestation()).deps }));
