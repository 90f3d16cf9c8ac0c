/**
 * PROVENA_KEY_GATE=lit with PROVENA_LIT_ACTION_CID, through the composition (getGate): the conditions an upload
 * wraps under (shared/use-cases/accessRules.ts over the deployment's contracts, here the real contracts on the
 * in-process chain) are accepted, which the Lit gate refused before (KEY_GATE_MISCONFIGURED), and the data key is
 * released to the job's approved worker through the pinned release action. The worker sends only the standard proof
 * (as under the embedded and KMS gates): the gate signs its own Lit session with its wallet, whose key it reads
 * once from Secrets Manager (PROVENA_LIT_WALLET_KEY is the secret's ARN; test/support/aws/fakeSecretsManager.ts).
 * The gate's nonces are in dynalite; the Lit network is test/support/lit/fakeLit.ts through the real SDK client's
 * getSessionSigs (threshold encryption imitated; session signatures verified by the fake's nodes; the action's
 * code run for real).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { ensureTables, tableDefinitions } from '../../shared/adapters/aws/tables.js';
import { ProvenaAccessConditions } from '../../shared/adapters/chain/ProvenaAccessConditions.js';
import { provenaReleaseActionCid, readProvenaReleaseAction } from '../../shared/adapters/lit/provenaReleaseActionCid.js';
import { REQUIRED_CONTRACTS } from '../../shared/configFields.js';
import { generateDataKey } from '../../shared/crypto/chunkedAead.js';
import { sealToPublicKey } from '../../shared/crypto/ecies.js';
import { decryptReleasedKey } from '../../shared/crypto/keyRelease.js';
import { signKeyRequest } from '../../shared/crypto/keyRequest.js';
import { keyRequestDomain } from '../../shared/eip712.js';
import type { Dataset } from '../../shared/schemas/dataset.js';
import { listingAccessConditions } from '../../shared/use-cases/accessRules.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../stack/embeddedDynamo.js';
import { deployAccessWorld, type AccessWorld } from '../../test/support/accessWorld.js';
import { Wallet } from 'ethers';
import { FakeKms } from '../../test/support/aws/fakeKms.js';
import { FakeSecretsManager } from '../../test/support/aws/fakeSecretsManager.js';
import { fakeLitNetwork, startRpcBridge, type FakeLitNetwork } from '../../test/support/lit/fakeLit.js';
import { getGate, useLitTestDoubles } from './gate.js';

let w: AccessWorld;
let kms: FakeKms;
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let bridge: { url: string; close(): Promise<void> };
let lit: FakeLitNetwork;
let sm: FakeSecretsManager;
const WALLET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:provena-lit-wallet-AbCdEf';
const gateWallet = Wallet.createRandom();

beforeAll(async () => {
  w = await deployAccessWorld();
  kms = await FakeKms.start({ trustedRoots: [] });
  dynamo = await startEmbeddedDynamo({ dir: mkdtempSync(join(tmpdir(), 'provena-lit-action-')), port: 0 });
  client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  await ensureTables(client, tableDefinitions({ nonces: 'lit-nonces' }));
  bridge = await startRpcBridge({ request: ({ method, params }) => w.sys.chain.rpc(method, params) });
  lit = fakeLitNetwork(() => false, { rpcUrls: { hardhat: bridge.url }, sessionWallets: [gateWallet.address] });
  sm = await FakeSecretsManager.start();
  sm.put(WALLET_ARN, gateWallet.privateKey);
  const cid = await lit.pin(await readProvenaReleaseAction());
  const contracts = Object.fromEntries(REQUIRED_CONTRACTS.map((name, i) => [name, `0x${String(i + 1).padStart(40, '0')}`]));
  Object.assign(process.env, {
    PROVENA_LOG_LEVEL: 'SILENT',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDFAKEKMS',
    AWS_SECRET_ACCESS_KEY: 'fake-kms-secret',
    PROVENA_KEY_GATE: 'lit',
    PROVENA_LIT_NETWORK: 'datil-test',
    PROVENA_LIT_ACTION_CID: cid,
    PROVENA_LIT_WALLET_KEY: WALLET_ARN,
    PROVENA_SECRETS_MANAGER_ENDPOINT: sm.endpoint,
    PROVENA_KEY_GATE_INBOX_KEY_ARN: kms.createAgreementKey(),
    PROVENA_KMS_ENDPOINT: kms.endpoint,
    PROVENA_DYNAMODB_ENDPOINT: dynamo.endpoint,
    PROVENA_TABLE_NONCES: 'lit-nonces',
    PROVENA_CONTENT_STORE: 'kubo',
    PROVENA_KUBO_URL: 'http://127.0.0.1:9',
    PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:9',
    PROVENA_CHAIN_ID: String(w.sys.chain.chainId),
    PROVENA_CHAIN_NAME: 'hardhat',
    PROVENA_CURSOR_SECRET: 'ab'.repeat(32),
    PROVENA_CONTRACTS: JSON.stringify({ ...contracts, LicenseManager: w.manager, AttestationRegistry: w.attestations }),
  });
  useLitTestDoubles({ clientFactory: () => lit.sdkClient() });
}, 120_000);

afterAll(async () => {
  // The SDK client's blockhash endpoint (served by the fake) closes with the gate's Lit connection.
  const gate = (await getGate().catch(() => undefined))?.gate as { close?: () => Promise<void> } | undefined;
  await gate?.close?.();
  await sm?.close();
  client?.destroy();
  await dynamo?.close();
  await kms?.close();
  await bridge?.close();
});

describe('the Lit gate with the release action, served', () => {
  it('pins the action of this checkout: the configured CID is the CID of actions/provenaRelease.js', async () => {
    expect(process.env.PROVENA_LIT_ACTION_CID).toBe(await provenaReleaseActionCid());
  });

  it("wraps an upload's key under the standard conditions and releases it to the approved worker only", async () => {
    const { gate, inbox } = await getGate();
    const factory = new ProvenaAccessConditions({ chain: 'hardhat', licenseManager: w.manager, attestationRegistry: w.attestations });
    // The rule an upload applies (only these two fields of the listing are read).
    const conditions = listingAccessConditions(factory, { license: { rawAccess: true }, chainDatasetId: w.ds.a.toString() } as Dataset & { chainDatasetId: string });
    const dataKey = generateDataKey();
    const opened = await inbox.open(sealToPublicKey(await inbox.publicKey(), dataKey, 'upload-context', inbox.scheme), 'upload-context');

    const wrapped = await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey: opened, conditions });

    expect(wrapped).toMatchObject({ backend: 'lit', actionIpfsCid: process.env.PROVENA_LIT_ACTION_CID });
    const release = async (who: typeof w.worker, jobId: bigint) => {
      const grant = { type: 'job' as const, jobId: jobId.toString() };
      const proof = await signKeyRequest(who, keyRequestDomain(w.sys.chain.chainId), { datasetId: '7', version: 1, grant, requesterPublicKey: who.signingKey.publicKey });
      return gate.releaseDataKey({
        wrapped,
        datasetId: '7',
        version: 1,
        conditions,
        grant,
        requester: { address: who.address, publicKey: who.signingKey.publicKey },
        proof,
      });
    };
    const released = await release(w.worker, w.job);
    expect(decryptReleasedKey(w.worker.privateKey, released, { datasetId: '7', version: 1 }).equals(dataKey)).toBe(true);
    await expect(release(w.worker, w.endedJob)).rejects.toMatchObject({ code: 'JOB_NOT_ACTIVE' });
    expect(lit.actionRuns.map((r) => r.decrypted)).toEqual([true, false]);
    // One Lit session for both releases, signed by the gate's wallet read from Secrets Manager, once.
    expect(lit.sessionRefusals).toEqual([]);
    expect(sm.calls.map((c) => c.body.SecretId)).toEqual([WALLET_ARN]);
  }, 60_000);
});
