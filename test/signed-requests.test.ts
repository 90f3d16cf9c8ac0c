/**
 * Signed API calls against the embedded stack: every rejection the foundation issue lists answers 401 with
 * its stable code and changes nothing; ethers- and viem-signed requests are accepted; an ERC-1271 smart
 * account (an AI agent's wallet) is verified on the chain.
 */
import { describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { privateKeyToAccount } from 'viem/accounts';
import { AbiCoder, concat, hexlify, randomBytes } from 'ethers';
import { OwnedSmartAccountFactory__factory, OwnedSmartAccount__factory } from '../contracts/typechain/index.js';
import { ERC6492_MAGIC } from '../shared/crypto/signatures.js';
import { authHeaders, requestMessage, signRequest } from '../shared/auth/signedRequest.js';
import { REQUEST_TYPES, requestDomain } from '../shared/eip712.js';
import { listing } from './support/fixtures.js';
import { clientFor, fundedSigner, newWallet, provider, stackInfo } from './support/stack.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(new URL(path, stackInfo().apiUrl), { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as { error?: { code: string }; id?: string } };
}

async function countOwned(owner: string): Promise<number> {
  return (await clientFor().listDatasets({ owner, limit: 100 })).items.length;
}

describe('signed requests', () => {
  const { chainId } = stackInfo();

  it('accepts a request signed by an ethers wallet', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body });
    const r = await post('/v1/datasets', body, headers);
    expect(r.status).toBe(201);
    expect(await countOwned(wallet.address)).toBe(1);
  });

  it('accepts a request signed by a viem account', async () => {
    const key = Wallet.createRandom().privateKey as `0x${string}`;
    const account = privateKeyToAccount(key);
    const body = JSON.stringify(listing(account.address));
    const message = requestMessage({ account: account.address, method: 'POST', path: '/v1/datasets', body });
    const signature = await account.signTypedData({
      domain: requestDomain(chainId) as { name: string; version: string; chainId: number },
      types: { Request: REQUEST_TYPES.Request as { name: string; type: string }[] },
      primaryType: 'Request',
      message: { ...message, account: message.account as `0x${string}`, bodyHash: message.bodyHash as `0x${string}`, nonce: message.nonce as `0x${string}`, timestamp: BigInt(message.timestamp) },
    });
    const r = await post('/v1/datasets', body, authHeaders(account.address, message, signature));
    expect(r.status).toBe(201);
  });

  it('rejects an unsigned mutating request with AUTH_MISSING', async () => {
    const r = await post('/v1/datasets', JSON.stringify(listing(newWallet().address)), {});
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'AUTH_MISSING' } } });
  });

  it('rejects a timestamp more than 5 minutes old and writes nothing', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body, timestamp: Math.floor(Date.now() / 1000) - 301 });
    const r = await post('/v1/datasets', body, headers);
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'AUTH_TIMESTAMP_OUT_OF_RANGE' } } });
    expect(await countOwned(wallet.address)).toBe(0);
  });

  it('rejects a timestamp more than 5 minutes in the future', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body, timestamp: Math.floor(Date.now() / 1000) + 400 });
    expect((await post('/v1/datasets', body, headers)).body.error?.code).toBe('AUTH_TIMESTAMP_OUT_OF_RANGE');
  });

  it('rejects a reused nonce: the replay of an accepted request lists nothing more', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body });
    expect((await post('/v1/datasets', body, headers)).status).toBe(201);
    const replay = await post('/v1/datasets', body, headers);
    expect(replay).toMatchObject({ status: 401, body: { error: { code: 'AUTH_NONCE_REUSED' } } });
    expect(await countOwned(wallet.address)).toBe(1);
  });

  it('lists once when a signed create and its replays arrive together (the listing waits for the nonce it overlaps)', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body });
    const answers = await Promise.all([0, 1, 2, 3].map(() => post('/v1/datasets', body, headers)));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 401, 401, 401]);
    for (const a of answers.filter((x) => x.status === 401)) expect(a.body.error?.code).toBe('AUTH_NONCE_REUSED');
    expect(await countOwned(wallet.address)).toBe(1);
  });

  it('answers the replay of a request with a bad body AUTH_NONCE_REUSED, as before its parts were parsed beside the nonce', async () => {
    const wallet = newWallet();
    const body = JSON.stringify({ ...listing(wallet.address), sizeBytes: -1 });
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body });
    expect(await post('/v1/datasets', body, headers)).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(await post('/v1/datasets', body, headers)).toMatchObject({ status: 401, body: { error: { code: 'AUTH_NONCE_REUSED' } } });
    expect(await countOwned(wallet.address)).toBe(0);
  });

  it('rejects a signature over a different body', async () => {
    const wallet = newWallet();
    const signed = JSON.stringify(listing(wallet.address));
    const sent = JSON.stringify(listing(wallet.address, { title: 'Something else' }));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body: signed });
    expect((await post('/v1/datasets', sent, headers)).body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
    expect(await countOwned(wallet.address)).toBe(0);
  });

  it('rejects a signature over a different path', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets?x=1', body });
    expect((await post('/v1/datasets', body, headers)).body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
  });

  it('rejects a signature over a different method', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'PUT', path: '/v1/datasets', body });
    expect((await post('/v1/datasets', body, headers)).body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
  });

  it('rejects a signature made for another chain id', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId: chainId + 1, method: 'POST', path: '/v1/datasets', body });
    expect((await post('/v1/datasets', body, headers)).body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
  });

  it('rejects a signature claimed for another address', async () => {
    const wallet = newWallet();
    const victim = newWallet();
    const body = JSON.stringify(listing(victim.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body, account: victim.address });
    expect((await post('/v1/datasets', body, headers)).body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
    expect(await countOwned(victim.address)).toBe(0);
  });

  it('rejects the high-s twin of a valid signature with AUTH_SIGNATURE_MALLEABLE and keeps the nonce unspent', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body });
    const sig = headers['x-provena-signature'] as string;
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = Number.parseInt(sig.slice(130, 132), 16);
    const twin = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
    const r = await post('/v1/datasets', body, { ...headers, 'x-provena-signature': twin });
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'AUTH_SIGNATURE_MALLEABLE' } } });
    // The refused request consumed nothing: the original, canonical signature still works once.
    expect((await post('/v1/datasets', body, headers)).status).toBe(201);
  });

  it('rejects a malformed signature', async () => {
    const wallet = newWallet();
    const body = JSON.stringify(listing(wallet.address));
    const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body });
    const short = (headers['x-provena-signature'] as string).slice(0, 100);
    expect((await post('/v1/datasets', body, { ...headers, 'x-provena-signature': short })).body.error?.code).toBe('AUTH_SIGNATURE_MALFORMED');
    expect((await post('/v1/datasets', body, { ...headers, 'x-provena-signature': 'not-hex' })).body.error?.code).toBe('AUTH_HEADER_INVALID');
  });

  describe('ERC-1271 smart accounts', () => {
    it("accepts a request for a contract wallet signed by the wallet's owner", async () => {
      const owner = newWallet();
      const deployer = fundedSigner(3, provider());
      const account = await new OwnedSmartAccount__factory(deployer).deploy(owner.address);
      await account.waitForDeployment();
      const accountAddress = await account.getAddress();

      const api = clientFor(owner, accountAddress);
      const ds = await api.createDataset(listing(accountAddress));
      expect(ds.owner).toBe(accountAddress);
      expect(await countOwned(accountAddress)).toBe(1);
    });

    it('rejects a request for a contract wallet signed by someone else', async () => {
      const owner = newWallet();
      const deployer = fundedSigner(3, provider());
      const account = await new OwnedSmartAccount__factory(deployer).deploy(owner.address);
      await account.waitForDeployment();
      const accountAddress = await account.getAddress();

      const intruder = newWallet();
      const body = JSON.stringify(listing(accountAddress));
      const headers = await signRequest(intruder, { chainId, method: 'POST', path: '/v1/datasets', body, account: accountAddress });
      expect((await post('/v1/datasets', body, headers)).body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
      expect(await countOwned(accountAddress)).toBe(0);
    });
  });

  describe('the signed message names the account', () => {
    it("refuses an owner's own request replayed for a smart account the same key controls, and lists nothing", async () => {
      const owner = newWallet();
      const deployer = fundedSigner(3, provider());
      const account = await new OwnedSmartAccount__factory(deployer).deploy(owner.address);
      await account.waitForDeployment();
      const accountAddress = await account.getAddress();
      const body = JSON.stringify(listing(accountAddress));
      // Signed by the owner for itself; the same signature is then presented for the contract wallet.
      const own = await signRequest(owner, { chainId, method: 'POST', path: '/v1/datasets', body });
      const replayed = { ...own, 'x-provena-address': accountAddress };
      expect((await post('/v1/datasets', body, replayed)).body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
      expect(await countOwned(accountAddress)).toBe(0);
    });
  });

  describe('ERC-6492 counterfactual smart accounts', () => {
    async function counterfactual() {
      const owner = newWallet();
      const deployer = fundedSigner(3, provider());
      const factory = await new OwnedSmartAccountFactory__factory(deployer).deploy();
      await factory.waitForDeployment();
      const salt = hexlify(randomBytes(32));
      const address = await factory.addressOf(owner.address, salt);
      const deployCall = factory.interface.encodeFunctionData('deploy', [owner.address, salt]);
      const wrap = (signature: string) => concat([AbiCoder.defaultAbiCoder().encode(['address', 'bytes', 'bytes'], [factory.target, deployCall, signature]), `0x${ERC6492_MAGIC}`]);
      return { owner, address, wrap };
    }

    it('accepts a request from an account that is not deployed yet, signed by its future owner', async () => {
      const { owner, address, wrap } = await counterfactual();
      const body = JSON.stringify(listing(address));
      const headers = await signRequest(owner, { chainId, method: 'POST', path: '/v1/datasets', body, account: address });
      const r = await post('/v1/datasets', body, { ...headers, 'x-provena-signature': wrap(headers['x-provena-signature'] as string) });
      expect(r.status).toBe(201);
      expect(await countOwned(address)).toBe(1);
      expect(await provider().getCode(address)).toBe('0x'); // verified in a simulation: nothing was deployed
    });

    it('refuses a wrapped signature by a key that is not the future owner', async () => {
      const { address, wrap } = await counterfactual();
      const body = JSON.stringify(listing(address));
      const headers = await signRequest(newWallet(), { chainId, method: 'POST', path: '/v1/datasets', body, account: address });
      const r = await post('/v1/datasets', body, { ...headers, 'x-provena-signature': wrap(headers['x-provena-signature'] as string) });
      expect(r.body.error?.code).toBe('AUTH_SIGNATURE_INVALID');
      expect(await countOwned(address)).toBe(0);
    });
  });
});
