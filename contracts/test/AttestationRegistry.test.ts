import { beforeAll, describe, expect, test } from '@jest/globals';
import { Wallet, id } from 'ethers';
import { expectRevert } from './helpers/errors.js';
import { deploySystem, EVIDENCE, mined, type System } from './helpers/fixture.js';

let sys: System;
const worker = Wallet.createRandom().address;
const ZERO_HASH = `0x${'00'.repeat(32)}`;

beforeAll(async () => {
  sys = await deploySystem('mock', { labs: 1 });
});

describe('approveWorker', () => {
  test('needs ATTESTOR_ROLE', async () => {
    await expectRevert(sys.attestations.connect(sys.labs[0]!).approveWorker(1n, worker, EVIDENCE), 'AccessControlUnauthorizedAccount');
  });
  test('the admin does not hold ATTESTOR_ROLE, so it cannot approve its own key for a job', async () => {
    const adminAddr = await sys.admin.getAddress();
    expect(await sys.attestations.hasRole(await sys.attestations.ATTESTOR_ROLE(), adminAddr)).toBe(false);
    await expectRevert(sys.attestations.connect(sys.admin).approveWorker(1n, adminAddr, EVIDENCE), 'AccessControlUnauthorizedAccount');
    expect(await sys.attestations.isApproved(1n, adminAddr)).toBe(false);
  });
  test('rejects the zero address', async () => {
    await expectRevert(sys.attestations.approveWorker(1n, `0x${'00'.repeat(20)}`, EVIDENCE), 'AttestationRegistry_ZeroWorker');
  });
  test('rejects an approval without an evidence hash', async () => {
    await expectRevert(sys.attestations.approveWorker(1n, worker, ZERO_HASH), 'AttestationRegistry_ZeroEvidence');
    expect(await sys.attestations.isApproved(1n, worker)).toBe(false);
  });
  test('approves the worker for that job only, records the evidence hash and emits WorkerApproved with it', async () => {
    const rc = await mined(sys.attestations.approveWorker(7n, worker, EVIDENCE));
    expect(await sys.attestations.isApproved(7n, worker)).toBe(true);
    expect(await sys.attestations.isApproved(8n, worker)).toBe(false);
    expect(await sys.attestations.evidenceOf(7n, worker)).toBe(EVIDENCE);
    expect(await sys.attestations.evidenceOf(8n, worker)).toBe(ZERO_HASH);
    expect(sys.attestations.interface.parseLog(rc.logs[0]!)?.args.toArray()).toEqual([7n, worker, await sys.attestor.getAddress(), EVIDENCE]);
  });
  test('a second approval of the same key replaces the recorded evidence hash', async () => {
    const fresh = id('fresh evidence');
    await mined(sys.attestations.approveWorker(7n, worker, fresh));
    expect(await sys.attestations.evidenceOf(7n, worker)).toBe(fresh);
  });
});

describe('revokeWorker', () => {
  test('needs ATTESTOR_ROLE', async () => {
    await expectRevert(sys.attestations.connect(sys.labs[0]!).revokeWorker(7n, worker), 'AccessControlUnauthorizedAccount');
  });
  test('removes the approval and its evidence hash and emits WorkerRevoked', async () => {
    await mined(sys.attestations.approveWorker(9n, worker, EVIDENCE));
    const rc = await mined(sys.attestations.revokeWorker(9n, worker));
    expect(await sys.attestations.isApproved(9n, worker)).toBe(false);
    expect(await sys.attestations.evidenceOf(9n, worker)).toBe(ZERO_HASH);
    expect(sys.attestations.interface.parseLog(rc.logs[0]!)?.name).toBe('WorkerRevoked');
  });
});
