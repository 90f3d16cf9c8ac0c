/**
 * The key gate and its inbox (the key owners seal data keys to), from PROVENA_KEY_GATE: `embedded` (a master key
 * file), `kms` (neither private key leaves KMS) or `lit`. Imported only by the routes that wrap, release or show
 * keys (and health), so the KMS client is in no other bundle. Each backend's adapter is imported when configured.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsGateInbox } from '../../shared/adapters/aws/KmsGateInbox.js';
import { KmsKeyGate } from '../../shared/adapters/aws/KmsKeyGate.js';
import { EvmConditionEvaluator } from '../../shared/adapters/chain/EvmConditionEvaluator.js';
import { gateInbox, type GateInbox } from '../../shared/crypto/gateInbox.js';
import { keyRequestDomain } from '../../shared/eip712.js';
import type { LitKeyGateOptions } from '../../shared/adapters/lit/LitKeyGate.js';
import type { KeyGate } from '../../shared/ports/KeyGate.js';
import { getBase, lazy, notInLambdaBundle, type Base } from './base.js';

/** The gate and its inbox. */
export interface GatePair {
  gate: KeyGate;
  inbox: GateInbox;
}

async function embeddedGate({ config, chain, nonces, logger }: Base): Promise<GatePair> {
  const { EmbeddedKeyGate, loadOrCreateMasterKey } = await import('../../shared/adapters/local/EmbeddedKeyGate.js');
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
function kmsGate({ config, chain, nonces, logger }: Base): GatePair {
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

/**
 * The Lit gate: data keys encrypted by the Lit network under conditions on our contracts (the Lit SDK is an
 * optional package, loaded on first use); owners seal data keys to the same KMS inbox key as with the KMS gate
 * (Lit has no key the API could open a sealed key with). With PROVENA_LIT_ACTION_CID, keys are bound to the
 * release Lit Action, which checks Provena's standard conditions on chain; the gate first runs the request checks
 * (signature, time window, single-use nonce) as the other gates do, and pays Lit with its own session signatures
 * (PROVENA_LIT_WALLET_KEY; with PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG when its Capacity Credits are delegated to
 * it), so requesters send the same request as under the other gates. Without an action,
 * releases need the requester's Lit session signatures (`proof.litSessionSigs`).
 */
async function litGate({ config, logger, nonces }: Base): Promise<GatePair> {
  const { LitKeyGate } = await import('../../shared/adapters/lit/LitKeyGate.js');
  const client = new KMSClient({ region: config.AWS_REGION, ...(config.PROVENA_KMS_ENDPOINT ? { endpoint: config.PROVENA_KMS_ENDPOINT } : {}) });
  const walletKey = await litWalletKey(config);
  const gate = new LitKeyGate({
    network: config.PROVENA_LIT_NETWORK as 'datil' | 'datil-test' | 'datil-dev',
    logger,
    ...(config.PROVENA_LIT_ACTION_CID === undefined ? {} : { action: { ipfsCid: config.PROVENA_LIT_ACTION_CID } }),
    ...(walletKey === undefined
      ? {}
      : {
          wallet: {
            privateKey: walletKey,
            ...(config.PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG === undefined ? {} : { capacityDelegationAuthSig: config.PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG }),
          },
        }),
    requestChecks: { nonceStore: nonces, domain: keyRequestDomain(config.PROVENA_CHAIN_ID) },
    ...litDoubles,
  });
  return { gate, inbox: new KmsGateInbox({ client, keyId: config.PROVENA_KEY_GATE_INBOX_KEY_ARN as string }) };
}

/** The gate's Lit wallet key: PROVENA_LIT_WALLET_KEY itself, or read once from the Secrets Manager secret it names. */
async function litWalletKey(config: Base['config']): Promise<string | undefined> {
  const v = config.PROVENA_LIT_WALLET_KEY;
  if (v === undefined || !v.startsWith('arn:')) return v;
  const { AwsJsonClient } = await import('../../shared/adapters/aws/awsJsonClient.js');
  const { readPrivateKeySecret } = await import('../../shared/adapters/aws/SecretsManagerKey.js');
  const sm = new AwsJsonClient({
    service: 'secretsmanager',
    region: config.AWS_REGION,
    targetPrefix: 'secretsmanager',
    jsonVersion: '1.1',
    ...(config.PROVENA_SECRETS_MANAGER_ENDPOINT ? { endpoint: config.PROVENA_SECRETS_MANAGER_ENDPOINT } : {}),
  });
  return readPrivateKeySecret(sm, v, 'PROVENA_LIT_WALLET_KEY');
}

let litDoubles: Pick<LitKeyGateOptions, 'clientFactory' | 'validate'> = {};

/**
 * Test seam: the Lit client (default: the real SDK) and the conditions' schema check (default: Lit's own, which
 * needs the SDK) the gate uses. Set before the first request; the embedded stack and the Lambdas never call it.
 */
export function useLitTestDoubles(doubles: Pick<LitKeyGateOptions, 'clientFactory' | 'validate'>): void {
  litDoubles = doubles;
}

/** The configured gate, built once per process. */
export const getGate = /* @__PURE__ */ lazy(async (): Promise<GatePair> => {
  const base = await getBase();
  const backend = base.config.PROVENA_KEY_GATE;
  if (backend === 'embedded') return process.env.PROVENA_BUNDLE !== 'lambda' ? embeddedGate(base) : notInLambdaBundle('PROVENA_KEY_GATE', backend);
  if (backend === 'kms') return kmsGate(base);
  return litGate(base);
});
