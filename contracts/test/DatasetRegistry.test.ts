import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Wallet, type JsonRpcSigner, type Signer } from 'ethers';
import { datasetRegistryDomain, signRegistration, signUpdate, type RegistrationInput, type UpdateMessage } from '../../shared/eip712.js';
import { OwnedSmartAccount__factory } from '../typechain/index.js';
import { expectRevert } from './helpers/errors.js';
import { deploySystem, mined, registerExplicit, ZERO_ROOT, type System } from './helpers/fixture.js';

let sys: System;
let snap: string;
let owner: JsonRpcSigner;
let other: JsonRpcSigner;
let a: string;
let b: string;

const reg = (split: Partial<RegistrationInput['split']> = {}, extra: Partial<RegistrationInput> = {}): RegistrationInput => ({
  manifestCid: 'bafy-manifest',
  pricePerSample: 1000n,
  split: { recipients: [a, b], bps: [7000, 3000], merkleRoot: ZERO_ROOT, totalUnits: 0n, ...split },
  ...extra,
});

beforeAll(async () => {
  sys = await deploySystem();
  [owner, other] = sys.people as [JsonRpcSigner, JsonRpcSigner];
  a = await sys.people[2]!.getAddress();
  b = await sys.people[3]!.getAddress();
  snap = await sys.chain.snapshot();
});
beforeEach(async () => {
  await sys.chain.revertTo(snap);
  snap = await sys.chain.snapshot();
});

describe('register', () => {
  test('an empty manifest reverts', async () => {
    await expectRevert(sys.registry.connect(owner).register(reg({}, { manifestCid: '' })), 'DatasetRegistry_EmptyManifest');
  });
  test('a zero price reverts', async () => {
    await expectRevert(sys.registry.connect(owner).register(reg({}, { pricePerSample: 0n })), 'DatasetRegistry_ZeroPrice');
  });
  // Issue 8, item 8: before, a price of 2^96 or more registered and sold, and then every openJob on the license
  // reverted (a job's slot stores uint96).
  test('a price above type(uint96).max reverts PriceTooLarge; the maximum itself registers', async () => {
    await expectRevert(sys.registry.connect(owner).register(reg({}, { pricePerSample: 2n ** 96n })), 'DatasetRegistry_PriceTooLarge', [2n ** 96n, 2n ** 96n - 1n]);
    expect(await sys.registry.datasetCount()).toBe(0n);
    await mined(sys.registry.connect(owner).register(reg({}, { pricePerSample: 2n ** 96n - 1n })));
    expect(await sys.registry.datasetCount()).toBe(1n);
  });
  test('mismatched or empty explicit splits revert', async () => {
    await expectRevert(sys.registry.connect(owner).register(reg({ bps: [10000] })), 'DatasetRegistry_InvalidSplit');
    await expectRevert(sys.registry.connect(owner).register(reg({ recipients: [], bps: [] })), 'DatasetRegistry_InvalidSplit');
    expect(await sys.registry.datasetCount()).toBe(0n);
  });
  test('more than 32 recipients revert', async () => {
    const many = Array.from({ length: 33 }, () => Wallet.createRandom().address);
    await expectRevert(
      sys.registry.connect(owner).register(reg({ recipients: many, bps: many.map(() => 1) })),
      'DatasetRegistry_TooManyRecipients',
      [33n, 32n],
    );
  });
  test('a repeated recipient reverts', async () => {
    await expectRevert(sys.registry.connect(owner).register(reg({ recipients: [a, a], bps: [5000, 5000] })), 'DatasetRegistry_DuplicateRecipient', [a]);
  });
  test('bps not summing to 10,000 revert', async () => {
    await expectRevert(sys.registry.connect(owner).register(reg({ bps: [7000, 2999] })), 'DatasetRegistry_BpsSumNot10000', [9999n]);
  });
  test('a valid explicit split stores version 1, listed, owner, 10,000 units and each recipient\'s bps', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a, b], bps: [7000, 3000] });
    const d = await sys.registry.getDataset(id);
    expect(id).toBe(1n);
    expect([d.owner, d.version, d.listed, d.pricePerSample, d.totalUnits, d.merkleRoot]).toEqual([
      await owner.getAddress(), 1n, true, 1000n, 10_000n, ZERO_ROOT,
    ]);
    expect(await sys.registry.explicitUnits(id, a)).toBe(7000n);
    expect(await sys.registry.explicitUnits(id, b)).toBe(3000n);
    expect(await sys.registry.recipientsOf(id)).toEqual([a, b]);
  });
  test('a valid registration emits DatasetRegistered', async () => {
    const rc = await mined(sys.registry.connect(owner).register(reg()));
    const log = sys.registry.interface.parseLog(rc.logs[0]!);
    expect(log?.name).toBe('DatasetRegistered');
    expect(log?.args.toArray()).toEqual([1n, await owner.getAddress(), 'bafy-manifest', 1000n, ZERO_ROOT, 10_000n]);
  });
  test('a Merkle split with zero units or explicit recipients reverts', async () => {
    const root = `0x${'11'.repeat(32)}`;
    await expectRevert(sys.registry.connect(owner).register(reg({ recipients: [], bps: [], merkleRoot: root, totalUnits: 0n })), 'DatasetRegistry_InvalidSplit');
    await expectRevert(sys.registry.connect(owner).register(reg({ merkleRoot: root, totalUnits: 5n })), 'DatasetRegistry_InvalidSplit');
  });
  test('a valid Merkle split stores root and total units', async () => {
    const root = `0x${'11'.repeat(32)}`;
    await mined(sys.registry.connect(owner).register(reg({ recipients: [], bps: [], merkleRoot: root, totalUnits: 12345n })));
    expect(await sys.registry.saleTerms(1n)).toEqual([true, 1000n, 12345n, root]);
  });
});

describe('registerWithSig', () => {
  const sign = async (signer: JsonRpcSigner | Wallet, ownerAddr: string, r: RegistrationInput, nonce: bigint, deadline: bigint) =>
    signRegistration(signer, datasetRegistryDomain(sys.chain.chainId, await sys.registry.getAddress()), { owner: ownerAddr, registration: r, nonce, deadline });

  test('an expired deadline reverts', async () => {
    const o = await owner.getAddress();
    const deadline = (await sys.chain.latestTimestamp()) - 1n;
    const sig = await sign(owner, o, reg(), 0n, deadline);
    await expectRevert(sys.registry.connect(other).registerWithSig(reg(), o, deadline, sig), 'DatasetRegistry_SignatureExpired', [deadline]);
  });
  test('a signature by someone else, for another nonce, or over other terms reverts', async () => {
    const o = await owner.getAddress();
    const deadline = (await sys.chain.latestTimestamp()) + 3600n;
    const byOther = await sign(other, o, reg(), 0n, deadline);
    await expectRevert(sys.registry.connect(other).registerWithSig(reg(), o, deadline, byOther), 'DatasetRegistry_InvalidSignature', [o]);
    const wrongNonce = await sign(owner, o, reg(), 1n, deadline);
    await expectRevert(sys.registry.connect(other).registerWithSig(reg(), o, deadline, wrongNonce), 'DatasetRegistry_InvalidSignature');
    const good = await sign(owner, o, reg(), 0n, deadline);
    await expectRevert(sys.registry.connect(other).registerWithSig(reg({}, { pricePerSample: 1n }), o, deadline, good), 'DatasetRegistry_InvalidSignature');
    expect(await sys.registry.datasetCount()).toBe(0n);
  });
  test('a relayer registers for the owner who signed, and the signature cannot be replayed', async () => {
    const o = await owner.getAddress();
    const deadline = (await sys.chain.latestTimestamp()) + 3600n;
    const sig = await sign(owner, o, reg(), 0n, deadline);
    await mined(sys.registry.connect(other).registerWithSig(reg(), o, deadline, sig));
    expect((await sys.registry.getDataset(1n)).owner).toBe(o);
    expect(await sys.registry.nonces(o)).toBe(1n);
    await expectRevert(sys.registry.connect(other).registerWithSig(reg(), o, deadline, sig), 'DatasetRegistry_InvalidSignature');
  });
  test('an ERC-1271 contract wallet owner is accepted through its owner\'s signature', async () => {
    const eoa = Wallet.createRandom();
    const account = await new OwnedSmartAccount__factory(sys.admin).deploy(eoa.address);
    await account.waitForDeployment();
    const accountAddr = await account.getAddress();
    const deadline = (await sys.chain.latestTimestamp()) + 3600n;
    const sig = await signRegistration(eoa, datasetRegistryDomain(sys.chain.chainId, await sys.registry.getAddress()), {
      owner: accountAddr, registration: reg(), nonce: 0n, deadline,
    });
    await mined(sys.registry.connect(other).registerWithSig(reg(), accountAddr, deadline, sig));
    expect((await sys.registry.getDataset(1n)).owner).toBe(accountAddr);
  });
});

describe('update', () => {
  test('a non-owner cannot update', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await expectRevert(sys.registry.connect(other).update(id, 5n, 'x'), 'DatasetRegistry_NotOwner', [id, await other.getAddress()]);
  });
  test('a delisted dataset cannot be updated', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await mined(sys.registry.connect(owner).delist(id));
    await expectRevert(sys.registry.connect(owner).update(id, 5n, 'x'), 'DatasetRegistry_AlreadyDelisted', [id]);
  });
  test('a zero price reverts', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await expectRevert(sys.registry.connect(owner).update(id, 0n, 'x'), 'DatasetRegistry_ZeroPrice');
  });
  test('a price above type(uint96).max reverts PriceTooLarge and leaves the dataset unchanged', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await expectRevert(sys.registry.connect(owner).update(id, 2n ** 127n, 'x'), 'DatasetRegistry_PriceTooLarge', [2n ** 127n, 2n ** 96n - 1n]);
    const d = await sys.registry.getDataset(id);
    expect([d.pricePerSample, d.version]).toEqual([1000n, 1n]);
  });
  test('an empty manifest reverts', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await expectRevert(sys.registry.connect(owner).update(id, 5n, ''), 'DatasetRegistry_EmptyManifest');
  });
  test('the owner\'s update bumps the version and stores price and manifest', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const rc = await mined(sys.registry.connect(owner).update(id, 2500n, 'bafy-v2'));
    const d = await sys.registry.getDataset(id);
    expect([d.version, d.pricePerSample, d.manifestCid]).toEqual([2n, 2500n, 'bafy-v2']);
    expect(sys.registry.interface.parseLog(rc.logs[0]!)?.args.toArray()).toEqual([id, 2n, 'bafy-v2', 2500n]);
  });
});

describe('updateWithSig', () => {
  const domain = async () => datasetRegistryDomain(sys.chain.chainId, await sys.registry.getAddress());
  const sign = async (signer: Signer, m: Partial<UpdateMessage> & { datasetId: bigint; deadline: bigint }) =>
    signUpdate(signer, await domain(), { pricePerSample: 2500n, manifestCid: 'bafy-v2', nonce: 0n, ...m });
  const relay = (m: { datasetId: bigint; deadline: bigint; pricePerSample?: bigint; manifestCid?: string }, sig: string) =>
    sys.registry.connect(other).updateWithSig(m.datasetId, m.pricePerSample ?? 2500n, m.manifestCid ?? 'bafy-v2', m.deadline, sig);
  const soon = async () => (await sys.chain.latestTimestamp()) + 3600n;

  test('an expired deadline reverts', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const deadline = (await sys.chain.latestTimestamp()) - 1n;
    const sig = await sign(owner, { datasetId: id, deadline });
    await expectRevert(relay({ datasetId: id, deadline }, sig), 'DatasetRegistry_SignatureExpired', [deadline]);
  });
  test('an unknown dataset reverts', async () => {
    const deadline = await soon();
    const sig = await sign(owner, { datasetId: 9n, deadline });
    await expectRevert(relay({ datasetId: 9n, deadline }, sig), 'DatasetRegistry_UnknownDataset', [9n]);
  });
  test('a signature by someone other than the owner, or over other terms, reverts', async () => {
    const o = await owner.getAddress();
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const deadline = await soon();
    const byOther = await sign(other, { datasetId: id, deadline });
    await expectRevert(relay({ datasetId: id, deadline }, byOther), 'DatasetRegistry_InvalidSignature', [o]);
    const good = await sign(owner, { datasetId: id, deadline });
    await expectRevert(relay({ datasetId: id, deadline, manifestCid: 'bafy-evil' }, good), 'DatasetRegistry_InvalidSignature', [o]);
    await expectRevert(relay({ datasetId: id, deadline, pricePerSample: 1n }, good), 'DatasetRegistry_InvalidSignature', [o]);
    const wrongNonce = await sign(owner, { datasetId: id, deadline, nonce: 1n });
    await expectRevert(relay({ datasetId: id, deadline }, wrongNonce), 'DatasetRegistry_InvalidSignature', [o]);
    expect((await sys.registry.getDataset(id)).version).toBe(1n);
    expect(await sys.registry.nonces(o)).toBe(0n);
  });
  test('a registration signature cannot be used as an update signature', async () => {
    const o = await owner.getAddress();
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const deadline = await soon();
    // Same owner, nonce, deadline, price and manifest: only the struct type differs.
    const regSig = await signRegistration(owner, await domain(), {
      owner: o, registration: reg({}, { manifestCid: 'bafy-v2', pricePerSample: 2500n }), nonce: 0n, deadline,
    });
    await expectRevert(relay({ datasetId: id, deadline }, regSig), 'DatasetRegistry_InvalidSignature', [o]);
    expect((await sys.registry.getDataset(id)).version).toBe(1n);
  });
  test('a delisted dataset cannot be updated, and the nonce is not consumed', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await mined(sys.registry.connect(owner).delist(id));
    const deadline = await soon();
    const sig = await sign(owner, { datasetId: id, deadline });
    await expectRevert(relay({ datasetId: id, deadline }, sig), 'DatasetRegistry_AlreadyDelisted', [id]);
    expect(await sys.registry.nonces(await owner.getAddress())).toBe(0n);
  });
  test('a signed zero price or empty manifest reverts as in update', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const deadline = await soon();
    const zero = await sign(owner, { datasetId: id, deadline, pricePerSample: 0n });
    await expectRevert(relay({ datasetId: id, deadline, pricePerSample: 0n }, zero), 'DatasetRegistry_ZeroPrice');
    const huge = await sign(owner, { datasetId: id, deadline, pricePerSample: 2n ** 96n });
    await expectRevert(relay({ datasetId: id, deadline, pricePerSample: 2n ** 96n }, huge), 'DatasetRegistry_PriceTooLarge');
    const empty = await sign(owner, { datasetId: id, deadline, manifestCid: '' });
    await expectRevert(relay({ datasetId: id, deadline, manifestCid: '' }, empty), 'DatasetRegistry_EmptyManifest');
  });
  test('a relayer updates for the EOA owner who signed, and the signature cannot be replayed', async () => {
    const o = await owner.getAddress();
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const deadline = await soon();
    const sig = await sign(owner, { datasetId: id, deadline });
    const rc = await mined(relay({ datasetId: id, deadline }, sig));
    const d = await sys.registry.getDataset(id);
    expect([d.owner, d.version, d.pricePerSample, d.manifestCid, d.listed]).toEqual([o, 2n, 2500n, 'bafy-v2', true]);
    const log = sys.registry.interface.parseLog(rc.logs[0]!);
    expect(log?.name).toBe('DatasetUpdated');
    expect(log?.args.toArray()).toEqual([id, 2n, 'bafy-v2', 2500n]);
    expect(await sys.registry.nonces(o)).toBe(1n);
    await expectRevert(relay({ datasetId: id, deadline }, sig), 'DatasetRegistry_InvalidSignature', [o]);
    expect((await sys.registry.getDataset(id)).version).toBe(2n);
  });
  test('registrations and updates share the owner\'s nonce', async () => {
    const o = await owner.getAddress();
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const deadline = await soon();
    const update0 = await sign(owner, { datasetId: id, deadline, nonce: 0n });
    const reg0 = await signRegistration(owner, await domain(), { owner: o, registration: reg(), nonce: 0n, deadline });
    await mined(sys.registry.connect(other).registerWithSig(reg(), o, deadline, reg0));
    await expectRevert(relay({ datasetId: id, deadline }, update0), 'DatasetRegistry_InvalidSignature', [o]);
    const update1 = await sign(owner, { datasetId: id, deadline, nonce: 1n });
    await mined(relay({ datasetId: id, deadline }, update1));
    expect(await sys.registry.nonces(o)).toBe(2n);
  });
  test('an ERC-1271 contract wallet owner is accepted through its owner\'s signature', async () => {
    const eoa = Wallet.createRandom();
    const account = await new OwnedSmartAccount__factory(sys.admin).deploy(eoa.address);
    await account.waitForDeployment();
    const accountAddr = await account.getAddress();
    const deadline = await soon();
    const regSig = await signRegistration(eoa, await domain(), { owner: accountAddr, registration: reg(), nonce: 0n, deadline });
    await mined(sys.registry.connect(other).registerWithSig(reg(), accountAddr, deadline, regSig));
    const id = await sys.registry.datasetCount();
    // The account's nonce is now 1 (the registration consumed 0).
    const sig = await sign(eoa, { datasetId: id, deadline, nonce: 1n });
    await mined(relay({ datasetId: id, deadline }, sig));
    const d = await sys.registry.getDataset(id);
    expect([d.owner, d.version, d.pricePerSample, d.manifestCid]).toEqual([accountAddr, 2n, 2500n, 'bafy-v2']);
    expect(await sys.registry.nonces(accountAddr)).toBe(2n);
    const byStranger = await sign(Wallet.createRandom(), { datasetId: id, deadline, nonce: 2n });
    await expectRevert(relay({ datasetId: id, deadline }, byStranger), 'DatasetRegistry_InvalidSignature', [accountAddr]);
  });
});

describe('delist', () => {
  test('an unknown dataset reverts', async () => {
    await expectRevert(sys.registry.connect(owner).delist(9n), 'DatasetRegistry_UnknownDataset', [9n]);
  });
  test('a non-owner cannot delist', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await expectRevert(sys.registry.connect(other).delist(id), 'DatasetRegistry_NotOwner');
    expect((await sys.registry.getDataset(id)).listed).toBe(true);
  });
  test('delisting twice reverts', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    await mined(sys.registry.connect(owner).delist(id));
    await expectRevert(sys.registry.connect(owner).delist(id), 'DatasetRegistry_AlreadyDelisted');
  });
  test('the owner delists and DatasetDelisted is emitted', async () => {
    const id = await registerExplicit(sys, owner, 1000n, { recipients: [a], bps: [10000] });
    const rc = await mined(sys.registry.connect(owner).delist(id));
    expect(sys.registry.interface.parseLog(rc.logs[0]!)?.name).toBe('DatasetDelisted');
    expect((await sys.registry.saleTerms(id))[0]).toBe(false);
  });
});
