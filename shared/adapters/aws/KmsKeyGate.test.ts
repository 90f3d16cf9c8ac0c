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
import { MemoryNonceStore } from '../../../test/support/memoryNonceStore.js';
import type { ReleaseDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';
import { KmsKeyGate, admitsLicenseHolders } from './KmsKeyGate.js';
import { KmsGateInbox } from './KmsGateInbox.js';
import { DecryptCommand } from '@aws-sdk/client-kms';
import { afterAll } from '@jest/globals';
import { generateKeyPairSync, createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DevAttestor } from '../../attestation/devAttestor.js';
import { openCiphertextForRecipient } from '../../crypto/cmsEnvelope.js';
import { ECIES_P256_SCHEME, sealToPublicKey } from '../../crypto/ecies.js';
import { attestedWorkerCondition } from '../chain/provenaConditions.js';
import { FakeKms } from '../../../test/support/aws/fakeKms.js';

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

// License-holder conditions: the context says holders may have the key (the gate key's policy reads it).
const context = () => ({ 'provena:datasetId': '7', 'provena:version': '1', 'provena:conditionsHash': hashConditions(conditions), 'provena:holders': 'true' });

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

describe('KmsKeyGate and KmsGateInbox against the fake KMS (test/support/aws/fakeKms.ts: real SDK client over HTTP, real cryptography)', () => {
  const now = new Date();
  const attestor = DevAttestor.open(mkdtempSync(path.join(tmpdir(), 'provena-kms-attestor-')), { now });
  const approvedImage = createHash('sha384').update('provena-enclave-image').digest();
  const otherImage = createHash('sha384').update('someone-elses-image').digest();
  const enclave = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const enclaveDocument = (pcr0: Buffer) =>
    attestor
      .attest({ nonce: `0x${'00'.repeat(32)}`, now, publicKey: `0x${enclave.publicKey.export({ format: 'der', type: 'spki' }).toString('hex')}`, pcrs: new Map([[0, pcr0], [1, Buffer.alloc(48, 1)], [2, Buffer.alloc(48, 2)]]) })
      .toString('base64');
  let kms: FakeKms;
  let gateKey: string;
  let inboxKey: string;

  beforeAll(async () => {
    kms = await FakeKms.start({ trustedRoots: [attestor.rootFingerprint] });
    gateKey = kms.createSymmetricKey({ approvedImageSha384: approvedImage.toString('hex') });
    inboxKey = kms.createAgreementKey();
  });
  afterAll(() => kms.close());

  const gate = () => new KmsKeyGate({ client: kms.client(), keyId: gateKey, evaluator, nonceStore: new MemoryNonceStore(), logger: new Logger({ logLevel: 'SILENT' }), domain });
  const inbox = () => new KmsGateInbox({ client: kms.client(), keyId: inboxKey });
  const uploadContext = JSON.stringify({ v: 1, purpose: 'provena/upload-data-key', datasetId: '7', dataVersion: 1, uploadId: 'u1' });

  it('hands out the inbox key as a compressed P-256 point and opens an owner\'s sealed key through DeriveSharedSecret', async () => {
    const dataKey = generateDataKey();
    const publicKey = await inbox().publicKey();

    const opened = await inbox().open(sealToPublicKey(publicKey, dataKey, uploadContext, ECIES_P256_SCHEME), uploadContext);

    expect(publicKey).toMatch(/^0x0[23][0-9a-f]{64}$/);
    expect(opened.equals(dataKey)).toBe(true);
    expect(kms.calls.filter((c) => c.operation === 'DeriveSharedSecret').at(-1)?.body).toMatchObject({ KeyId: inboxKey, KeyAgreementAlgorithm: 'ECDH' });
  });

  it.each([
    ['another upload\'s context', (box: ReturnType<typeof sealToPublicKey>) => ({ ...box, context: uploadContext.replace('u1', 'u2') }), uploadContext.replace('u1', 'u2')],
    ['an altered ciphertext', (box: ReturnType<typeof sealToPublicKey>) => ({ ...box, ciphertext: `${box.ciphertext.slice(0, -2)}${box.ciphertext.endsWith('0') ? '1' : '0'}` }), uploadContext],
    ['a secp256k1 box', () => sealToPublicKey(w.holder.signingKey.publicKey, generateDataKey(), uploadContext), uploadContext],
  ] as const)('refuses to open %s (KEY_UNWRAP_FAILED)', async (_label, alter, expected) => {
    const box = sealToPublicKey(await inbox().publicKey(), generateDataKey(), uploadContext, ECIES_P256_SCHEME);

    await expect(inbox().open(alter(box), expected)).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
  });

  it('wraps under the gate key and releases to a license holder, sealed to its account key', async () => {
    const dataKey = generateDataKey();
    const wrapped = await gate().wrapDataKey({ datasetId: '7', version: 1, dataKey, conditions });

    const released = await gate().releaseDataKey(await releaseParams(w.holder, wrapped));

    expect(decryptReleasedKey(w.holder.privateKey, released).equals(dataKey)).toBe(true);
  });

  it('releases to an attested enclave of the approved image only as CiphertextForRecipient, which its RSA key opens', async () => {
    const dataKey = generateDataKey();
    const wrapped = await gate().wrapDataKey({ datasetId: '7', version: 1, dataKey, conditions });

    const released = await gate().releaseDataKey(await releaseParams(w.holder, wrapped, { attestationDocument: enclaveDocument(approvedImage) }));

    expect(released.kind).toBe('kms-recipient');
    if (released.kind !== 'kms-recipient') return;
    expect(openCiphertextForRecipient(Buffer.from(released.ciphertextForRecipient, 'base64'), enclave.privateKey).equals(dataKey)).toBe(true);
    expect(JSON.stringify(released)).not.toContain(dataKey.toString('base64'));
  });

  describe("the gate key's policy for a training-only dataset (conditions admit attested workers only)", () => {
    const workerOnly = () => attestedWorkerCondition({ attestationRegistry: w.manager, licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a });
    const decrypt = (wrapped: WrappedKey, conds: AccessConditionList, attestationDocument?: string, datasetId = '7') =>
      kms.client().send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(wrapped.ciphertext, 'base64'),
          KeyId: (wrapped as Extract<WrappedKey, { backend: 'kms' }>).keyId,
          EncryptionContext: { 'provena:datasetId': datasetId, 'provena:version': '1', 'provena:conditionsHash': wrapped.conditionsHash, 'provena:holders': String(admitsLicenseHolders(conds)) },
          ...(attestationDocument === undefined ? {} : { Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from(attestationDocument, 'base64') } }),
        }),
      );

    it('marks the ciphertext as not for holders', () => {
      expect(admitsLicenseHolders(workerOnly())).toBe(false);
      expect(admitsLicenseHolders(conditions)).toBe(true);
    });

    it('refuses a plain Decrypt, whoever calls (AccessDeniedException)', async () => {
      const wrapped = await gate().wrapDataKey({ datasetId: '7', version: 1, dataKey: generateDataKey(), conditions: workerOnly() });

      await expect(decrypt(wrapped, workerOnly())).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });

    it('refuses an enclave of another image (AccessDeniedException)', async () => {
      const wrapped = await gate().wrapDataKey({ datasetId: '7', version: 1, dataKey: generateDataKey(), conditions: workerOnly() });

      await expect(decrypt(wrapped, workerOnly(), enclaveDocument(otherImage))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });

    it('decrypts for an enclave of the approved image, returning no plaintext', async () => {
      const dataKey = generateDataKey();
      const wrapped = await gate().wrapDataKey({ datasetId: '7', version: 1, dataKey, conditions: workerOnly() });

      const out = await decrypt(wrapped, workerOnly(), enclaveDocument(approvedImage));

      expect(out.Plaintext).toBeUndefined();
      expect(openCiphertextForRecipient(out.CiphertextForRecipient as Uint8Array, enclave.privateKey).equals(dataKey)).toBe(true);
    });

    it('refuses the ciphertext under another dataset\'s context, even for the approved enclave (InvalidCiphertextException)', async () => {
      const wrapped = await gate().wrapDataKey({ datasetId: '7', version: 1, dataKey: generateDataKey(), conditions: workerOnly() });

      await expect(decrypt(wrapped, workerOnly(), enclaveDocument(approvedImage), '8')).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    });
  });
});
