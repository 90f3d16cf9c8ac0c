/**
 * Access-control conditions for releasing a data key, in one format modelled on Lit Protocol's **EVM contract
 * conditions** (`evmContractConditions`): each condition is a view call on a contract and a test on its return
 * value; conditions are joined by `{operator: 'and' | 'or'}` and may be grouped by nesting arrays.
 *
 * The embedded and KMS gates evaluate them through an `AccessConditionEvaluator` (shared/ports/AccessConditions.ts;
 * adapter shared/adapters/chain/EvmConditionEvaluator.ts, real `eth_call`s); the conditions over Provena's own
 * contracts are built by shared/adapters/chain/provenaConditions.ts;
 * the Lit gate hands them to the Lit network (see shared/adapters/lit/conditions.ts for the conversion).
 *
 * Placeholders in `functionParams` and `returnValueTest.value`:
 * - `:userAddress`: the requester's address (Lit's own placeholder, so it works on every backend);
 * - `:licenseId`, `:jobId`: **request-time** values from the key request. Only gates that evaluate conditions
 *   at request time (embedded, KMS, Lit through its release Lit Action) can fill them; Lit's own condition check
 *   cannot, so without the action the Lit gate refuses conditions that use them.
 */
import * as z from 'zod';

/** Lit's placeholder for the requester's address. */
export const USER_ADDRESS = ':userAddress';
/** Request-time placeholders (not understood by Lit). */
export const REQUEST_TIME_PLACEHOLDERS = [':licenseId', ':jobId'] as const;

/** Refusal codes a condition may name for when it fails (our extension; stripped for Lit). */
export const RefusalCode = z.enum(['KEY_ACCESS_DENIED', 'LICENSE_EXPIRED', 'LICENSE_WRONG_DATASET', 'JOB_NOT_ACTIVE']);
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
 * // LicenseManager.holdsValidLicense(requester, the request's license id, dataset 7) must return true
 * const c: EvmContractCondition = {
 *   contractAddress: licenseManager, chain: 'baseSepolia', functionName: 'holdsValidLicense',
 *   functionParams: [':userAddress', ':licenseId', '7'], functionAbi: LICENSE_MANAGER_VIEWS.holdsValidLicense,
 *   returnValueTest: { key: '', comparator: '=', value: 'true' }, refusalCode: 'KEY_ACCESS_DENIED',
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

/** Either of two condition lists (e.g. license holder OR attested worker). */
export function anyOf(...lists: AccessConditionList[]): AccessConditionList {
  return lists.flatMap((l, i) => (i === 0 ? [l] : [{ operator: 'or' as const }, l]));
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
