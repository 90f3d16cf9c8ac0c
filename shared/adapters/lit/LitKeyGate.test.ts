import { describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { getAddress, hexlify, randomBytes, Wallet } from 'ethers';
import { generateDataKey } from '../../crypto/chunkedAead.js';
import { decryptReleasedKey } from '../../crypto/keyRelease.js';
import { anyOf, USER_ADDRESS } from '../../schemas/accessConditions.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import { hashConditions } from '../../crypto/conditionsHash.js';
import { attestedWorkerCondition, LICENSE_MANAGER_VIEWS, licenseHolderCondition } from '../chain/provenaConditions.js';
import type { ReleaseDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';
import { toLitEvmContractConditions } from './conditions.js';
import { LitKeyGate } from './LitKeyGate.js';
import type { LitClientLike } from './LitKeyGate.js';

const MANAGER = getAddress('0x' + '3a'.repeat(20));
const ATTESTATIONS = getAddress('0x' + '3b'.repeat(20));

/**
 * A condition Lit can evaluate: the real `LicenseManager.holdsValidLicense` view with only `:userAddress` left to
 * fill, the license id fixed when the key is wrapped (Lit fills no request-time value such as `:licenseId`).
 */
function holdsLicense(licenseId: string, datasetId: string, chain = 'baseSepolia'): AccessConditionList {
  return [
    {
      contractAddress: MANAGER,
      chain,
      functionName: 'holdsValidLicense',
      functionParams: [USER_ADDRESS, licenseId, datasetId],
      functionAbi: LICENSE_MANAGER_VIEWS.holdsValidLicense,
      returnValueTest: { key: '', comparator: '=', value: 'true' },
      refusalCode: 'KEY_ACCESS_DENIED',
    },
  ];
}
const conditions = holdsLicense('3', '7');

/** The Lit SDK is an optional dependency: the real-SDK test is skipped where it is not installed. */
const litInstalled = existsSync(fileURLToPath(new URL('../../../node_modules/@lit-protocol/lit-node-client/package.json', import.meta.url)));

interface ProbeOutput {
  validations: (true | string)[];
  hashes: (string | null)[];
  offlineWrap: { code?: string; message: string };
  action?: true | string;
}

/** Runs litSdkProbe.ts with the real Lit SDK in a plain Node process (see that file for why). */
function probe(input: object): Promise<ProbeOutput> {
  const script = fileURLToPath(new URL('./litSdkProbe.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--import', 'tsx', script], { timeout: 90_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (err && !line.startsWith('{')) return reject(new Error(`probe failed: ${err.message}\n${stderr.slice(-2000)}`));
      resolve(JSON.parse(line) as ProbeOutput);
    });
    child.stdin!.end(JSON.stringify(input));
  });
}

describe('Lit condition building', () => {
  it("converts our conditions to Lit's evmContractConditions, dropping our refusalCode", () => {
    const lit = toLitEvmContractConditions(conditions);

    expect(lit).toEqual([
      {
        contractAddress: MANAGER,
        chain: 'baseSepolia',
        functionName: 'holdsValidLicense',
        functionParams: [':userAddress', '3', '7'],
        functionAbi: LICENSE_MANAGER_VIEWS.holdsValidLicense,
        returnValueTest: { key: '', comparator: '=', value: 'true' },
      },
    ]);
    expect(JSON.stringify(lit)).not.toContain('refusalCode');
  });

  it('maps our chain names to Lit chain names', () => {
    const lit = toLitEvmContractConditions(holdsLicense('3', '7', 'hardhat'), { hardhat: 'yellowstone' });

    expect(lit[0]).toMatchObject({ chain: 'yellowstone' });
  });

  it("refuses Provena's license-holder and attested-worker conditions: their :licenseId / :jobId are request-time values Lit cannot fill", () => {
    const holder = licenseHolderCondition({ licenseManager: MANAGER, chain: 'baseSepolia', datasetId: 7n });
    const worker = attestedWorkerCondition({ attestationRegistry: ATTESTATIONS, licenseManager: MANAGER, chain: 'baseSepolia', datasetId: 7n });

    expect(() => toLitEvmContractConditions(holder)).toThrow(expect.objectContaining({ code: 'KEY_GATE_MISCONFIGURED' }));
    expect(() => toLitEvmContractConditions(worker)).toThrow(expect.objectContaining({ code: 'KEY_GATE_MISCONFIGURED' }));
    expect(() => toLitEvmContractConditions(anyOf(conditions, worker))).toThrow(expect.objectContaining({ code: 'KEY_GATE_MISCONFIGURED' }));
  });

  (litInstalled ? it : it.skip)("with the real Lit SDK: passes Lit's validator, hashes deterministically, rejects unknown chains, accepts the release action's condition, fails to connect cleanly offline", async () => {
    const out = await probe({
      conditions: [
        conditions,
        holdsLicense('3', '7'),
        holdsLicense('3', '8'),
        anyOf(conditions, holdsLicense('3', '7', 'ethereum')),
        holdsLicense('3', '7', 'hardhat'),
      ],
      network: 'datil-dev',
      actionCid: 'QmeUzqi9biodZxtuXvcAbzmc2UgvD5x7iHwsf4jwNvZxoo',
    });

    expect(out.validations).toEqual([true, true, true, true, 'KEY_GATE_MISCONFIGURED']);
    expect(out.hashes[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(out.hashes[1]).toBe(out.hashes[0]);
    expect(out.hashes[2]).not.toBe(out.hashes[0]);
    expect(out.offlineWrap.code).toBe('DEPENDENCY_FAILED');
    expect(out.offlineWrap.message).toContain('datil-dev');
    // The release action's condition (:currentActionIpfsId = its CID) passes Lit's own accessControlConditions schema.
    expect(out.action).toBe(true);
  }, 120_000);
});

describe('LitKeyGate request flow (Lit client stubbed at the SDK boundary)', () => {

  function fakeLit(decrypt: LitClientLike['decrypt']): { client: LitClientLike; encrypt: jest.Mock<(p: unknown) => Promise<{ ciphertext: string; dataToEncryptHash: string }>> } {
    const encrypt = jest.fn(async (_p: unknown) => ({ ciphertext: 'bGl0LWNpcGhlcnRleHQ=', dataToEncryptHash: 'ab'.repeat(32) }));
    return { client: { connect: async () => undefined, disconnect: async () => undefined, encrypt, decrypt }, encrypt };
  }

  async function releaseParams(who: Wallet, wrapped: WrappedKey, sessionSigs: Record<string, unknown> | undefined): Promise<ReleaseDataKeyParams> {
    return {
      wrapped,
      datasetId: '7',
      version: 1,
      conditions,
      grant: { type: 'license', licenseId: '1' },
      requester: { address: who.address, publicKey: who.signingKey.publicKey },
      proof: { nonce: hexlify(randomBytes(32)), issuedAt: Math.floor(Date.now() / 1000), signature: '0x', ...(sessionSigs === undefined ? {} : { litSessionSigs: sessionSigs }) },
    };
  }

  it('encrypts the data key (only the key) under the converted conditions', async () => {
    const { client, encrypt } = fakeLit(async () => ({ decryptedData: new Uint8Array() }));
    const gate = new LitKeyGate({ network: 'datil-test', logger: new Logger({ logLevel: 'SILENT' }), clientFactory: async () => client, validate: async () => undefined });
    const dataKey = generateDataKey();

    const wrapped = await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey, conditions });

    expect(encrypt).toHaveBeenCalledWith({ evmContractConditions: toLitEvmContractConditions(conditions), dataToEncrypt: dataKey });
    expect(wrapped).toEqual({ backend: 'lit', network: 'datil-test', ciphertext: 'bGl0LWNpcGhlcnRleHQ=', dataToEncryptHash: 'ab'.repeat(32), conditionsHash: hashConditions(conditions) });
  });

  it("refuses to wrap under Provena's request-time conditions, before Lit is asked (KEY_GATE_MISCONFIGURED)", async () => {
    const { client, encrypt } = fakeLit(async () => ({ decryptedData: new Uint8Array() }));
    const gate = new LitKeyGate({ network: 'datil', logger: new Logger({ logLevel: 'SILENT' }), clientFactory: async () => client, validate: async () => undefined });
    const holder = licenseHolderCondition({ licenseManager: MANAGER, chain: 'baseSepolia', datasetId: 7n });

    await expect(gate.wrapDataKey({ datasetId: '7', version: 1, dataKey: generateDataKey(), conditions: holder })).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
    expect(encrypt).not.toHaveBeenCalled();
  });

  it('releases what Lit decrypts, sealed to the requester', async () => {
    const dataKey = generateDataKey();
    const decrypt = jest.fn<LitClientLike['decrypt']>(async () => ({ decryptedData: new Uint8Array(dataKey) }));
    const { client } = fakeLit(decrypt);
    const gate = new LitKeyGate({ network: 'datil', logger: new Logger({ logLevel: 'SILENT' }), clientFactory: async () => client, validate: async () => undefined });
    const who = new Wallet(hexlify(randomBytes(32)));
    const wrapped = await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey, conditions });

    const released = await gate.releaseDataKey(await releaseParams(who, wrapped, { 'https://node': { sig: '0x' } }));

    expect(decrypt).toHaveBeenCalledWith(expect.objectContaining({ chain: 'baseSepolia', ciphertext: 'bGl0LWNpcGhlcnRleHQ=', sessionSigs: { 'https://node': { sig: '0x' } } }));
    expect(decryptReleasedKey(who.privateKey, released).equals(dataKey)).toBe(true);
  });

  it('maps a Lit authorization failure to KEY_ACCESS_DENIED and logs it', async () => {
    const { client } = fakeLit(async () => {
      throw new Error('NodeAccessControlConditionsReturnedNotAuthorized: The access control conditions check failed');
    });
    const logger = new Logger({ logLevel: 'SILENT' });
    const warn = jest.spyOn(logger, 'warn');
    const gate = new LitKeyGate({ network: 'datil', logger, clientFactory: async () => client, validate: async () => undefined });
    const who = new Wallet(hexlify(randomBytes(32)));
    const wrapped = await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey: generateDataKey(), conditions });

    await expect(gate.releaseDataKey(await releaseParams(who, wrapped, {}))).rejects.toMatchObject({ code: 'KEY_ACCESS_DENIED' });
    expect(warn).toHaveBeenCalledWith('key release refused', expect.objectContaining({ code: 'KEY_ACCESS_DENIED', backend: 'lit' }));
  });

  it('refuses a release without Lit session signatures', async () => {
    const { client } = fakeLit(async () => ({ decryptedData: new Uint8Array() }));
    const gate = new LitKeyGate({ network: 'datil', logger: new Logger({ logLevel: 'SILENT' }), clientFactory: async () => client, validate: async () => undefined });
    const wrapped = await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey: generateDataKey(), conditions });

    await expect(gate.releaseDataKey(await releaseParams(new Wallet(hexlify(randomBytes(32))), wrapped, undefined))).rejects.toMatchObject({ code: 'KEY_REQUEST_SIGNATURE_INVALID' });
  });
});
