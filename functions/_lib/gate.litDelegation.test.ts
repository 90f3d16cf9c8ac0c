/**
 * PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG reaches the Lit gate's own session: the composition (getGate) builds the
 * gate with its wallet (PROVENA_LIT_WALLET_KEY) and the delegation from the environment, and the session the real Lit
 * SDK 7.4.0 signs carries that delegation among its capabilities, which the fake Lit network (test/support/lit/fakeLit.ts)
 * accepts in place of credits the wallet does not own. The delegation itself is made by the SDK's
 * `createCapacityDelegationAuthSig`, signed by the credits owner.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { FakeKms } from '../../test/support/aws/fakeKms.js';
import { litGateEnv } from '../../test/support/lambdaEvent.js';
import { capacityDelegation, fakeLitNetwork, type CapacityDelegation } from '../../test/support/lit/fakeLit.js';
import type { LitKeyGate } from '../../shared/adapters/lit/LitKeyGate.js';
import { getGate, useLitTestDoubles } from './gate.js';

const owner = Wallet.createRandom();
const gateWallet = Wallet.createRandom();
const lit = fakeLitNetwork(() => false, { sessionWallets: [owner.address] });
let kms: FakeKms;
let sdk: Awaited<ReturnType<typeof lit.sdkClient>>;
let delegation: CapacityDelegation;
let cid: string;

beforeAll(async () => {
  kms = await FakeKms.start({ trustedRoots: [] });
  sdk = await lit.sdkClient();
  await sdk.connect();
  cid = await lit.pin('// the release action stands in here: only the session is checked');
  delegation = await capacityDelegation(sdk, owner, [gateWallet.address]);
  Object.assign(
    process.env,
    litGateEnv(kms, 'datil', {
      PROVENA_LIT_ACTION_CID: cid,
      PROVENA_LIT_WALLET_KEY: gateWallet.privateKey,
      PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: JSON.stringify(delegation),
    }),
  );
  useLitTestDoubles({ clientFactory: async () => sdk, validate: async () => undefined });
}, 60_000);

afterAll(async () => {
  await sdk?.disconnect();
  await kms?.close();
});

describe('the Lit gate with delegated Capacity Credits, composed from the environment', () => {
  it("signs its session with the delegation beside the wallet's own auth sig, and Lit runs the action on it", async () => {
    const gate = (await getGate()).gate as LitKeyGate;

    const sigs = await gate.sessionSigs!.get(sdk);

    expect(gate.sessionSigs!.address).toBe(gateWallet.address);
    const signed = JSON.parse((Object.values(sigs)[0] as { signedMessage: string }).signedMessage) as { capabilities: { sig: string; address: string }[] };
    expect(signed.capabilities.map((c) => c.address)).toEqual([owner.address, gateWallet.address]);
    expect(signed.capabilities[0]!.sig).toBe(delegation.sig);
    const refusals = lit.sessionRefusals.length;
    await expect(sdk.executeJs({ ipfsId: cid, sessionSigs: sigs, jsParams: {} })).resolves.toBeDefined();
    expect(lit.sessionRefusals.length).toBe(refusals);
  }, 60_000);
});
