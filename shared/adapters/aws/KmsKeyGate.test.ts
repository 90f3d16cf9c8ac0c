import { beforeAll, describe, expect, it } from '@jest/globals';
import { KMSClient } from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'ethers';
import type { Wallet } from 'ethers';
import { Readable } from 'node:stream';
import { generateDataKey } from '../../crypto/chunkedAead.js';
import { decryptReleasedKey } from '../../crypto/keyRelease.js';
import { keyRequestDomain } from '../../eip712.js';
import { signKeyRequest } from '../../crypto/keyRequest.js';
import { hashConditions } from '../../crypto/conditionsHash.js';
import { EvmConditionEvaluator } from '../chain/EvmConditionEvaluator.js';
import { licenseHolderCondition } from '../chain/provenaConditions.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import type { AccessConditionEvaluator } from '../../ports/AccessConditions.js';
import { deployAccessWorld } from '../../../test/support/accessWorld.js';
import type { AccessWorld } from '../../../test/support/accessWorld.js';
import type { NonceStore } from '../../ports/NonceStore.js';
import type { ReleaseDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';
import { KmsKeyGate } from './KmsKeyGate.js';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const domain = keyRequestDomain(31337n);
// The gate's dataset id ('7') is the API's; the conditions name the dataset's on-chain id on the real contracts.
let w: AccessWorld;
let conditions: AccessConditionList;
let evaluator: EvmConditionEvaluator;

beforeAll(async () => {
  w = await deployAccessWorld();
  conditions = licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a });
  evaluator = new EvmConditionEvaluator({ hardhat: w.sys.chain.provider });
});

interface Captured {
  target: string;
  body: Record<string, unknown>;
}

/** A real KMSClient whose transport records each serialized request and answers with the documented JSON. */
function kmsWith(respond: (target: string, body: Record<string, unknown>) => { status?: number; json: Record<string, unknown> }): { client: KMSClient; calls: Captured[] } {
  const calls: Captured[] = [];
  const client = new KMSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { headers: Record<string, string>; body?: unknown }) {
        const target = request.headers['x-amz-target'] ?? '';
        const body = JSON.parse(String(request.body)) as Record<string, unknown>;
        calls.push({ target, body });
        const r = respond(target, body);
        const status = r.status ?? 200;
        const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
        if (status !== 200) headers['x-amzn-errortype'] = String(r.json.__type);
        return { response: { statusCode: status, headers, body: Readable.from([Buffer.from(JSON.stringify(r.json))]) } };
      },
    } as unknown as KMSClient['config']['requestHandler'], // the SDK's HttpHandler interface; handle() is all it calls
  });
  return { client, calls };
}

class MemoryNonceStore implements NonceStore {
  private readonly seen = new Set<string>();
  async consume(scope: string, nonce: string): Promise<boolean> {
    const k = `${scope}:${nonce}`;
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }
  async health() {
    return { status: 'ok' as const };
  }
}

/** The gate over the real evaluator (real eth_calls to the deployed contracts). */
function gateWith(client: KMSClient, e: AccessConditionEvaluator = evaluator): KmsKeyGate {
  return new KmsKeyGate({ client, keyId: KEY_ARN, evaluator: e, nonceStore: new MemoryNonceStore(), logger: new Logger({ logLevel: 'SILENT' }), domain });
}

async function releaseParams(
  who: Wallet,
  wrapped: WrappedKey,
  extra: Partial<ReleaseDataKeyParams['requester']> = {},
  over: { licenseId?: bigint; conditions?: AccessConditionList } = {},
): Promise<ReleaseDataKeyParams> {
  const grant = { type: 'license' as const, licenseId: (over.licenseId ?? w.license).toString() };
  const proof = await signKeyRequest(who, domain, { datasetId: '7', version: 1, grant, requesterPublicKey: who.signingKey.publicKey });
  return {
    wrapped,
    datasetId: '7',
    version: 1,
    conditions: over.conditions ?? conditions,
    grant,
    requester: { address: who.address, publicKey: who.signingKey.publicKey, ...extra },
    proof,
  };
}

const context = () => ({ 'provena:datasetId': '7', 'provena:version': '1', 'provena:conditionsHash': hashConditions(conditions) });

describe('KmsKeyGate (real SDK client, captured HTTP)', () => {
  it('wraps with Encrypt, sending KeyId, the base64 key and the dataset encryption context', async () => {
    const blob = randomBytes(184);
    const { client, calls } = kmsWith(() => ({ json: { CiphertextBlob: Buffer.from(blob).toString('base64'), KeyId: KEY_ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } }));
    const dataKey = generateDataKey();

    const wrapped = await gateWith(client).wrapDataKey({ datasetId: '7', version: 1, dataKey, conditions });

    expect(calls).toEqual([{ target: 'TrentService.Encrypt', body: { KeyId: KEY_ARN, Plaintext: dataKey.toString('base64'), EncryptionContext: context() } }]);
    expect(wrapped).toEqual({ backend: 'kms', keyId: KEY_ARN, ciphertext: Buffer.from(blob).toString('base64'), conditionsHash: hashConditions(conditions) });
  });

  it('generates a data key with GenerateDataKey (AES_256) under the same context', async () => {
    const dataKey = generateDataKey();
    const { client, calls } = kmsWith(() => ({ json: { CiphertextBlob: Buffer.from(randomBytes(184)).toString('base64'), Plaintext: dataKey.toString('base64'), KeyId: KEY_ARN } }));

    const out = await gateWith(client).generateDataKey({ datasetId: '7', version: 1, conditions });

    expect(calls[0]).toEqual({ target: 'TrentService.GenerateDataKey', body: { KeyId: KEY_ARN, KeySpec: 'AES_256', EncryptionContext: context() } });
    expect(out.dataKey.equals(dataKey)).toBe(true);
  });

  it('releases with Decrypt under the same context and seals the plaintext to the requester', async () => {
    const dataKey = generateDataKey();
    const blob = Buffer.from(randomBytes(184)).toString('base64');
    const { client, calls } = kmsWith(() => ({ json: { KeyId: KEY_ARN, Plaintext: dataKey.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } }));
    const who = w.holder;
    const wrapped: WrappedKey = { backend: 'kms', keyId: KEY_ARN, ciphertext: blob, conditionsHash: hashConditions(conditions) };

    const released = await gateWith(client).releaseDataKey(await releaseParams(who, wrapped));

    expect(calls).toEqual([{ target: 'TrentService.Decrypt', body: { CiphertextBlob: blob, KeyId: KEY_ARN, EncryptionContext: context() } }]);
    expect(released.kind).toBe('sealed');
    expect(decryptReleasedKey(who.privateKey, released).equals(dataKey)).toBe(true);
    expect(JSON.stringify(released)).not.toContain(dataKey.toString('base64'));
  });

  it('releases to an enclave through Decrypt with Recipient, returning CiphertextForRecipient only', async () => {
    const attestation = Buffer.from(randomBytes(512)).toString('base64');
    const cms = Buffer.from(randomBytes(300)).toString('base64');
    const { client, calls } = kmsWith(() => ({ json: { KeyId: KEY_ARN, CiphertextForRecipient: cms, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } }));
    const who = w.holder;
    const wrapped: WrappedKey = { backend: 'kms', keyId: KEY_ARN, ciphertext: Buffer.from(randomBytes(184)).toString('base64'), conditionsHash: hashConditions(conditions) };

    const released = await gateWith(client).releaseDataKey(await releaseParams(who, wrapped, { attestationDocument: attestation }));

    expect(calls[0]!.body).toEqual({
      CiphertextBlob: wrapped.ciphertext,
      KeyId: KEY_ARN,
      EncryptionContext: context(),
      Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: attestation },
    });
    expect(released).toMatchObject({ kind: 'kms-recipient', ciphertextForRecipient: cms, requester: who.address });
  });

  it('maps InvalidCiphertextException (wrong context / foreign blob) to KEY_UNWRAP_FAILED', async () => {
    const { client } = kmsWith(() => ({ status: 400, json: { __type: 'InvalidCiphertextException', message: 'bad' } }));
    const who = w.holder;
    const wrapped: WrappedKey = { backend: 'kms', keyId: KEY_ARN, ciphertext: 'AAAA', conditionsHash: hashConditions(conditions) };

    await expect(gateWith(client).releaseDataKey(await releaseParams(who, wrapped))).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
  });

  it.each([
    ["a caller without a license citing the holder's", () => w.stranger, () => w.license, () => w.ds.a, 'KEY_ACCESS_DENIED'],
    ['the holder citing its expired license', () => w.holder, () => w.expiredLicense, () => w.ds.c, 'LICENSE_EXPIRED'],
  ] as const)('never calls KMS when the conditions on the chain refuse %s', async (_label, who, license, dataset, code) => {
    const { client, calls } = kmsWith(() => ({ json: {} }));
    const refusing = licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId: dataset() });
    const wrapped: WrappedKey = { backend: 'kms', keyId: KEY_ARN, ciphertext: 'AAAA', conditionsHash: hashConditions(refusing) };

    const p = gateWith(client).releaseDataKey(await releaseParams(who(), wrapped, {}, { licenseId: license(), conditions: refusing }));

    await expect(p).rejects.toMatchObject({ code });
    expect(calls).toEqual([]);
  });
});
