/**
 * Generic condition builders over view names of a test contract (contracts/src/test/ConditionTarget.sol), used
 * by the evaluator's and the gates' unit tests to exercise every comparator and refusal code. Production
 * conditions over Provena's real contracts are built by provenaConditions.ts.
 */
import { getAddress, id as keccakUtf8, isHexString } from 'ethers';
import { USER_ADDRESS, type AccessConditionList, type EvmContractCondition, type FunctionAbi, type RefusalCode, type ReturnValueTest } from '../../schemas/accessConditions.js';

/**
 * Default function ABIs. Where contracts/src already has the function (ERC-721 `ownerOf` on TrainingLicense,
 * `datasetsOf` on LicenseManager, `isApproved` on AttestationRegistry) the default is that real function;
 * `hasValidLicense`, `isLicenseActive` and `datasetsOfJob` are proposals the contracts engineer still has to
 * add (or replace by passing other ABI fragments to the builders). Dataset ids are `uint256` on chain.
 */
function viewFn(name: string, inputs: [string, string][], output: string): FunctionAbi {
  return {
    name,
    type: 'function',
    stateMutability: 'view',
    inputs: inputs.map(([n, t]) => ({ name: n, type: t, internalType: t })),
    outputs: [{ name: '', type: output, internalType: output }],
  };
}

/** Proposed `hasValidLicense(address holder, uint256 datasetId) returns (bool)`: a current, unexpired license. */
export const HAS_VALID_LICENSE_ABI = viewFn('hasValidLicense', [['holder', 'address'], ['datasetId', 'uint256']], 'bool');
/** ERC-721 `ownerOf(uint256) returns (address)` (TrainingLicense): the license token belongs to the requester. */
export const OWNER_OF_ABI = viewFn('ownerOf', [['tokenId', 'uint256']], 'address');
/** LicenseManager `datasetsOf(uint256 licenseId) returns (uint256[])`: the datasets a license covers. */
export const DATASETS_OF_ABI = viewFn('datasetsOf', [['licenseId', 'uint256']], 'uint256[]');
/** Proposed `isLicenseActive(uint256 licenseId) returns (bool)`: not expired nor revoked. */
export const IS_LICENSE_ACTIVE_ABI = viewFn('isLicenseActive', [['licenseId', 'uint256']], 'bool');
/** AttestationRegistry `isApproved(uint256 jobId, address worker) returns (bool)`. */
export const IS_APPROVED_WORKER_ABI = viewFn('isApproved', [['jobId', 'uint256'], ['worker', 'address']], 'bool');
/** Proposed `datasetsOfJob(uint256 jobId) returns (uint256[])`: the datasets of the license a job runs under. */
export const DATASETS_OF_JOB_ABI = viewFn('datasetsOfJob', [['jobId', 'uint256']], 'uint256[]');

/**
 * The on-chain form of a dataset id: a decimal uint256 or 0x-prefixed 32-byte hex is used as is; any other
 * string is `keccak256(utf8(id))`. (Contracts use `uint256` dataset ids.)
 *
 * @example
 * ```ts
 * datasetKey('42') // => '42'
 * ```
 */
export function datasetKey(datasetId: string): string {
  if (/^(0|[1-9][0-9]{0,77})$/.test(datasetId)) return datasetId;
  return isHexString(datasetId, 32) ? datasetId.toLowerCase() : keccakUtf8(datasetId);
}

function call(
  contractAddress: string,
  chain: string,
  spec: FunctionAbi,
  functionParams: string[],
  returnValueTest: ReturnValueTest,
  refusalCode?: RefusalCode,
): EvmContractCondition {
  return {
    contractAddress: getAddress(contractAddress),
    chain,
    functionName: spec.name,
    functionParams,
    functionAbi: spec,
    returnValueTest,
    ...(refusalCode === undefined ? {} : { refusalCode }),
  };
}

const IS_TRUE: ReturnValueTest = { key: '', comparator: '=', value: 'true' };

/** Parameters of {@link licenseHolderConditions}. */
export interface LicenseHolderParams {
  /** The contract answering `hasValidLicense` and `datasetsOf` / `isLicenseActive` (LicenseManager). */
  registry: string;
  /** Chain name as the evaluator / Lit knows it (e.g. 'baseSepolia', or 'hardhat' for the embedded gate). */
  chain: string;
  /** Dataset id (see {@link datasetKey}). */
  datasetId: string;
  /** Default {@link HAS_VALID_LICENSE_ABI} with (`:userAddress`, dataset). */
  hasValidLicense?: FunctionAbi;
  /**
   * Also check, at request time, the license the request names (`:licenseId`): owned by the requester
   * (`ownerOf` on `licenseToken`), covering this dataset (`datasetsOf` contains it; refusal
   * LICENSE_WRONG_DATASET) and active (`isLicenseActive`; refusal LICENSE_EXPIRED). Gives precise refusal codes;
   * not usable with the Lit gate (Lit cannot fill `:licenseId`).
   */
  bindLicenseId?: { licenseToken?: string; ownerOf?: FunctionAbi; datasetsOf?: FunctionAbi; isLicenseActive?: FunctionAbi };
}

/**
 * "The caller holds a valid license for dataset X on registry contract Y."
 *
 * @example
 * ```ts
 * const conditions = licenseHolderConditions({ registry, chain: 'hardhat', datasetId: '7', bindLicenseId: { licenseToken } });
 * ```
 */
export function licenseHolderConditions(p: LicenseHolderParams): AccessConditionList {
  const key = datasetKey(p.datasetId);
  const out: AccessConditionList = [];
  if (p.bindLicenseId !== undefined) {
    const b = p.bindLicenseId;
    out.push(
      call(b.licenseToken ?? p.registry, p.chain, b.ownerOf ?? OWNER_OF_ABI, [':licenseId'], { key: '', comparator: '=', value: USER_ADDRESS }, 'KEY_ACCESS_DENIED'),
      { operator: 'and' },
      call(p.registry, p.chain, b.datasetsOf ?? DATASETS_OF_ABI, [':licenseId'], { key: '', comparator: 'contains', value: key }, 'LICENSE_WRONG_DATASET'),
      { operator: 'and' },
      call(p.registry, p.chain, b.isLicenseActive ?? IS_LICENSE_ACTIVE_ABI, [':licenseId'], IS_TRUE, 'LICENSE_EXPIRED'),
      { operator: 'and' },
    );
  }
  out.push(call(p.registry, p.chain, p.hasValidLicense ?? HAS_VALID_LICENSE_ABI, [USER_ADDRESS, key], IS_TRUE, 'KEY_ACCESS_DENIED'));
  return out;
}

/** Parameters of {@link attestedWorkerConditions}. */
export interface AttestedWorkerParams {
  /** The attestation registry contract (`isApproved`). */
  attestationRegistry: string;
  /** Contract that answers `datasetsOfJob` (LicenseManager). */
  jobRegistry: string;
  chain: string;
  datasetId: string;
  /** Default {@link IS_APPROVED_WORKER_ABI} with (`:jobId`, `:userAddress`). */
  isApproved?: FunctionAbi;
  /** Default {@link DATASETS_OF_JOB_ABI} with (`:jobId`), which must contain the dataset. */
  datasetsOfJob?: FunctionAbi;
}

/**
 * "The caller is a worker key attested for a job on a license for dataset X": the worker is approved for the
 * request's job, and that job's license covers this dataset. Uses `:jobId`, so it needs a request-time gate.
 *
 * @example
 * ```ts
 * const conditions = attestedWorkerConditions({ attestationRegistry, jobRegistry: licenseManager, chain: 'hardhat', datasetId: '7' });
 * ```
 */
export function attestedWorkerConditions(p: AttestedWorkerParams): AccessConditionList {
  return [
    call(p.attestationRegistry, p.chain, p.isApproved ?? IS_APPROVED_WORKER_ABI, [':jobId', USER_ADDRESS], IS_TRUE, 'KEY_ACCESS_DENIED'),
    { operator: 'and' },
    call(p.jobRegistry, p.chain, p.datasetsOfJob ?? DATASETS_OF_JOB_ABI, [':jobId'], { key: '', comparator: 'contains', value: datasetKey(p.datasetId) }, 'LICENSE_WRONG_DATASET'),
  ];
}

