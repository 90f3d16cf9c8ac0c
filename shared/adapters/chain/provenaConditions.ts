/**
 * Access conditions (the format of shared/ports/AccessConditions.ts) over Provena's own contracts, calling the
 * views `LicenseManager` and `AttestationRegistry` expose for the key gate (contracts/src/interfaces).
 *
 * Both lists use the request-time placeholders `:licenseId` / `:jobId`, which the `EvmConditionEvaluator`
 * fills from the key request; on Lit, the release Lit Action evaluates them (shared/adapters/lit/actions/).
 *
 * The ABI fragments are written out here rather than imported from contracts/typechain (generated, not part of a
 * Lambda bundle); provenaConditions.test.ts checks them against the compiled contracts.
 */
import { getAddress } from 'ethers';
import { ValidationError } from '../../errors.js';
import { USER_ADDRESS } from '../../schemas/accessConditions.js';
import type { AccessConditionList, EvmContractCondition, FunctionAbi, RefusalCode, ReturnValueTest } from '../../schemas/accessConditions.js';

function viewFn(name: string, inputs: readonly [string, string][], output: string): FunctionAbi {
  return {
    name,
    type: 'function',
    stateMutability: 'view',
    inputs: inputs.map(([n, t]) => ({ name: n, type: t, internalType: t })),
    outputs: [{ name: '', type: output, internalType: output }],
  };
}

/** ABI fragments of the `LicenseManager` views the key gate calls (contracts/src/interfaces/ILicenseManager.sol). */
export const LICENSE_MANAGER_VIEWS = {
  /** `holdsValidLicense(address holder, uint256 licenseId, uint256 datasetId) returns (bool)`; never reverts. */
  holdsValidLicense: viewFn('holdsValidLicense', [['holder', 'address'], ['licenseId', 'uint256'], ['datasetId', 'uint256']], 'bool'),
  /** `isLicenseActive(uint256 licenseId) returns (bool)`: exists and `block.timestamp < expiry`; never reverts. */
  isLicenseActive: viewFn('isLicenseActive', [['licenseId', 'uint256']], 'bool'),
  /** `datasetsOf(uint256 licenseId) returns (uint256[])`: the datasets a license covers. */
  datasetsOf: viewFn('datasetsOf', [['licenseId', 'uint256']], 'uint256[]'),
  /** `datasetsOfJob(uint256 jobId) returns (uint256[])`: the job's license's datasets; empty for an unknown job. */
  datasetsOfJob: viewFn('datasetsOfJob', [['jobId', 'uint256']], 'uint256[]'),
  /**
   * `isJobActive(uint256 jobId) returns (bool)`: the job is open and funded (not ended, finalized or refunded, its
   * license not expired, budget not spent); never reverts.
   */
  isJobActive: viewFn('isJobActive', [['jobId', 'uint256']], 'bool'),
  /** `jobGrantsKeys(uint256 jobId, uint256 datasetId) returns (bool)`: `isJobActive` and the job covers the dataset. */
  jobGrantsKeys: viewFn('jobGrantsKeys', [['jobId', 'uint256'], ['datasetId', 'uint256']], 'bool'),
} as const satisfies Record<string, FunctionAbi>;

/** ABI fragment of `AttestationRegistry.isApproved(uint256 jobId, address worker) returns (bool)`. */
export const ATTESTATION_REGISTRY_VIEWS = {
  isApproved: viewFn('isApproved', [['jobId', 'uint256'], ['worker', 'address']], 'bool'),
} as const satisfies Record<string, FunctionAbi>;

const IS_TRUE: ReturnValueTest = { key: '', comparator: '=', value: 'true' };
const UINT256_DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/** The dataset id as the contracts hold it (`uint256`), as a decimal string. */
function onChainDatasetId(datasetId: bigint | string): string {
  const s = typeof datasetId === 'bigint' ? datasetId.toString() : datasetId;
  if (!UINT256_DECIMAL.test(s) || BigInt(s) >= 2n ** 256n) {
    throw new ValidationError('datasetId must be an on-chain dataset id (a uint256)', [
      { path: ['datasetId'], message: `'${s}' is not a decimal uint256` },
    ]);
  }
  return s;
}

function contract(field: string, address: string): string {
  try {
    // Checksummed, so that equal conditions hash equally (hashConditions binds them into the wrapped key).
    return getAddress(address);
  } catch (cause) {
    throw new ValidationError(`${field} must be a contract address`, [{ path: [field], message: `'${address}' is not an address` }], cause);
  }
}

function call(contractAddress: string, chain: string, abi: FunctionAbi, functionParams: string[], returnValueTest: ReturnValueTest, refusalCode: RefusalCode): EvmContractCondition {
  return { contractAddress, chain, functionName: abi.name, functionParams, functionAbi: abi, returnValueTest, refusalCode };
}

/** Parameters of {@link licenseHolderCondition}. */
export interface LicenseHolderConditionParameters {
  /** The `LicenseManager` address. */
  licenseManager: string;
  /** Chain name as the evaluator knows it (a key of the providers given to `EvmConditionEvaluator`). */
  chain: string;
  /** The on-chain dataset id (`uint256`): a bigint or a decimal string. */
  datasetId: bigint | string;
}

/**
 * "The requester holds license `:licenseId`, it is active, and it covers this dataset", as three calls so a
 * refusal says which part failed: `isLicenseActive(:licenseId)` (`LICENSE_EXPIRED`; also an unknown license),
 * then `datasetsOf(:licenseId) contains datasetId` (`LICENSE_WRONG_DATASET`), then
 * `holdsValidLicense(:userAddress, :licenseId, datasetId)` (`KEY_ACCESS_DENIED`: the caller is not the holder).
 * The last call alone decides entitlement; the first two only name the reason. A request without a license id
 * is refused as `missing-context`.
 *
 * @throws {ValidationError} `VALIDATION_FAILED` when `datasetId` is not a uint256 or `licenseManager` not an address.
 * @example
 * ```ts
 * const conditions = licenseHolderCondition({ licenseManager, chain: 'hardhat', datasetId: 7n });
 * await evaluator.evaluate(conditions, { userAddress: lab, licenseId: '3' }); // { allowed: true }
 * ```
 */
export function licenseHolderCondition(p: LicenseHolderConditionParameters): AccessConditionList {
  const manager = contract('licenseManager', p.licenseManager);
  const datasetId = onChainDatasetId(p.datasetId);
  return [
    call(manager, p.chain, LICENSE_MANAGER_VIEWS.isLicenseActive, [':licenseId'], IS_TRUE, 'LICENSE_EXPIRED'),
    { operator: 'and' },
    call(manager, p.chain, LICENSE_MANAGER_VIEWS.datasetsOf, [':licenseId'], { key: '', comparator: 'contains', value: datasetId }, 'LICENSE_WRONG_DATASET'),
    { operator: 'and' },
    call(manager, p.chain, LICENSE_MANAGER_VIEWS.holdsValidLicense, [USER_ADDRESS, ':licenseId', datasetId], IS_TRUE, 'KEY_ACCESS_DENIED'),
  ];
}

/** Parameters of {@link attestedWorkerCondition}. */
export interface AttestedWorkerConditionParameters {
  /** The `AttestationRegistry` address (`isApproved`). */
  attestationRegistry: string;
  /** The `LicenseManager` address (`isJobActive`, `datasetsOfJob`). */
  licenseManager: string;
  /** Chain name as the evaluator knows it (a key of the providers given to `EvmConditionEvaluator`). */
  chain: string;
  /** The on-chain dataset id (`uint256`): a bigint or a decimal string. */
  datasetId: bigint | string;
}

/**
 * "The requester is a worker key attested for job `:jobId`, that job is open and funded, and it draws on a license
 * for this dataset": `AttestationRegistry.isApproved(:jobId, :userAddress) = true` (refusal `KEY_ACCESS_DENIED`) AND
 * `LicenseManager.isJobActive(:jobId) = true` (refusal `JOB_NOT_ACTIVE`: the job ended, was finalized or refunded,
 * its license expired, or its budget is spent) AND `LicenseManager.datasetsOfJob(:jobId) contains datasetId`
 * (refusal `LICENSE_WRONG_DATASET`). Ending the job (or the attestor's revocation) ends the worker's access at once.
 *
 * @throws {ValidationError} `VALIDATION_FAILED` when `datasetId` is not a uint256 or an address is malformed.
 * @example
 * ```ts
 * const conditions = attestedWorkerCondition({ attestationRegistry, licenseManager, chain: 'hardhat', datasetId: '7' });
 * await evaluator.evaluate(conditions, { userAddress: workerKey, jobId: '12' });
 * ```
 */
export function attestedWorkerCondition(p: AttestedWorkerConditionParameters): AccessConditionList {
  const datasetId = onChainDatasetId(p.datasetId);
  return [
    call(
      contract('attestationRegistry', p.attestationRegistry),
      p.chain,
      ATTESTATION_REGISTRY_VIEWS.isApproved,
      [':jobId', USER_ADDRESS],
      IS_TRUE,
      'KEY_ACCESS_DENIED',
    ),
    { operator: 'and' },
    call(contract('licenseManager', p.licenseManager), p.chain, LICENSE_MANAGER_VIEWS.isJobActive, [':jobId'], IS_TRUE, 'JOB_NOT_ACTIVE'),
    { operator: 'and' },
    call(
      contract('licenseManager', p.licenseManager),
      p.chain,
      LICENSE_MANAGER_VIEWS.datasetsOfJob,
      [':jobId'],
      { key: '', comparator: 'contains', value: datasetId },
      'LICENSE_WRONG_DATASET',
    ),
  ];
}
