import { beforeAll, describe, expect, it } from '@jest/globals';
import { JsonRpcProvider } from 'ethers';
import { attestedWorkerConditions, licenseHolderConditions } from './genericConditions.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import { EvmConditionEvaluator } from './EvmConditionEvaluator.js';
import { deployConditionTarget } from '../../../test/support/conditionTarget.js';
import type { ConditionFixture } from '../../../test/support/conditionTarget.js';

let fx: ConditionFixture;
let evaluator: EvmConditionEvaluator;

beforeAll(async () => {
  fx = await deployConditionTarget();
  evaluator = new EvmConditionEvaluator({ hardhat: fx.provider });
});

const license = (datasetId: string, bind = true): AccessConditionList =>
  licenseHolderConditions({ registry: fx.address, chain: 'hardhat', datasetId, ...(bind ? { bindLicenseId: {} } : {}) });

describe('EvmConditionEvaluator (real eth_call against ConditionTarget)', () => {
  it('admits the holder of an active license for the dataset', async () => {
    const d = await evaluator.evaluate(license('7'), { userAddress: fx.holder.address, licenseId: '1' });

    expect(d).toEqual({ allowed: true });
  });

  it('refuses a caller without a license: KEY_ACCESS_DENIED', async () => {
    const d = await evaluator.evaluate(license('7', false), { userAddress: fx.other.address });

    expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result' });
  });

  it('refuses an expired license: LICENSE_EXPIRED', async () => {
    const d = await evaluator.evaluate(license('9'), { userAddress: fx.holder.address, licenseId: '2' });

    expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_EXPIRED' });
  });

  it('refuses a license for another dataset: LICENSE_WRONG_DATASET', async () => {
    const d = await evaluator.evaluate(license('10'), { userAddress: fx.holder.address, licenseId: '1' });

    expect(d).toMatchObject({ allowed: false, refusalCode: 'LICENSE_WRONG_DATASET' });
  });

  it("refuses someone else's license id: KEY_ACCESS_DENIED", async () => {
    const d = await evaluator.evaluate(license('10'), { userAddress: fx.holder.address, licenseId: '3' });

    expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'false-result' });
  });

  it('treats a reverting call (unknown license) as a failed condition', async () => {
    const d = await evaluator.evaluate(license('7'), { userAddress: fx.holder.address, licenseId: '999' });

    expect(d).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED', reason: 'reverted' });
  });

  it('refuses when the request lacks a placeholder value', async () => {
    const d = await evaluator.evaluate(license('7'), { userAddress: fx.holder.address });

    expect(d).toMatchObject({ allowed: false, reason: 'missing-context' });
  });

  it('admits an approved worker for a job on a license of the dataset, and refuses an unapproved one', async () => {
    const conds = attestedWorkerConditions({ attestationRegistry: fx.address, jobRegistry: fx.address, chain: 'hardhat', datasetId: '8' });

    const ok = await evaluator.evaluate(conds, { userAddress: fx.worker.address, jobId: '100' });
    const unapproved = await evaluator.evaluate(conds, { userAddress: fx.worker.address, jobId: '101' });
    const otherDataset = await evaluator.evaluate(
      attestedWorkerConditions({ attestationRegistry: fx.address, jobRegistry: fx.address, chain: 'hardhat', datasetId: '10' }),
      { userAddress: fx.worker.address, jobId: '100' },
    );

    expect(ok).toEqual({ allowed: true });
    expect(unapproved).toMatchObject({ allowed: false, refusalCode: 'KEY_ACCESS_DENIED' });
    expect(otherDataset).toMatchObject({ allowed: false, refusalCode: 'LICENSE_WRONG_DATASET' });
  });

  it("evaluates 'or' groups: license holder OR attested worker", async () => {
    const conds: AccessConditionList = [
      license('8', false),
      { operator: 'or' },
      attestedWorkerConditions({ attestationRegistry: fx.address, jobRegistry: fx.address, chain: 'hardhat', datasetId: '8' }),
    ];

    expect(await evaluator.evaluate(conds, { userAddress: fx.worker.address, jobId: '100' })).toEqual({ allowed: true });
    expect(await evaluator.evaluate(conds, { userAddress: fx.other.address, jobId: '100' })).toMatchObject({ allowed: false });
  });

  it('rejects mixed and/or without grouping as a misconfiguration', async () => {
    const [a] = license('7', false) as [AccessConditionList[number]];
    const conds: AccessConditionList = [a, { operator: 'and' }, a, { operator: 'or' }, a];

    await expect(evaluator.evaluate(conds, { userAddress: fx.holder.address })).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
  });

  it('reports CHAIN_UNAVAILABLE when the chain does not answer', async () => {
    const dead = new EvmConditionEvaluator({ hardhat: new JsonRpcProvider('http://127.0.0.1:9', 31337, { staticNetwork: true }) });

    await expect(dead.evaluate(license('7', false), { userAddress: fx.holder.address })).rejects.toMatchObject({ code: 'CHAIN_UNAVAILABLE' });
  });
});
