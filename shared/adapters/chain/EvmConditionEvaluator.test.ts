import { beforeAll, describe, expect, it } from '@jest/globals';
import { getAddress, JsonRpcProvider, Wallet } from 'ethers';
import { EVIDENCE } from '../../../contracts/test/helpers/fixture.js';
import { AttestationRegistry__factory, LicenseManager__factory, TrainingLicense__factory } from '../../../contracts/typechain/index.js';
import { deployAccessWorld } from '../../../test/support/accessWorld.js';
import type { AccessWorld } from '../../../test/support/accessWorld.js';
import { USER_ADDRESS } from '../../schemas/accessConditions.js';
import type { AccessConditionList, EvmContractCondition, FunctionAbi, RefusalCode, ReturnValueTest } from '../../schemas/accessConditions.js';
import { EvmConditionEvaluator } from './EvmConditionEvaluator.js';
import { attestedWorkerCondition, licenseHolderCondition } from './provenaConditions.js';

let w: AccessWorld;
let evaluator: EvmConditionEvaluator;

beforeAll(async () => {
  w = await deployAccessWorld();
  evaluator = new EvmConditionEvaluator({ hardhat: w.sys.chain.provider });
});

const holderOf = (datasetId: bigint): AccessConditionList => licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId });
const workerOf = (datasetId: bigint): AccessConditionList =>
  attestedWorkerCondition({ attestationRegistry: w.attestations, licenseManager: w.manager, chain: 'hardhat', datasetId });

/** A view's ABI fragment as compiled (typechain's readonly ABI is a valid JSON ABI). */
function compiledView(abi: readonly unknown[], name: string): FunctionAbi {
  const fragment = (abi as FunctionAbi[]).find((f) => f.type === 'function' && f.name === name);
  if (fragment === undefined) throw new Error(`no view ${name}`);
  return fragment;
}
const manager = (name: string) => compiledView(LicenseManager__factory.abi, name);

/** One condition on a real view (not through the production builders), to reach every comparator. */
function on(contractAddress: string, abi: FunctionAbi, functionParams: string[], returnValueTest: ReturnValueTest, refusalCode?: RefusalCode): EvmContractCondition {
  return { contractAddress, chain: 'hardhat', functionName: abi.name, functionParams, functionAbi: abi, returnValueTest, ...(refusalCode === undefined ? {} : { refusalCode }) };
}
const test$ = (comparator: ReturnValueTest['comparator'], value: string, key = ''): ReturnValueTest => ({ key, comparator, value });

describe('EvmConditionEvaluator (real eth_call against the deployed Provena contracts)', () => {
  describe('through licenseHolderCondition', () => {
    it('admits the holder of an active license for the dataset', async () => {
      const d = await evaluator.evaluate(holderOf(w.ds.a), { userAddress: w.holder.address, licenseId: w.license.toString() });

      expect(d).toEqual({ allowed: true });
    });

    it("refuses a caller without a license who cites the holder's license id: KEY_ACCESS_DENIED", async () => {
      const d = await evaluator.evaluate(holderOf(w.ds.a), { userAddress: w.stranger.address, licenseId: w.license.toString() });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result', condition: { functionName: 'holdsValidLicense' } });
    });

    it('refuses an expired license: LICENSE_EXPIRED', async () => {
      const d = await evaluator.evaluate(holderOf(w.ds.c), { userAddress: w.holder.address, licenseId: w.expiredLicense.toString() });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_EXPIRED', reason: 'false-result', condition: { functionName: 'isLicenseActive' } });
    });

    it('refuses a license for another dataset: LICENSE_WRONG_DATASET', async () => {
      const d = await evaluator.evaluate(holderOf(w.ds.c), { userAddress: w.holder.address, licenseId: w.license.toString() });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_WRONG_DATASET', reason: 'false-result' });
    });

    it("refuses someone else's license id: KEY_ACCESS_DENIED", async () => {
      const d = await evaluator.evaluate(holderOf(w.ds.c), { userAddress: w.holder.address, licenseId: w.otherLicense.toString() });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result' });
    });

    it('refuses when the request lacks the license id, or gives one that does not fit uint256', async () => {
      const missing = await evaluator.evaluate(holderOf(w.ds.a), { userAddress: w.holder.address });
      const garbage = await evaluator.evaluate(holderOf(w.ds.a), { userAddress: w.holder.address, licenseId: 'one' });

      expect(missing).toMatchObject({ allowed: false, reason: 'missing-context', refusalCode: 'LICENSE_EXPIRED' });
      expect(garbage).toMatchObject({ allowed: false, reason: 'missing-context' });
    });
  });

  describe('through attestedWorkerCondition', () => {
    it('admits the approved worker of an open job on a license of the dataset', async () => {
      const d = await evaluator.evaluate(workerOf(w.ds.b), { userAddress: w.worker.address, jobId: w.job.toString() });

      expect(d).toEqual({ allowed: true });
    });

    it('refuses the worker on a job it was not approved for: KEY_ACCESS_DENIED', async () => {
      const d = await evaluator.evaluate(workerOf(w.ds.a), { userAddress: w.worker.address, jobId: w.unapprovedJob.toString() });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result' });
    });

    it("refuses a dataset outside the job's license: LICENSE_WRONG_DATASET", async () => {
      const d = await evaluator.evaluate(workerOf(w.ds.c), { userAddress: w.worker.address, jobId: w.job.toString() });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_WRONG_DATASET', reason: 'false-result' });
    });

    it('refuses the still-approved worker of an ended job: JOB_NOT_ACTIVE', async () => {
      const d = await evaluator.evaluate(workerOf(w.ds.a), { userAddress: w.worker.address, jobId: w.endedJob.toString() });

      expect(await w.sys.attestations.isApproved(w.endedJob, w.worker.address)).toBe(true);
      expect(d).toMatchObject({ allowed: false, refusalCode: 'JOB_NOT_ACTIVE', reason: 'false-result', condition: { functionName: 'isJobActive' } });
    });

    it('refuses a request that names no job id', async () => {
      const d = await evaluator.evaluate(workerOf(w.ds.a), { userAddress: w.worker.address, licenseId: w.license.toString() });

      expect(d).toMatchObject({ allowed: false, reason: 'missing-context' });
    });
  });

  describe("'or' groups: license holder OR attested worker", () => {
    const either = () => [holderOf(w.ds.a), { operator: 'or' as const }, workerOf(w.ds.a)];

    it('admits the worker through the worker branch and the holder through the license branch', async () => {
      expect(await evaluator.evaluate(either(), { userAddress: w.worker.address, jobId: w.job.toString() })).toEqual({ allowed: true });
      expect(await evaluator.evaluate(either(), { userAddress: w.holder.address, licenseId: w.license.toString() })).toEqual({ allowed: true });
    });

    it('reports the refusal of the branch that applied, not the one that lacked its request-time value', async () => {
      const d = await evaluator.evaluate(either(), { userAddress: w.stranger.address, jobId: w.job.toString() });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result', condition: { functionName: 'isApproved' } });
    });
  });

  describe('each comparator, on real views', () => {
    // settledSamples(job, A) is the fixture's reported 10 samples: a real uint256 view for the ordering comparators.
    const samples = (comparator: ReturnValueTest['comparator'], value: string) =>
      [on(w.manager, manager('settledSamples'), [':jobId', w.ds.a.toString()], test$(comparator, value))] as AccessConditionList;

    it.each([
      ['=', '10', true],
      ['=', '9', false],
      ['!=', '9', true],
      ['!=', '10', false],
      ['>', '9', true],
      ['>', '10', false],
      ['>=', '10', true],
      ['>=', '11', false],
      ['<', '11', true],
      ['<', '10', false],
      ['<=', '10', true],
      ['<=', '9', false],
    ] as const)('uint256 %s %s on settledSamples (10) is %p', async (comparator, value, allowed) => {
      const d = await evaluator.evaluate(samples(comparator, value), { userAddress: w.worker.address, jobId: w.job.toString() });

      expect(await w.sys.manager.settledSamples(w.job, w.ds.a)).toBe(w.reportedSamples);
      expect(d.allowed).toBe(allowed);
      if (!d.allowed) expect(d).toMatchObject({ reason: 'false-result', refusalCode: 'KEY_ACCESS_DENIED' });
    });

    it("bool '=' and '!=' on isLicenseActive: true for an active license, false for an expired one", async () => {
      const active = (licenseId: bigint, comparator: '=' | '!=', value: string) =>
        evaluator.evaluate([on(w.manager, manager('isLicenseActive'), [licenseId.toString()], test$(comparator, value))], { userAddress: w.holder.address });

      expect(await active(w.license, '=', 'true')).toEqual({ allowed: true });
      expect(await active(w.license, '=', 'false')).toMatchObject({ allowed: false, reason: 'false-result' });
      expect(await active(w.license, '!=', 'false')).toEqual({ allowed: true });
      expect(await active(w.expiredLicense, '=', 'false')).toEqual({ allowed: true });
      expect(await active(w.expiredLicense, '!=', 'false')).toMatchObject({ allowed: false, reason: 'false-result' });
    });

    it("refuses ordering comparators on a non-integer output (bool '>' is never true)", async () => {
      const d = await evaluator.evaluate([on(w.manager, manager('isLicenseActive'), [':licenseId'], test$('>', 'false'))], {
        userAddress: w.holder.address,
        licenseId: w.license.toString(),
      });

      expect(d).toMatchObject({ allowed: false, reason: 'false-result' });
    });

    it("'contains' on datasetsOf (uint256[]): true for a covered dataset, false otherwise and on a non-array output", async () => {
      const covers = (datasetId: bigint) =>
        evaluator.evaluate([on(w.manager, manager('datasetsOf'), [':licenseId'], test$('contains', datasetId.toString()), 'LICENSE_WRONG_DATASET')], {
          userAddress: w.holder.address,
          licenseId: w.license.toString(),
        });
      const onBool = await evaluator.evaluate([on(w.manager, manager('isLicenseActive'), [':licenseId'], test$('contains', 'true'))], {
        userAddress: w.holder.address,
        licenseId: w.license.toString(),
      });

      expect(await covers(w.ds.b)).toEqual({ allowed: true });
      expect(await covers(w.ds.c)).toMatchObject({ allowed: false, refusalCode: 'LICENSE_WRONG_DATASET', reason: 'false-result' });
      expect(onBool).toMatchObject({ allowed: false, reason: 'false-result' });
    });

    it("address '=' :userAddress on the license NFT's ownerOf, whatever the case of a literal address", async () => {
      const owner = (userAddress: string, value = USER_ADDRESS) =>
        evaluator.evaluate([on(w.licenseToken, compiledView(TrainingLicense__factory.abi, 'ownerOf'), [':licenseId'], test$('=', value))], {
          userAddress,
          licenseId: w.license.toString(),
        });

      expect(await owner(w.holder.address)).toEqual({ allowed: true });
      expect(await owner(w.other.address)).toMatchObject({ allowed: false, reason: 'false-result' });
      expect(await owner(w.other.address, w.holder.address.toLowerCase())).toEqual({ allowed: true });
      expect(await owner(w.other.address, getAddress(w.other.address))).toMatchObject({ allowed: false });
    });

    it("bytes32 '=' on the approval's evidence hash, case-insensitively", async () => {
      const evidence = (value: string) =>
        evaluator.evaluate([on(w.attestations, compiledView(AttestationRegistry__factory.abi, 'evidenceOf'), [':jobId', USER_ADDRESS], test$('=', value))], {
          userAddress: w.worker.address,
          jobId: w.job.toString(),
        });

      expect(await evidence(EVIDENCE)).toEqual({ allowed: true });
      expect(await evidence(`0x${EVIDENCE.slice(2).toUpperCase()}`)).toEqual({ allowed: true });
      expect(await evidence(`0x${'00'.repeat(32)}`)).toMatchObject({ allowed: false, reason: 'false-result' });
    });

    it('tests the output named by returnValueTest.key (contractsInUse has five named outputs)', async () => {
      const inUse = (rvt: ReturnValueTest) => evaluator.evaluate([on(w.manager, manager('contractsInUse'), [], rvt)], { userAddress: w.holder.address });

      expect(await inUse(test$('=', w.licenseToken, 'licenseToken'))).toEqual({ allowed: true });
      expect(await inUse(test$('=', w.registry, 'licenseToken'))).toMatchObject({ allowed: false, reason: 'false-result' });
      expect(await inUse(test$('>=', '3600', 'gracePeriod'))).toEqual({ allowed: true });
      expect(await inUse(test$('>', '3600', 'gracePeriod'))).toMatchObject({ allowed: false });
      await expect(inUse(test$('=', '1', 'noSuchOutput'))).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
    });
  });

  describe('reverts are refusals', () => {
    it("treats a reverting call (ownerOf an unknown license) as a failed condition with the condition's refusal code", async () => {
      const ownerOf = compiledView(TrainingLicense__factory.abi, 'ownerOf');
      const unknown = (w.license + 1000n).toString();

      const d = await evaluator.evaluate([on(w.licenseToken, ownerOf, [':licenseId'], test$('=', USER_ADDRESS))], { userAddress: w.holder.address, licenseId: unknown });
      const coded = await evaluator.evaluate([on(w.licenseToken, ownerOf, [':licenseId'], test$('=', USER_ADDRESS), 'LICENSE_EXPIRED')], {
        userAddress: w.holder.address,
        licenseId: unknown,
      });

      expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'reverted' });
      expect(coded).toMatchObject({ allowed: false, refusalCode: 'LICENSE_EXPIRED', reason: 'reverted' });
    });

    it('treats a custom-error revert (refundableAt of an unknown job) as a failed condition', async () => {
      const d = await evaluator.evaluate([on(w.manager, manager('refundableAt'), [':jobId'], test$('>', '0'))], {
        userAddress: w.holder.address,
        jobId: (w.job + 1000n).toString(),
      });

      expect(d).toMatchObject({ allowed: false, reason: 'reverted' });
    });

    it('treats a call to an address without code (undecodable empty answer) as a failed condition', async () => {
      const d = await evaluator.evaluate([on(Wallet.createRandom().address, manager('isLicenseActive'), [':licenseId'], test$('=', 'true'))], {
        userAddress: w.holder.address,
        licenseId: w.license.toString(),
      });

      expect(d).toMatchObject({ allowed: false, reason: 'reverted' });
    });
  });

  describe('misconfiguration and an absent chain', () => {
    it('rejects mixed and/or without grouping as a misconfiguration', async () => {
      const [a] = holderOf(w.ds.a) as [AccessConditionList[number]];
      const conds: AccessConditionList = [a, { operator: 'and' }, a, { operator: 'or' }, a];

      await expect(evaluator.evaluate(conds, { userAddress: w.holder.address })).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
    });

    it('rejects a condition on a chain it has no provider for as a misconfiguration', async () => {
      const conds = licenseHolderCondition({ licenseManager: w.manager, chain: 'base', datasetId: w.ds.a });

      await expect(evaluator.evaluate(conds, { userAddress: w.holder.address, licenseId: w.license.toString() })).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
    });

    it('reports CHAIN_UNAVAILABLE when the chain does not answer', async () => {
      const dead = new EvmConditionEvaluator({ hardhat: new JsonRpcProvider('http://127.0.0.1:9', 31337, { staticNetwork: true }) });

      await expect(dead.evaluate(holderOf(w.ds.a), { userAddress: w.holder.address, licenseId: w.license.toString() })).rejects.toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
    });
  });
});
