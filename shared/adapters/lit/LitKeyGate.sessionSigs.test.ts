/**
 * The Lit gate's own session signatures (gateSessionSigs.ts): built by the real Lit SDK 7.4.0
 * (`LitNodeClientNodeJs.getSessionSigs`, `createSiweMessageWithRecaps`, `generateAuthSig`, `LitActionResource`)
 * against the fake Lit network, whose nodes verify them with real cryptography (ed25519 session-key signature per
 * node, the SIWE auth sig's secp256k1 signature, its `lit:session:` URI, expiry, blockhash nonce, the ReCap's
 * `lit-litaction://<CID>`), and refuse a session for another CID, an expired one or an unpaid wallet. The requester
 * sends only the standard proof (no `litSessionSigs`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Wallet } from 'ethers';
import { generateDataKey } from '../../crypto/chunkedAead.js';
import { decryptReleasedKey } from '../../crypto/keyRelease.js';
import { signKeyRequest } from '../../crypto/keyRequest.js';
import { keyRequestDomain } from '../../eip712.js';
import { anyOf } from '../../schemas/accessConditions.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import type { KeyGrant, ReleaseDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';
import { MemoryNonceStore } from '../../../test/support/memoryNonceStore.js';
import { attestedWorkerCondition, licenseHolderCondition } from '../chain/provenaConditions.js';
import { deployAccessWorld } from '../../../test/support/accessWorld.js';
import type { AccessWorld } from '../../../test/support/accessWorld.js';
import { capacityDelegation, fakeLitNetwork, startRpcBridge } from '../../../test/support/lit/fakeLit.js';
import type { CapacityDelegation, FakeLitNetwork } from '../../../test/support/lit/fakeLit.js';
import { LitKeyGate } from './LitKeyGate.js';
import type { LitKeyGateOptions } from './LitKeyGate.js';
import { readProvenaReleaseAction } from './provenaReleaseActionCid.js';

const DATASET = '7';
const gateWallet = Wallet.createRandom();
let w: AccessWorld;
let bridge: { url: string; close(): Promise<void> };
let lit: FakeLitNetwork;
let source: string;
let cid: string;
let conditions: AccessConditionList;
let dataKey: Buffer;
let wrapped: Extract<WrappedKey, { backend: 'lit' }>;
const gates: LitKeyGate[] = [];

function makeGate(wallet: LitKeyGateOptions['wallet'], actionCid = cid): LitKeyGate {
  const g = new LitKeyGate({
    network: 'datil-test',
    logger: new Logger({ logLevel: 'SILENT' }),
    clientFactory: () => lit.sdkClient(),
    action: { ipfsCid: actionCid },
    requestChecks: { nonceStore: new MemoryNonceStore(), domain: keyRequestDomain(w.sys.chain.chainId) },
    ...(wallet === undefined ? {} : { wallet }),
  });
  gates.push(g);
  return g;
}

beforeAll(async () => {
  w = await deployAccessWorld();
  bridge = await startRpcBridge({ request: ({ method, params }) => w.sys.chain.rpc(method, params) });
  lit = fakeLitNetwork(() => false, { rpcUrls: { hardhat: bridge.url }, sessionWallets: [gateWallet.address] });
  source = await readProvenaReleaseAction();
  cid = await lit.pin(source);
  conditions = anyOf(
    licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a }),
    attestedWorkerCondition({ attestationRegistry: w.attestations, licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a }),
  );
  dataKey = generateDataKey();
  wrapped = (await makeGate({ privateKey: gateWallet.privateKey }).wrapDataKey({ datasetId: DATASET, version: 1, dataKey, conditions })) as typeof wrapped;
}, 120_000);

afterAll(async () => {
  for (const g of gates) await g.close();
  await bridge?.close();
});

/** The standard proof only: what the CLI, the worker agent and the SDK send under every gate. */
async function request(who: Wallet, grant: KeyGrant): Promise<ReleaseDataKeyParams> {
  const proof = await signKeyRequest(who, keyRequestDomain(w.sys.chain.chainId), { datasetId: DATASET, version: 1, grant, requesterPublicKey: who.signingKey.publicKey });
  return { wrapped, datasetId: DATASET, version: 1, conditions, grant, requester: { address: who.address, publicKey: who.signingKey.publicKey }, proof };
}
const license = (id: bigint): KeyGrant => ({ type: 'license', licenseId: id.toString() });

describe("the Lit gate's own session signatures", () => {
  it('releases to a license holder who sent only the standard proof: the gate signs the Lit session itself', async () => {
    const gate = makeGate({ privateKey: gateWallet.privateKey });

    const released = await gate.releaseDataKey(await request(w.holder, license(w.license)));

    expect(decryptReleasedKey(w.holder.privateKey, released, { datasetId: DATASET, version: 1 }).equals(dataKey)).toBe(true);
    expect(lit.actionRuns.at(-1)).toMatchObject({ cid, decrypted: true });
    expect(gate.sessionSigs?.address).toBe(gateWallet.address);
  }, 60_000);

  it('signs one session entry per Lit node, by an ed25519 session key the wallet delegated to for this CID only', async () => {
    const gate = makeGate({ privateKey: gateWallet.privateKey });
    const sdk = await lit.sdkClient();
    await sdk.connect();

    const sigs = await gate.sessionSigs!.get(sdk);

    expect(Object.keys(sigs).sort()).toEqual([...lit.nodeUrls].sort());
    const entry = Object.values(sigs)[0] as { signedMessage: string };
    const m = JSON.parse(entry.signedMessage) as { resourceAbilityRequests: unknown[]; capabilities: { signedMessage: string }[] };
    expect(m.resourceAbilityRequests).toEqual([{ resource: { resource: cid, resourcePrefix: 'lit-litaction' }, ability: 'lit-action-execution' }]);
    expect(m.capabilities[0]!.signedMessage).toContain(`'Threshold': 'Execution' for 'lit-litaction://${cid}'`);
    expect(m.capabilities[0]!.signedMessage).not.toContain('lit-litaction://*');
    await sdk.disconnect();
  }, 60_000);

  it('is refused by Lit when its session is for another CID, and nothing is decrypted', async () => {
    const other = await lit.pin(`${source}\n// another action`);
    const gate = makeGate({ privateKey: gateWallet.privateKey }, other);
    // The gate names the key's CID only when it is its own pinned one: ask Lit directly with the other CID's session.
    const sdk = await lit.sdkClient();
    await sdk.connect();
    const sigs = await gate.sessionSigs!.get(sdk);
    const runs = lit.actionRuns.length;

    await expect(sdk.executeJs({ ipfsId: cid, sessionSigs: sigs, jsParams: {} })).rejects.toThrow(/does not request executing/);
    expect(lit.actionRuns.length).toBe(runs);
    await sdk.disconnect();
  }, 60_000);

  it('is refused by Lit when a session entry was altered after the session key signed it (a later expiry)', async () => {
    const gate = makeGate({ privateKey: gateWallet.privateKey });
    const sdk = await lit.sdkClient();
    await sdk.connect();
    const sigs = await gate.sessionSigs!.get(sdk);
    const url = lit.nodeUrls[1]!;
    const entry = sigs[url] as { signedMessage: string };
    const altered = { ...entry, signedMessage: JSON.stringify({ ...JSON.parse(entry.signedMessage), expiration: new Date(Date.now() + 86_400_000).toISOString() }) };
    const runs = lit.actionRuns.length;

    await expect(sdk.executeJs({ ipfsId: cid, sessionSigs: { ...sigs, [url]: altered }, jsParams: {} })).rejects.toThrow(/session key did not sign/);
    expect(lit.actionRuns.length).toBe(runs);
    await sdk.disconnect();
  }, 60_000);

  it('is refused by Lit (DEPENDENCY_FAILED) when the session has expired, before the action runs', async () => {
    const gate = makeGate({ privateKey: gateWallet.privateKey, now: () => Date.now() - 3_600_000 });
    const runs = lit.actionRuns.length;

    await expect(gate.releaseDataKey(await request(w.holder, license(w.license)))).rejects.toMatchObject({ code: 'DEPENDENCY_FAILED' });
    expect(lit.sessionRefusals.at(-1)).toMatch(/expired/);
    expect(lit.actionRuns.length).toBe(runs);
  }, 60_000);

  it('is refused by Lit when signed by another wallet (no Capacity Credits), before the action runs', async () => {
    const gate = makeGate({ privateKey: Wallet.createRandom().privateKey });
    const runs = lit.actionRuns.length;

    await expect(gate.releaseDataKey(await request(w.holder, license(w.license)))).rejects.toMatchObject({ code: 'DEPENDENCY_FAILED' });
    expect(lit.sessionRefusals.at(-1)).toMatch(/holds no Capacity Credits/);
    expect(lit.actionRuns.length).toBe(runs);
  }, 60_000);

  /** A Capacity Credits delegation signed by `owner` with the real SDK, on a client of its own. */
  async function delegation(owner: Pick<Wallet, 'getAddress' | 'signMessage'>, delegatees: string[]): Promise<CapacityDelegation> {
    const sdk = await lit.sdkClient();
    await sdk.connect();
    try {
      return await capacityDelegation(sdk, owner, delegatees);
    } finally {
      await sdk.disconnect();
    }
  }

  it("pays with Capacity Credits their owner delegated to the gate's wallet (capacityDelegationAuthSig)", async () => {
    const delegatee = Wallet.createRandom();
    const gate = makeGate({ privateKey: delegatee.privateKey, capacityDelegationAuthSig: await delegation(gateWallet, [delegatee.address]) });

    const released = await gate.releaseDataKey(await request(w.holder, license(w.license)));

    expect(decryptReleasedKey(w.holder.privateKey, released, { datasetId: DATASET, version: 1 }).equals(dataKey)).toBe(true);
    expect(lit.actionRuns.at(-1)).toMatchObject({ cid, decrypted: true });
    expect(gate.sessionSigs?.address).toBe(delegatee.address);
  }, 60_000);

  it('is refused by Lit when the delegation names another wallet, or comes from a wallet without credits', async () => {
    const delegatee = Wallet.createRandom();
    const elsewhere = makeGate({ privateKey: delegatee.privateKey, capacityDelegationAuthSig: await delegation(gateWallet, [Wallet.createRandom().address]) });
    const unpaid = makeGate({ privateKey: delegatee.privateKey, capacityDelegationAuthSig: await delegation(Wallet.createRandom(), [delegatee.address]) });
    const runs = lit.actionRuns.length;

    await expect(elsewhere.releaseDataKey(await request(w.holder, license(w.license)))).rejects.toMatchObject({ code: 'DEPENDENCY_FAILED' });
    expect(lit.sessionRefusals.at(-1)).toMatch(/holds no Capacity Credits.*delegation does not name/);
    await expect(unpaid.releaseDataKey(await request(w.holder, license(w.license)))).rejects.toMatchObject({ code: 'DEPENDENCY_FAILED' });
    expect(lit.sessionRefusals.at(-1)).toMatch(/holds no Capacity Credits.*delegator 0x[0-9a-fA-F]{40} holds no Capacity Credits/);
    expect(lit.actionRuns.length).toBe(runs);
  }, 60_000);

  it("still refuses a stranger: the gate's session pays for Lit, the requester's proof and the chain decide", async () => {
    const gate = makeGate({ privateKey: gateWallet.privateKey });

    await expect(gate.releaseDataKey(await request(w.stranger, license(w.license)))).rejects.toMatchObject({ code: 'KEY_ACCESS_DENIED' });
    expect(lit.actionRuns.at(-1)).toMatchObject({ decrypted: false });
  }, 60_000);

  it('reuses its signatures until shortly before expiry, then builds new ones', async () => {
    let offset = 0;
    const gate = makeGate({ privateKey: gateWallet.privateKey, sessionTtlMs: 600_000, refreshBeforeMs: 60_000, now: () => Date.now() + offset });
    const sdk = await lit.sdkClient();
    await sdk.connect();

    const first = await gate.sessionSigs!.get(sdk);
    offset = 530_000;
    const second = await gate.sessionSigs!.get(sdk);
    offset = 545_000;
    const third = await gate.sessionSigs!.get(sdk);

    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(gate.sessionSigs!.builds).toBe(2);
    offset = 0;
    await expect(sdk.executeJs({ ipfsId: cid, sessionSigs: third, jsParams: { release: {} } })).resolves.toBeDefined();
    await sdk.disconnect();
  }, 60_000);
});
