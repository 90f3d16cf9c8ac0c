/**
 * Access-control conditions for releasing a data key, in one format modelled on Lit Protocol's **EVM contract
 * conditions** (`evmContractConditions`): each condition is a view call on a contract and a test on its return
 * value; conditions are joined by `{operator: 'and' | 'or'}` and may be grouped by nesting arrays.
 *
 * The embedded and KMS gates evaluate them through an {@link AccessConditionEvaluator} (real `eth_call`s);
 * the Lit gate hands them to the Lit network (see shared/adapters/lit/conditions.ts for the conversion).
 *
 * The zod schema lives here rather than in shared/schemas because it is the port's own data type; the encrypted
 * manifest schema imports it.
 *
 * Placeholders in `functionParams` and `returnValueTest.value`:
 * - `:userAddress`: the requester's address (Lit's own placeholder, so it works on every backend);
 * - `:licenseId`, `:jobId`: **request-time** values from the key request. Only gates that evaluate conditions
 *   at request time (embedded, KMS) can fill them; the Lit gate refuses conditions that use them.
 */
import { getAddress, id as keccakUtf8, isHexString } from 'ethers';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Lit's placeholder for the requester's address. */
export const USER_ADDRESS = ':userAddress';
/** Request-time placeholders (not understood by Lit). */
export const REQUEST_TIME_PLACEHOLDERS = [':licenseId', ':jobId'] as const;

/** Refusal codes a condition may name for when it fails (our extension; stripped for Lit). */
export const RefusalCode = z.enum(['KEY_ACCESS_DENIED', 'LICENSE_EXPIRED', 'LICENSE_WRONG_DATASET']);
export type RefusalCode = z.output<typeof RefusalCode>;

/** One ABI parameter, as in a Solidity JSON ABI. */
export const AbiParam = z.object({ name: z.string(), type: z.string().min(1), internalType: z.string().optional() });

/** The view function's ABI fragment (Lit requires it inline). */
export const FunctionAbi = z.object({
  name: z.string().min(1),
  type: z.literal('function'),
  stateMutability: z.enum(['view', 'pure']),
  inputs: z.array(AbiParam),
  outputs: z.array(AbiParam).min(1),
});
export type FunctionAbi = z.output<typeof FunctionAbi>;

/** The comparison applied to the call's return value (`key` = output name, or '' for the only output). */
export const ReturnValueTest = z.object({
  key: z.string(),
  comparator: z.enum(['=', '!=', '>', '>=', '<', '<=', 'contains']),
  value: z.string(),
});
export type ReturnValueTest = z.output<typeof ReturnValueTest>;

/**
 * One EVM contract condition (Lit's `EvmContractCondition` shape, plus our optional `refusalCode`).
 *
 * @example
 * ```ts
 * const c: EvmContractCondition = {
 *   contractAddress: registry, chain: 'baseSepolia', functionName: 'hasValidLicense',
 *   functionParams: [':userAddress', datasetKey], functionAbi: HAS_VALID_LICENSE_ABI,
 *   returnValueTest: { key: '', comparator: '=', value: 'true' },
 * };
 * ```
 */
export const EvmContractCondition = z.object({
  contractAddress: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte hex address'),
  chain: z.string().min(1),
  functionName: z.string().min(1),
  functionParams: z.array(z.string()),
  functionAbi: FunctionAbi,
  returnValueTest: ReturnValueTest,
  /** Which error the gate reports when this condition is the one that failed (default KEY_ACCESS_DENIED). */
  refusalCode: RefusalCode.optional(),
});
export type EvmContractCondition = z.output<typeof EvmContractCondition>;

/** A boolean join between neighbouring conditions. */
export const BooleanOperator = z.object({ operator: z.enum(['and', 'or']) });
export type BooleanOperator = z.output<typeof BooleanOperator>;

/** A condition list: conditions alternating with operators; a nested list is a parenthesised group. */
export type AccessConditionList = Array<EvmContractCondition | BooleanOperator | AccessConditionList>;

/** Zod schema for {@link AccessConditionList}; also checks that conditions and operators alternate. */
export const AccessConditionList: z.ZodType<AccessConditionList> = z.lazy(() =>
  z
    .array(z.union([EvmContractCondition, BooleanOperator, AccessConditionList]))
    .min(1)
    .superRefine((items, ctx) => {
      items.forEach((item, i) => {
        const isOp = !Array.isArray(item) && 'operator' in item;
        if (isOp !== (i % 2 === 1)) ctx.addIssue({ code: 'custom', path: [i], message: 'conditions and operators must alternate, starting and ending with a condition' });
      });
      if (items.length % 2 === 0) ctx.addIssue({ code: 'custom', message: 'a condition list must end with a condition' });
      const ops = new Set(items.filter((x): x is BooleanOperator => !Array.isArray(x) && 'operator' in x).map((x) => x.operator));
      // No precedence rules to get wrong: mixing and/or at one level must be made explicit by nesting.
      if (ops.size > 1) ctx.addIssue({ code: 'custom', message: "mixing 'and' and 'or' at one level is ambiguous: group with a nested list" });
    }),
);

/** The values a request supplies for placeholders. */
export interface AccessContext {
  /** The requester's checksummed address (`:userAddress`). */
  userAddress: string;
  /** `:licenseId`, decimal string. */
  licenseId?: string;
  /** `:jobId`, decimal string. */
  jobId?: string;
}

/** What {@link AccessConditionEvaluator.evaluate} found. */
export type AccessDecision =
  | { allowed: true }
  | {
      allowed: false;
      /** The first condition that decided the refusal (for `or`, the last one tried). */
      condition: EvmContractCondition;
      refusalCode: RefusalCode;
      /**
       * `false-result`: the call returned a failing value; `reverted`: the call reverted; `missing-context`: the
       * request did not supply a placeholder the condition needs (e.g. `:jobId` on a license request).
       */
      reason: 'false-result' | 'reverted' | 'missing-context';
    };

/**
 * Evaluates a condition list against the chain(s) at request time.
 * Throws `CHAIN_UNAVAILABLE` (a {@link import('../errors.js').DependencyError}) when a chain cannot be asked;
 * a reverting call is a failed condition, not an error.
 */
export interface AccessConditionEvaluator {
  evaluate(conditions: AccessConditionList, context: AccessContext): Promise<AccessDecision>;
}

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

/** Either of two condition lists (e.g. license holder OR attested worker). */
export function anyOf(...lists: AccessConditionList[]): AccessConditionList {
  return lists.flatMap((l, i) => (i === 0 ? [l] : [{ operator: 'or' as const }, l]));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * SHA-256 (hex) of the canonical JSON (sorted keys) of a condition list. The embedded gate binds it into the
 * wrapped key's AAD, so a wrapped key cannot be released under weaker conditions than it was wrapped with.
 */
export function hashConditions(conditions: AccessConditionList): string {
  return createHash('sha256').update(JSON.stringify(canonical(conditions))).digest('hex');
}

/** True when the list uses a request-time placeholder anywhere (only request-time gates can evaluate it). */
export function usesRequestTimePlaceholders(conditions: AccessConditionList): boolean {
  const placeholders: readonly string[] = REQUEST_TIME_PLACEHOLDERS;
  return conditions.some((c) =>
    Array.isArray(c)
      ? usesRequestTimePlaceholders(c)
      : 'functionParams' in c && [...c.functionParams, c.returnValueTest.value].some((x) => placeholders.includes(x)),
  );
}
