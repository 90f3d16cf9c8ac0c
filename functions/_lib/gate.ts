/**
 * The key gate and its inbox (the key owners seal data keys to), from PROVENA_KEY_GATE: `embedded` (a master key
 * file), `kms` (neither private key leaves KMS) or `lit`. Imported only by the routes that wrap, release or show
 * keys (and health), so the KMS client is in no other bundle.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsGateInbox } from '../../shared/adapters/aws/KmsGateInbox.js';
import { KmsKeyGate } from '../../shared/adapters/aws/KmsKeyGate.js';
import { EvmConditionEvaluator } from '../../shared/adapters/chain/EvmConditionEvaluator.js';
import { gateInbox, type GateInbox } from '../../shared/crypto/gateInbox.js';
import { keyRequestDomain } from '../../shared/eip712.js';
import { ProvenaError } from '../../shared/errors.js';
import type { ComponentHealth } from '../../shared/ports/Health.js';
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

/** The error uploads and key releases answer while the API does not serve the configured gate. */
export const notServed = (backend: string) =>
  new ProvenaError(
    'KEY_GATE_MISCONFIGURED',
    `The '${backend}' key gate is not served by the API yet: its adapter (shared/adapters/lit/LitKeyGate.ts) is unit-tested, but owners need an inbox key to seal data keys to. Uploads and key releases answer this error until then.`,
  );

/** A gate the API does not serve: listing routes keep working, the gate fails only where it is used. */
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

/** The configured gate, built once per process. */
export const getGate = lazy(async (): Promise<GatePair> => {
  const base = await getBase();
  const backend = base.config.PROVENA_KEY_GATE;
  if (backend === 'embedded') return process.env.PROVENA_BUNDLE !== 'lambda' ? embeddedGate(base) : notInLambdaBundle('PROVENA_KEY_GATE', backend);
  if (backend === 'kms') return kmsGate(base);
  return { gate: new UnservedKeyGate(backend), inbox: unservedInbox(backend) };
});
