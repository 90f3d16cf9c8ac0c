/**
 * PROVENA_KEY_GATE=lit is served: the composition builds the Lit gate with the KMS inbox (the fake KMS of
 * test/support/aws, reached through the real SDK client) and an in-process Lit network (test/support/lit/fakeLit.ts,
 * see there what it imitates). The key gate route answers the inbox key instead of KEY_GATE_MISCONFIGURED; a data
 * key sealed to that inbox opens, wraps under Lit and is released, sealed, only to an address the conditions pass.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getAddress, hexlify, randomBytes, Wallet } from 'ethers';
import { ECIES_P256_SCHEME, sealToPublicKey } from '../../shared/crypto/ecies.js';
import { generateDataKey } from '../../shared/crypto/chunkedAead.js';
import { decryptReleasedKey } from '../../shared/crypto/keyRelease.js';
import { LICENSE_MANAGER_VIEWS } from '../../shared/adapters/chain/provenaConditions.js';
import { USER_ADDRESS, type AccessConditionList } from '../../shared/schemas/accessConditions.js';
import { FakeKms } from '../../test/support/aws/fakeKms.js';
import { apiEvent, litGateEnv } from '../../test/support/lambdaEvent.js';
import { fakeLitNetwork } from '../../test/support/lit/fakeLit.js';
import { getGate, useLitTestDoubles } from './gate.js';

const holder = new Wallet(hexlify(randomBytes(32)));
const stranger = new Wallet(hexlify(randomBytes(32)));
const lit = fakeLitNetwork((address) => getAddress(address) === holder.address);
let kms: FakeKms;

/** A condition Lit can evaluate: a fixed license id, only `:userAddress` filled by Lit (see LitKeyGate.test.ts). */
const conditions: AccessConditionList = [
  {
    contractAddress: getAddress('0x' + '3a'.repeat(20)),
    chain: 'baseSepolia',
    functionName: 'holdsValidLicense',
    functionParams: [USER_ADDRESS, '3', '7'],
    functionAbi: LICENSE_MANAGER_VIEWS.holdsValidLicense,
    returnValueTest: { key: '', comparator: '=', value: 'true' },
    refusalCode: 'KEY_ACCESS_DENIED',
  },
];

beforeAll(async () => {
  kms = await FakeKms.start({ trustedRoots: [] });
  Object.assign(
    process.env,
    litGateEnv(kms, 'datil-test'),
  );
  // Lit's own schema check needs the optional SDK (not installed here); the conversion itself still runs.
  useLitTestDoubles({ clientFactory: async () => lit.client, validate: async () => undefined });
});

afterAll(async () => {
  await kms.close();
});

describe('the Lit key gate, served', () => {
  it('answers GET /v1/keygate with backend lit and the KMS inbox key, not KEY_GATE_MISCONFIGURED', async () => {
    const { handler } = await import('../keygate/info.js');
    const res = await handler(apiEvent('GET', '/v1/keygate'));
    const body = JSON.parse(res.body as string) as { backend: string; publicKey: string; scheme: string; error?: unknown };
    expect(res.statusCode).toBe(200);
    expect(body.backend).toBe('lit');
    expect(body.scheme).toBe(ECIES_P256_SCHEME);
    expect(body.publicKey).toMatch(/^0x0[23][0-9a-f]{64}$/); // compressed P-256 point
  });

  it('opens a key sealed to the inbox, wraps it under Lit and releases it only to an address the conditions pass', async () => {
    const { gate, inbox } = await getGate();
    const dataKey = generateDataKey();
    const opened = await inbox.open(sealToPublicKey(await inbox.publicKey(), dataKey, 'upload-context', inbox.scheme), 'upload-context');
    expect(Buffer.compare(opened, dataKey)).toBe(0);

    const wrapped = await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey: opened, conditions });
    expect(wrapped.backend).toBe('lit');
    expect(lit.encrypts).toBe(1);

    const release = (w: Wallet) =>
      gate.releaseDataKey({
        wrapped,
        datasetId: '7',
        version: 1,
        conditions,
        grant: { type: 'license', licenseId: '3' },
        requester: { address: w.address, publicKey: w.signingKey.publicKey },
        proof: { nonce: '0x' + '11'.repeat(32), issuedAt: Math.floor(Date.now() / 1000), signature: '0x', litSessionSigs: { 'https://node-1': { address: w.address } } },
      });
    const released = await release(holder);
    expect(Buffer.compare(decryptReleasedKey(holder.privateKey, released, { datasetId: '7', version: 1 }), dataKey)).toBe(0);
    await expect(release(stranger)).rejects.toMatchObject({ code: 'KEY_ACCESS_DENIED' });
    expect(lit.decrypts.map((d) => d.granted)).toEqual([true, false]);
  });
});
