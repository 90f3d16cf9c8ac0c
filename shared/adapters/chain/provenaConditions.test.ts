import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Interface, Wallet } from 'ethers';
import type { InterfaceAbi, JsonRpcSigner } from 'ethers';
import { buyLicense, DAY, deploySystem, EVIDENCE, GRACE, mined, openJob, registerExplicit, signedReport, USD } from '../../../contracts/test/helpers/fixture.js';
import type { System } from '../../../contracts/test/helpers/fixture.js';
import { AttestationRegistry__factory, LicenseManager__factory } from '../../../contracts/typechain/index.js';
import { AccessConditionList, usesRequestTimePlaceholders } from '../../schemas/accessConditions.js';
import type { EvmContractCondition } from '../../schemas/accessConditions.js';
import { EvmConditionEvaluator } from './EvmConditionEvaluator.js';
import { ATTESTATION_REGISTRY_VIEWS, attestedWorkerCondition, LICENSE_MANAGER_VIEWS, licenseHolderCondition } from './provenaConditions.js';

const SOME_ADDRESS = '0x00000000000000000000000000000000000000aa';

describe('condition builders', () => {
  test('licenseHolderCondition builds isLicenseActive, datasetsOf-contains and holdsValidLicense, joined by and', () => {
    const list = licenseHolderCondition({ licenseManager: SOME_ADDRESS, chain: 'hardhat', datasetId: 7n });

    expect(AccessConditionList.safeParse(list).success).toBe(true);
    expect(list).toEqual([
      expect.objectContaining({ functionName: 'isLicenseActive', functionParams: [':licenseId'], refusalCode: 'LICENSE_EXPIRED' }),
      { operator: 'and' },
      expect.objectContaining({ functionName: 'datasetsOf', functionParams: [':licenseId'], returnValueTest: { key: '', comparator: 'contains', value: '7' }, refusalCode: 'LICENSE_WRONG_DATASET' }),
      { operator: 'and' },
      expect.objectContaining({
        contractAddress: '0x00000000000000000000000000000000000000AA',
        functionName: 'holdsValidLicense',
        functionParams: [':userAddress', ':licenseId', '7'],
        returnValueTest: { key: '', comparator: '=', value: 'true' },
        refusalCode: 'KEY_ACCESS_DENIED',
      }),
    ]);
  });

  test('attestedWorkerCondition joins isApproved, isJobActive and datasetsOfJob-contains with and', () => {
    const list = attestedWorkerCondition({ attestationRegistry: SOME_ADDRESS, licenseManager: SOME_ADDRESS, chain: 'hardhat', datasetId: '42' });
    const [approved, op, active, op2, covers] = list as [EvmContractCondition, { operator: string }, EvmContractCondition, { operator: string }, EvmContractCondition];

    expect(AccessConditionList.safeParse(list).success).toBe(true);
    expect(list).toHaveLength(5);
    expect(approved).toMatchObject({ functionName: 'isApproved', functionParams: [':jobId', ':userAddress'], refusalCode: 'KEY_ACCESS_DENIED' });
    expect(op).toEqual({ operator: 'and' });
    expect(active).toMatchObject({
      functionName: 'isJobActive',
      functionParams: [':jobId'],
      returnValueTest: { key: '', comparator: '=', value: 'true' },
      refusalCode: 'JOB_NOT_ACTIVE',
    });
    expect(op2).toEqual({ operator: 'and' });
    expect(covers).toMatchObject({
      functionName: 'datasetsOfJob',
      functionParams: [':jobId'],
      returnValueTest: { key: '', comparator: 'contains', value: '42' },
      refusalCode: 'LICENSE_WRONG_DATASET',
    });
  });

  test('bigint and decimal-string dataset ids build the same conditions', () => {
    const fromBigint = licenseHolderCondition({ licenseManager: SOME_ADDRESS, chain: 'hardhat', datasetId: 2n ** 255n });
    const fromString = licenseHolderCondition({ licenseManager: SOME_ADDRESS, chain: 'hardhat', datasetId: (2n ** 255n).toString() });

    expect(fromBigint).toEqual(fromString);
  });

  test.each(['', '07', '-1', '0x07', 'abc', ' 7', (2n ** 256n).toString()])('rejects dataset id %p as VALIDATION_FAILED', (datasetId) => {
    expect(() => licenseHolderCondition({ licenseManager: SOME_ADDRESS, chain: 'hardhat', datasetId })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => attestedWorkerCondition({ attestationRegistry: SOME_ADDRESS, licenseManager: SOME_ADDRESS, chain: 'hardhat', datasetId })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  test('rejects a malformed contract address as VALIDATION_FAILED naming the field', () => {
    expect(() => attestedWorkerCondition({ attestationRegistry: '0x1234', licenseManager: SOME_ADDRESS, chain: 'hardhat', datasetId: 1n })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ path: ['attestationRegistry'] })] }),
    );
  });

  test('both lists need request-time placeholders, so only request-time gates (not Lit) can evaluate them', () => {
    expect(usesRequestTimePlaceholders(licenseHolderCondition({ licenseManager: SOME_ADDRESS, chain: 'c', datasetId: 1n }))).toBe(true);
    expect(
      usesRequestTimePlaceholders(attestedWorkerCondition({ attestationRegistry: SOME_ADDRESS, licenseManager: SOME_ADDRESS, chain: 'c', datasetId: 1n })),
    ).toBe(true);
  });

  test.each([
    ['LicenseManager', LicenseManager__factory.abi, LICENSE_MANAGER_VIEWS],
    ['AttestationRegistry', AttestationRegistry__factory.abi, ATTESTATION_REGISTRY_VIEWS],
  ] as const)("the hand-written ABI fragments match the compiled %s's functions", (_name, compiledAbi, views) => {
    const compiled = new Interface(compiledAbi as unknown as InterfaceAbi); // typechain's readonly tuple is a valid JSON ABI
    for (const abi of Object.values(views)) {
      const ours = new Interface([abi as unknown as InterfaceAbi[number]]).getFunction(abi.name)!;
      const theirs = compiled.getFunction(abi.name);

      expect(theirs?.format('full')).toBe(ours.format('full'));
      expect(theirs?.stateMutability).toBe('view');
    }
  });
});

describe('through EvmConditionEvaluator against the real contracts', () => {
  let sys: System;
  let snap: string;
  let evaluator: EvmConditionEvaluator;
  let lab: JsonRpcSigner;
  let labAddr: string;
  let otherAddr: string;
  let ds1: bigint;
  let ds2: bigint;
  let licenseId: bigint;
  let jobId: bigint;
  let manager: string;
  let attestations: string;

  const holderOf = (datasetId: bigint) => licenseHolderCondition({ licenseManager: manager, chain: 'hardhat', datasetId });
  const workerOf = (datasetId: bigint) => attestedWorkerCondition({ attestationRegistry: attestations, licenseManager: manager, chain: 'hardhat', datasetId });

  beforeAll(async () => {
    sys = await deploySystem();
    const [first, second] = sys.labs as [JsonRpcSigner, JsonRpcSigner];
    lab = first;
    [labAddr, otherAddr] = await Promise.all([first.getAddress(), second.getAddress()]);
    const split = { recipients: [await sys.people[1]!.getAddress()], bps: [10_000] };
    ds1 = await registerExplicit(sys, sys.people[0]!, 1000n, split);
    ds2 = await registerExplicit(sys, sys.people[0]!, 250n, split);
    licenseId = await buyLicense(sys, lab, [ds1], 100n * USD, (await sys.chain.latestTimestamp()) + BigInt(DAY));
    jobId = await openJob(sys, lab, licenseId, USD); // approves sys.worker for the job
    [manager, attestations] = await Promise.all([sys.manager.getAddress(), sys.attestations.getAddress()]);
    evaluator = new EvmConditionEvaluator({ hardhat: sys.chain.provider });
    snap = await sys.chain.snapshot();
  });
  beforeEach(async () => {
    await sys.chain.revertTo(snap);
    snap = await sys.chain.snapshot();
  });

  describe('licenseHolderCondition', () => {
    test('admits the holder of an active license for the dataset', async () => {
      const d = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr, licenseId: licenseId.toString() });

      expect(d).toEqual({ allowed: true });
    });

    test("refuses another address presenting the holder's license id", async () => {
      const ok = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr, licenseId: licenseId.toString() });
      const d = await evaluator.evaluate(holderOf(ds1), { userAddress: otherAddr, licenseId: licenseId.toString() });

      expect(ok).toEqual({ allowed: true });
      expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result' });
    });

    test('refuses a dataset the license does not cover', async () => {
      const ok = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr, licenseId: licenseId.toString() });
      const d = await evaluator.evaluate(holderOf(ds2), { userAddress: labAddr, licenseId: licenseId.toString() });

      expect(ok).toEqual({ allowed: true });
      expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_WRONG_DATASET', reason: 'false-result' });
    });

    test('admits before the expiry and refuses after it', async () => {
      const ctx = { userAddress: labAddr, licenseId: licenseId.toString() };
      const before = await evaluator.evaluate(holderOf(ds1), ctx);

      await sys.chain.increaseTime(DAY + 1);

      expect(before).toEqual({ allowed: true });
      expect(await evaluator.evaluate(holderOf(ds1), ctx)).toMatchObject({ allowed: false, refusalCode: 'LICENSE_EXPIRED', reason: 'false-result' });
    });

    test('refuses an unknown license id as a false result (not active), not a revert', async () => {
      const ok = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr, licenseId: licenseId.toString() });
      const d = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr, licenseId: (licenseId + 1000n).toString() });

      expect(ok).toEqual({ allowed: true });
      expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_EXPIRED', reason: 'false-result' });
    });

    test('refuses a request that names no license id, or a non-numeric one', async () => {
      const ok = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr, licenseId: licenseId.toString() });
      const missing = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr });
      const garbage = await evaluator.evaluate(holderOf(ds1), { userAddress: labAddr, licenseId: 'one' });

      expect(ok).toEqual({ allowed: true });
      expect(missing).toMatchObject({ allowed: false, reason: 'missing-context' });
      expect(garbage).toMatchObject({ allowed: false, reason: 'missing-context' });
    });
  });

  describe('attestedWorkerCondition', () => {
    test('admits the approved worker key for a job on a license of the dataset', async () => {
      const d = await evaluator.evaluate(workerOf(ds1), { userAddress: sys.worker.address, jobId: jobId.toString() });

      expect(d).toEqual({ allowed: true });
    });

    test('refuses a key the attestor never approved', async () => {
      const ok = await evaluator.evaluate(workerOf(ds1), { userAddress: sys.worker.address, jobId: jobId.toString() });
      const d = await evaluator.evaluate(workerOf(ds1), { userAddress: Wallet.createRandom().address, jobId: jobId.toString() });

      expect(ok).toEqual({ allowed: true });
      expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result' });
    });

    test('refuses the worker once the attestor revoked it', async () => {
      const ctx = { userAddress: sys.worker.address, jobId: jobId.toString() };
      const before = await evaluator.evaluate(workerOf(ds1), ctx);

      await mined(sys.attestations.revokeWorker(jobId, sys.worker.address));

      expect(before).toEqual({ allowed: true });
      expect(await evaluator.evaluate(workerOf(ds1), ctx)).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED' });
    });

    test("refuses a dataset outside the job's license: LICENSE_WRONG_DATASET", async () => {
      const ok = await evaluator.evaluate(workerOf(ds1), { userAddress: sys.worker.address, jobId: jobId.toString() });
      const d = await evaluator.evaluate(workerOf(ds2), { userAddress: sys.worker.address, jobId: jobId.toString() });

      expect(ok).toEqual({ allowed: true });
      expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_WRONG_DATASET', reason: 'false-result' });
    });

    test('refuses an unknown job, even for a key approved on it, without a revert', async () => {
      const unknown = (jobId + 1000n).toString();
      await mined(sys.attestations.approveWorker(BigInt(unknown), sys.worker.address, EVIDENCE));

      const ok = await evaluator.evaluate(workerOf(ds1), { userAddress: sys.worker.address, jobId: jobId.toString() });
      const d = await evaluator.evaluate(workerOf(ds1), { userAddress: sys.worker.address, jobId: unknown });

      expect(ok).toEqual({ allowed: true });
      expect(d).toMatchObject({ allowed: false, refusalCode: 'JOB_NOT_ACTIVE', reason: 'false-result' });
    });

    // Issue 8, item 9: before, a lab could end (or refund) a job seconds after opening it and its worker kept
    // receiving data keys with nothing payable. The approval still stands here (reports of past work may land
    // during the grace period), but the job is over, so the gate refuses.
    test('refuses the still-approved worker as soon as the lab ends the job', async () => {
      const ctx = { userAddress: sys.worker.address, jobId: jobId.toString() };
      const before = await evaluator.evaluate(workerOf(ds1), ctx);

      await mined(sys.manager.connect(lab).endJob(jobId));

      expect(before).toEqual({ allowed: true });
      expect(await sys.attestations.isApproved(jobId, sys.worker.address)).toBe(true);
      expect(await evaluator.evaluate(workerOf(ds1), ctx)).toMatchObject({ allowed: false, refusalCode: 'JOB_NOT_ACTIVE', reason: 'false-result' });
    });

    test('refuses the worker after endJob and refund, and after the worker finalized the job', async () => {
      const ctx = { userAddress: sys.worker.address, jobId: jobId.toString() };
      await mined(sys.manager.connect(lab).endJob(jobId));
      await sys.chain.increaseTime(GRACE + 1);
      await mined(sys.manager.connect(lab).refund(jobId, labAddr));

      expect(await evaluator.evaluate(workerOf(ds1), ctx)).toMatchObject({ allowed: false, refusalCode: 'JOB_NOT_ACTIVE' });
    });

    test('refuses the worker once the job budget is spent', async () => {
      const ctx = { userAddress: sys.worker.address, jobId: jobId.toString() };
      const before = await evaluator.evaluate(workerOf(ds1), ctx);
      // The job's budget is 1 USD = 1,000,000 units at price 1,000: 1,000 samples spend it all.
      const { report, signature } = await signedReport(sys, jobId, [{ datasetId: ds1, samples: 1000n, price: 1000n }]);
      await sys.chain.increaseTime(60);
      await mined(sys.manager.submitReport(report, signature));

      expect(before).toEqual({ allowed: true });
      expect(await evaluator.evaluate(workerOf(ds1), ctx)).toMatchObject({ allowed: false, refusalCode: 'JOB_NOT_ACTIVE' });
    });

    test("refuses the worker after the license's expiry, though the job was never ended", async () => {
      const ctx = { userAddress: sys.worker.address, jobId: jobId.toString() };
      const before = await evaluator.evaluate(workerOf(ds1), ctx);

      await sys.chain.increaseTime(DAY + 1);

      expect(before).toEqual({ allowed: true });
      expect(await evaluator.evaluate(workerOf(ds1), ctx)).toMatchObject({ allowed: false, refusalCode: 'JOB_NOT_ACTIVE' });
    });

    test('refuses a request that names no job id', async () => {
      const ok = await evaluator.evaluate(workerOf(ds1), { userAddress: sys.worker.address, jobId: jobId.toString() });
      const d = await evaluator.evaluate(workerOf(ds1), { userAddress: sys.worker.address });

      expect(ok).toEqual({ allowed: true });
      expect(d).toMatchObject({ allowed: false, reason: 'missing-context' });
    });
  });
});
