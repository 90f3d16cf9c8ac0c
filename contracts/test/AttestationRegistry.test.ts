import { beforeAll, describe, expect, test } from '@jest/globals';
import { Wallet } from 'ethers';
import { expectRevert } from './helpers/errors.js';
import { deploySystem, mined, type System } from './helpers/fixture.js';

let sys: System;
const worker = Wallet.createRandom().address;

beforeAll(async () => {
  sys = await deploySystem('mock', { labs: 1 });
});

describe('approveWorker', () => {
  test('needs ATTESTOR_ROLE', async () => {
    await expectRevert(sys.attestations.connect(sys.labs[0]!).approveWorker(1n, worker), 'AccessControlUnauthorizedAccount');
  });
  test('rejects the zero address', async () => {
    await expectRevert(sys.attestations.approveWorker(1n, `0x${'00'.repeat(20)}`), 'AttestationRegistry_ZeroWorker');
  });
  test('approves the worker for that job only and emits WorkerApproved', async () => {
    const rc = await mined(sys.attestations.approveWorker(7n, worker));
    expect(await sys.attestations.isApproved(7n, worker)).toBe(true);
    expect(await sys.attestations.isApproved(8n, worker)).toBe(false);
    expect(sys.attestations.interface.parseLog(rc.logs[0]!)?.args.toArray()).toEqual([7n, worker, await sys.admin.getAddress()]);
  });
});

describe('revokeWorker', () => {
  test('needs ATTESTOR_ROLE', async () => {
    await expectRevert(sys.attestations.connect(sys.labs[0]!).revokeWorker(7n, worker), 'AccessControlUnauthorizedAccount');
  });
  test('removes the approval and emits WorkerRevoked', async () => {
    await mined(sys.attestations.approveWorker(9n, worker));
    const rc = await mined(sys.attestations.revokeWorker(9n, worker));
    expect(await sys.attestations.isApproved(9n, worker)).toBe(false);
    expect(sys.attestations.interface.parseLog(rc.logs[0]!)?.name).toBe('WorkerRevoked');
  });
});
