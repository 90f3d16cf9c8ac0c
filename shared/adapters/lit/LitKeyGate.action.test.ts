/**
 * The Lit gate with the release Lit Action (actions/provenaRelease.js): Provena's standard conditions (license
 * holder OR attested worker, with `:licenseId` / `:jobId` from the request) on the real contracts of the
 * in-process chain. The action's file runs, unchanged, in the fake Lit network's action runtime
 * (test/support/lit/fakeLit.ts: node:vm, ethers v5 as Lit provides it, WebCrypto; its calls reach the chain over
 * HTTP JSON-RPC). Lit's threshold encryption is imitated there (one AES key); the rest is real.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { Logger } from '@aws-lambda-powertools/logger';
import { hexlify, randomBytes, Wallet } from 'ethers';
import { generateDataKey } from '../../crypto/chunkedAead.js';
import { decryptReleasedKey } from '../../crypto/keyRelease.js';
import { signKeyRequest } from '../../crypto/keyRequest.js';
import { releaseContext } from '../../domain/keyReleasePolicy.js';
import { keyRequestDomain } from '../../eip712.js';
import { cidV0OfBytes } from '../../encoding/unixfs.js';
import { anyOf } from '../../schemas/accessConditions.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import type { KeyGrant, ReleaseDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';
import { MemoryNonceStore } from '../../../test/support/memoryNonceStore.js';
import { attestedWorkerCondition, licenseHolderCondition } from '../chain/provenaConditions.js';
import { EVIDENCE, signedReport } from '../../../contracts/test/helpers/fixture.js';
import { deployAccessWorld } from '../../../test/support/accessWorld.js';
import type { AccessWorld } from '../../../test/support/accessWorld.js';
import { fakeLitNetwork, startRpcBridge } from '../../../test/support/lit/fakeLit.js';
import type { FakeLitNetwork } from '../../../test/support/lit/fakeLit.js';
import { LitKeyGate } from './LitKeyGate.js';
import { actionAccessConditions, conditionsForAction } from './provenaReleaseAction.js';
import { litActionCid, readProvenaReleaseAction } from './provenaReleaseActionCid.js';

const DATASET = '7';
let w: AccessWorld;
let bridge: { url: string; close(): Promise<void> };
let lit: FakeLitNetwork;
let source: string;
let cid: string;
let nonces: MemoryNonceStore;
let gate: LitKeyGate;
let conditions: AccessConditionList;
let dataKey: Buffer;
let wrapped: Extract<WrappedKey, { backend: 'lit' }>;

beforeAll(async () => {
  w = await deployAccessWorld();
  bridge = await startRpcBridge({ request: ({ method, params }) => w.sys.chain.rpc(method, params) });
  lit = fakeLitNetwork(() => false, { rpcUrls: { hardhat: bridge.url } });
  source = await readProvenaReleaseAction();
  cid = await lit.pin(source);
  nonces = new MemoryNonceStore();
  gate = new LitKeyGate({
    network: 'datil-test',
    logger: new Logger({ logLevel: 'SILENT' }),
    clientFactory: async () => lit.client,
    action: { ipfsCid: cid },
    requestChecks: { nonceStore: nonces, domain: keyRequestDomain(w.sys.chain.chainId) },
  });
  // A raw-access listing's conditions (shared/use-cases/accessRules.ts): license holder OR attested worker.
  conditions = anyOf(
    licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a }),
    attestedWorkerCondition({ attestationRegistry: w.attestations, licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a }),
  );
  dataKey = generateDataKey();
  wrapped = (await gate.wrapDataKey({ datasetId: DATASET, version: 1, dataKey, conditions })) as typeof wrapped;
}, 120_000);

afterAll(async () => {
  await bridge?.close();
});

async function request(who: Wallet, grant: KeyGrant, opts: { signer?: Wallet; issuedAt?: number; key?: WrappedKey; conditions?: AccessConditionList } = {}): Promise<ReleaseDataKeyParams> {
  const proof = await signKeyRequest(opts.signer ?? who, keyRequestDomain(w.sys.chain.chainId), {
    datasetId: DATASET,
    version: 1,
    grant,
    requesterPublicKey: who.signingKey.publicKey,
    ...(opts.issuedAt === undefined ? {} : { issuedAt: opts.issuedAt }),
  });
  return {
    wrapped: opts.key ?? wrapped,
    datasetId: DATASET,
    version: 1,
    conditions: opts.conditions ?? conditions,
    grant,
    requester: { address: who.address, publicKey: who.signingKey.publicKey },
    proof: { ...proof, litSessionSigs: { 'https://node-1': { address: who.address } } },
  };
}

const lastRun = () => lit.actionRuns.at(-1)!;
const license = (id: bigint): KeyGrant => ({ type: 'license', licenseId: id.toString() });
const job = (id: bigint): KeyGrant => ({ type: 'job', jobId: id.toString() });

/** A refusal leaves nothing behind: Lit never decrypted, and no sealed key came out of the action. */
function expectNothingReleased(runsBefore: number, ran = true): void {
  expect(lit.actionRuns.length).toBe(runsBefore + (ran ? 1 : 0));
  if (ran) {
    expect(lastRun().decrypted).toBe(false);
    expect(lastRun().response).not.toContain('sealed');
  }
}

describe('the release Lit Action', () => {
  it("has the CID Lit computes for its code (Lit's own ipfs-only-hash)", async () => {
    const req = createRequire(import.meta.url);
    const hash = req(req.resolve('typestub-ipfs-only-hash', { paths: [req.resolve('@lit-protocol/lit-node-client')] })) as { of(b: Buffer): Promise<string> };

    expect(cid).toMatch(/^Qm/);
    expect(await litActionCid(source)).toBe(await hash.of(Buffer.from(source)));
    const large = Buffer.alloc(600_000, 7); // three 256 KiB chunks: a dag-pb root over leaves
    expect(await cidV0OfBytes(large)).toBe(await hash.of(large));
  });

  it('refuses to wrap conditions on two chains (the action reads one), before Lit is asked', async () => {
    const encrypts = lit.encrypts;
    const twoChains = anyOf(licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a }), licenseHolderCondition({ licenseManager: w.manager, chain: 'base', datasetId: w.ds.a }));

    await expect(gate.wrapDataKey({ datasetId: DATASET, version: 1, dataKey: generateDataKey(), conditions: twoChains })).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
    expect(lit.encrypts).toBe(encrypts);
  });

  it("wraps under Provena's standard conditions, bound to the action: Lit's condition is the action's CID", () => {
    expect(wrapped.actionIpfsCid).toBe(cid);
    expect(lit.encrypts).toBe(1);
  });
});

describe('releases through the action', () => {
  it('to the license holder, sealed to the holder and bound to this release', async () => {
    const p = await request(w.holder, license(w.license));

    const released = await gate.releaseDataKey(p);

    expect(decryptReleasedKey(w.holder.privateKey, released, { datasetId: DATASET, version: 1 }).equals(dataKey)).toBe(true);
    expect(released.kind === 'sealed' && released.sealed.context).toBe(releaseContext({ datasetId: DATASET, version: 1, grant: p.grant, requester: w.holder.address, nonce: p.proof.nonce }));
    expect(lastRun()).toMatchObject({ cid, decrypted: true });
    expect(lastRun().response).not.toContain(dataKey.toString('hex'));
  });

  it("to the job's approved worker key", async () => {
    const released = await gate.releaseDataKey(await request(w.worker, job(w.job)));

    expect(decryptReleasedKey(w.worker.privateKey, released).equals(dataKey)).toBe(true);
  });
});

/** A job on `w.license` whose whole budget (10 samples of A at 1000) is spent: approved, but no longer funded. */
async function unfundedJob(): Promise<bigint> {
  const rc = await (await w.sys.manager.connect(w.holder).openJob(w.license, 10_000n, 10n ** 30n)).wait();
  const opened = rc!.logs.map((l) => w.sys.manager.interface.parseLog(l)).find((e) => e?.name === 'JobOpened');
  const jobId = opened!.args[0] as bigint;
  await (await w.sys.attestations.approveWorker(jobId, w.worker.address, EVIDENCE)).wait();
  const { report, signature } = await signedReport(w.sys, jobId, [{ datasetId: w.ds.a, samples: 10n, price: 1000n }]);
  await (await w.sys.manager.submitReport(report, signature)).wait();
  return jobId;
}

describe('refusals (each with its code, nothing decrypted, nothing sealed)', () => {
  const cases: [string, () => Promise<ReleaseDataKeyParams>, string][] = [
    ['a closed job (ended by its lab)', () => request(w.worker, job(w.endedJob)), 'JOB_NOT_ACTIVE'],
    ['a job whose budget is spent (unfunded)', async () => request(w.worker, job(await unfundedJob())), 'JOB_NOT_ACTIVE'],
    ['a worker key not approved for the job', async () => request(new Wallet(hexlify(randomBytes(32))), job(w.job)), 'KEY_ACCESS_DENIED'],
    ['the approved worker on a job it is not approved for', () => request(w.worker, job(w.unapprovedJob)), 'KEY_ACCESS_DENIED'],
    ["someone else's license", () => request(w.holder, license(w.otherLicense)), 'LICENSE_WRONG_DATASET'],
    ['a license the requester does not hold', () => request(w.stranger, license(w.license)), 'KEY_ACCESS_DENIED'],
    ['an expired license', () => request(w.holder, license(w.expiredLicense)), 'LICENSE_EXPIRED'],
  ];
  it.each(cases)('refuses %s on chain, in the action', async (_name, make, code) => {
    const before = lit.actionRuns.length;

    await expect(gate.releaseDataKey(await make())).rejects.toMatchObject({ code });

    expectNothingReleased(before);
    expect(JSON.parse(lastRun().response!)).toMatchObject({ ok: false, code });
  });

  it('refuses a request signed by another key before Lit is asked (KEY_REQUEST_SIGNATURE_INVALID)', async () => {
    const before = lit.actionRuns.length;
    await expect(gate.releaseDataKey(await request(w.holder, license(w.license), { signer: w.stranger }))).rejects.toMatchObject({ code: 'KEY_REQUEST_SIGNATURE_INVALID' });
    expectNothingReleased(before, false);
  });

  it('refuses a replayed request (KEY_REQUEST_REPLAYED), the gate keeping the nonce', async () => {
    const p = await request(w.holder, license(w.license));
    await gate.releaseDataKey(p);
    const before = lit.actionRuns.length;

    await expect(gate.releaseDataKey(p)).rejects.toMatchObject({ code: 'KEY_REQUEST_REPLAYED' });
    expectNothingReleased(before, false);
  });

  it('refuses a key whose manifest names another action (LIT_ACTION_MISMATCH) without running it', async () => {
    const tamperedCid = await lit.pin(source.replace('if (!decision.allowed) refuse(', 'if (false) refuse('));
    const before = lit.actionRuns.length;

    await expect(gate.releaseDataKey(await request(w.stranger, license(w.license), { key: { ...wrapped, actionIpfsCid: tamperedCid } }))).rejects.toMatchObject({ code: 'LIT_ACTION_MISMATCH' });
    expectNothingReleased(before, false);
  });
});

describe('attacks on the action itself (calling Lit directly, not through the gate)', () => {
  const direct = async (code: string | undefined, p: ReleaseDataKeyParams, conds: AccessConditionList = conditions) => {
    const { response } = await lit.client.executeJs({
      ...(code === undefined ? { ipfsId: cid } : { code }),
      sessionSigs: { 'https://node-1': { address: p.requester.address } },
      jsParams: {
        release: {
          request: { datasetId: p.datasetId, version: p.version, grant: p.grant, requester: p.requester, proof: { nonce: p.proof.nonce, issuedAt: p.proof.issuedAt, signature: p.proof.signature } },
          conditions: conditionsForAction(conds),
          accessControlConditions: actionAccessConditions(cid),
          ciphertext: wrapped.ciphertext,
          dataToEncryptHash: wrapped.dataToEncryptHash,
        },
      },
    });
    return JSON.parse(response as string) as { ok: boolean; code?: string };
  };

  it('a tampered action (the on-chain check removed) cannot decrypt: its CID is not the one the key is bound to', async () => {
    const tampered = source.replace('if (!decision.allowed) refuse(', 'if (false) refuse(');
    expect(tampered).not.toBe(source);

    const answer = await direct(tampered, await request(w.stranger, license(w.license)));

    expect(answer).toMatchObject({ ok: false, code: 'KEY_UNWRAP_FAILED' });
    expect(lastRun()).toMatchObject({ decryptAsked: true, decrypted: false });
    expect(lastRun().cid).not.toBe(cid);
  });

  it('the genuine action refuses a stranger who calls it directly (KEY_ACCESS_DENIED), before decrypting', async () => {
    const answer = await direct(undefined, await request(w.stranger, license(w.license)));

    expect(answer).toMatchObject({ ok: false, code: 'KEY_ACCESS_DENIED' });
    expect(lastRun()).toMatchObject({ cid, decryptAsked: false });
  });

  it('weaker conditions passed in (isLicenseActive only) are caught after decryption: MANIFEST_MISMATCH, nothing sealed', async () => {
    const weaker = [licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId: w.ds.a })[0]!] as AccessConditionList;

    const answer = await direct(undefined, await request(w.stranger, license(w.license)), weaker);

    expect(answer).toMatchObject({ ok: false, code: 'MANIFEST_MISMATCH' });
    expect(lastRun().response).not.toContain('sealed');
  });

  it('an expired request is refused by the action too (KEY_REQUEST_EXPIRED)', async () => {
    const answer = await direct(undefined, await request(w.holder, license(w.license), { issuedAt: Math.floor(Date.now() / 1000) - 3600 }));

    expect(answer).toMatchObject({ ok: false, code: 'KEY_REQUEST_EXPIRED' });
    expect(lastRun().decryptAsked).toBe(false);
  });
});
