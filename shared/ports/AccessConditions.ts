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
      /** `false-result` when the call returned a failing value, `reverted` when the call reverted. */
      reason: 'false-result' | 'reverted';
    };

/**
 * Evaluates a condition list against the chain(s) at request time.
 * Throws `CHAIN_UNAVAILABLE` (a {@link import('../errors.js').DependencyError}) when a chain cannot be asked;
 * a reverting call is a failed condition, not an error.
 */
export interface AccessConditionEvaluator {
  evaluate(conditions: AccessConditionList, context: AccessContext): Promise<AccessDecision>;
}

/** ABI fragment of the default license check `hasValidLicense(address holder, bytes32 datasetId) returns (bool)`. */
export const HAS_VALID_LICENSE_ABI: FunctionAbi = {
  name: 'hasValidLicense',
  type: 'function',
  stateMutability: 'view',
  inputs: [
    { name: 'holder', type: 'address', internalType: 'address' },
    { name: 'datasetId', type: 'bytes32', internalType: 'bytes32' },
  ],
  outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
};

/** `ownerOf(uint256) returns (address)` (ERC-721): the license token belongs to the requester. */
export const OWNER_OF_ABI: FunctionAbi = {
  name: 'ownerOf',
  type: 'function',
  stateMutability: 'view',
  inputs: [{ name: 'tokenId', type: 'uint256', internalType: 'uint256' }],
  outputs: [{ name: '', type: 'address', internalType: 'address' }],
};

/** `isLicenseActive(uint256 licenseId) returns (bool)`: not expired nor revoked. */
export const IS_LICENSE_ACTIVE_ABI: FunctionAbi = {
  name: 'isLicenseActive',
  type: 'function',
  stateMutability: 'view',
  inputs: [{ name: 'licenseId', type: 'uint256', internalType: 'uint256' }],
  outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
};

/** `licenseDataset(uint256 licenseId) returns (bytes32)`: which dataset a license is for. */
export const LICENSE_DATASET_ABI: FunctionAbi = {
  name: 'licenseDataset',
  type: 'function',
  stateMutability: 'view',
  inputs: [{ name: 'licenseId', type: 'uint256', internalType: 'uint256' }],
  outputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
};

/** `isAttestedWorker(address worker, uint256 jobId) returns (bool)`. */
export const IS_ATTESTED_WORKER_ABI: FunctionAbi = {
  name: 'isAttestedWorker',
  type: 'function',
  stateMutability: 'view',
  inputs: [
    { name: 'worker', type: 'address', internalType: 'address' },
    { name: 'jobId', type: 'uint256', internalType: 'uint256' },
  ],
  outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
};

/** `datasetOfJob(uint256 jobId) returns (bytes32)`: the dataset of the license a job runs under. */
export const DATASET_OF_JOB_ABI: FunctionAbi = {
  name: 'datasetOfJob',
  type: 'function',
  stateMutability: 'view',
  inputs: [{ name: 'jobId', type: 'uint256', internalType: 'uint256' }],
  outputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
};

/** A contract function to call: name + ABI fragment (defaults are the ones above). */
export interface FunctionSpec {
  functionAbi: FunctionAbi;
}

/**
 * The bytes32 form of a dataset id used on chain: a 0x-prefixed 32-byte hex id is used as is, anything else is
 * `keccak256(utf8(id))`. (Assumption until the contracts engineer fixes the registry's id type.)
 *
 * @example
 * ```ts
 * datasetKey('ds_01HZX…') // => '0x…' (keccak256 of the UTF-8 id)
 * ```
 */
export function datasetKey(datasetId: string): string {
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
  /** The license registry (ERC-721) contract. */
  registry: string;
  /** Chain name as the evaluator / Lit knows it (e.g. 'baseSepolia', or 'hardhat' for the embedded gate). */
  chain: string;
  datasetId: string;
  /** Default `hasValidLicense(address,bytes32)`; must return true for a current license of the dataset. */
  hasValidLicense?: FunctionAbi;
  /**
   * Also check, at request time, the license the request names (`:licenseId`): owned by the requester
   * (`ownerOf`), for this dataset (`licenseDataset`, refusal LICENSE_WRONG_DATASET) and active
   * (`isLicenseActive`, refusal LICENSE_EXPIRED). Gives precise refusal codes; not usable with the Lit gate.
   */
  bindLicenseId?: { ownerOf?: FunctionAbi; licenseDataset?: FunctionAbi; isLicenseActive?: FunctionAbi };
}

/**
 * "The caller holds a valid license for dataset X on registry contract Y."
 *
 * The function names are defaults until the contracts engineer settles them: pass the real ABI fragments.
 *
 * @example
 * ```ts
 * const conditions = licenseHolderConditions({ registry, chain: 'hardhat', datasetId: 'ds_1', bindLicenseId: {} });
 * ```
 */
export function licenseHolderConditions(p: LicenseHolderParams): AccessConditionList {
  const key = datasetKey(p.datasetId);
  const out: AccessConditionList = [];
  if (p.bindLicenseId !== undefined) {
    const b = p.bindLicenseId;
    out.push(
      call(p.registry, p.chain, b.ownerOf ?? OWNER_OF_ABI, [':licenseId'], { key: '', comparator: '=', value: USER_ADDRESS }, 'KEY_ACCESS_DENIED'),
      { operator: 'and' },
      call(p.registry, p.chain, b.licenseDataset ?? LICENSE_DATASET_ABI, [':licenseId'], { key: '', comparator: '=', value: key }, 'LICENSE_WRONG_DATASET'),
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
  /** The attestation registry contract. */
  attestationRegistry: string;
  /** Contract that answers `datasetOfJob` (default: the attestation registry). */
  jobRegistry?: string;
  chain: string;
  datasetId: string;
  /** Default `isAttestedWorker(address,uint256)` with (`:userAddress`, `:jobId`). */
  isAttestedWorker?: FunctionAbi;
  /** Default `datasetOfJob(uint256)` with (`:jobId`), compared to the dataset key. */
  datasetOfJob?: FunctionAbi;
}

/**
 * "The caller is a worker key attested for a job on a license for dataset X": the worker is attested for the
 * request's job, and that job's license is for this dataset. Uses `:jobId`, so it needs a request-time gate.
 *
 * @example
 * ```ts
 * const conditions = attestedWorkerConditions({ attestationRegistry, chain: 'hardhat', datasetId: 'ds_1' });
 * ```
 */
export function attestedWorkerConditions(p: AttestedWorkerParams): AccessConditionList {
  return [
    call(p.attestationRegistry, p.chain, p.isAttestedWorker ?? IS_ATTESTED_WORKER_ABI, [USER_ADDRESS, ':jobId'], IS_TRUE, 'KEY_ACCESS_DENIED'),
    { operator: 'and' },
    call(p.jobRegistry ?? p.attestationRegistry, p.chain, p.datasetOfJob ?? DATASET_OF_JOB_ABI, [':jobId'], { key: '', comparator: '=', value: datasetKey(p.datasetId) }, 'LICENSE_WRONG_DATASET'),
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
