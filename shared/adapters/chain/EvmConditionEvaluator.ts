/**
 * Evaluates access conditions (shared/ports/AccessConditions.ts) with real `eth_call`s through ethers
 * `Provider`s, one per chain name. Semantics follow Lit's EVM contract conditions: substitute placeholders, call
 * the view function, compare `returnValueTest.key` of the result with `returnValueTest.value`.
 */
import { getAddress, Interface } from 'ethers';
import type { JsonFragment, Provider, Result } from 'ethers';
import { DependencyError, ProvenaError, toFieldIssues } from '../../errors.js';
import { AccessConditionList as AccessConditionListSchema, USER_ADDRESS } from '../../schemas/accessConditions.js';
import type { AccessConditionList, AccessContext, AccessDecision, EvmContractCondition } from '../../schemas/accessConditions.js';
import type { AccessConditionEvaluator } from '../../ports/AccessConditions.js';

type Outcome = AccessDecision;

function isRevert(err: unknown): boolean {
  // ethers v6: a reverting eth_call is CALL_EXCEPTION; undecodable return data (no contract there) is BAD_DATA.
  return err instanceof Error && 'code' in err && (err.code === 'CALL_EXCEPTION' || err.code === 'BAD_DATA');
}

function normalize(type: string, v: unknown): string {
  if (type === 'bool') return String(v);
  if (type === 'address') return getAddress(String(v));
  if (/^u?int\d*$/.test(type)) return BigInt(v as bigint | string).toString();
  return String(v).toLowerCase();
}

function compare(type: string, actual: unknown, comparator: EvmContractCondition['returnValueTest']['comparator'], expected: string): boolean {
  if (comparator === 'contains') {
    if (!type.endsWith('[]') || !Array.isArray(actual)) return false;
    const el = type.slice(0, -2);
    const want = normalize(el, expected);
    return actual.some((a) => normalize(el, a) === want);
  }
  if (/^u?int\d*$/.test(type)) {
    const a = BigInt(actual as bigint);
    const e = BigInt(expected);
    switch (comparator) {
      case '=': return a === e;
      case '!=': return a !== e;
      case '>': return a > e;
      case '>=': return a >= e;
      case '<': return a < e;
      case '<=': return a <= e;
    }
  }
  const a = normalize(type, actual);
  const e = normalize(type, expected);
  if (comparator === '=') return a === e;
  if (comparator === '!=') return a !== e;
  return false; // ordering comparators only make sense for integers
}

/**
 * {@link AccessConditionEvaluator} over JSON-RPC.
 *
 * @example
 * ```ts
 * const evaluator = new EvmConditionEvaluator({ hardhat: chain.provider });
 * const d = await evaluator.evaluate(licenseHolderCondition({ licenseManager, chain: 'hardhat', datasetId: 7n }), { userAddress, licenseId: '1' });
 * ```
 */
export class EvmConditionEvaluator implements AccessConditionEvaluator {
  constructor(private readonly providers: Readonly<Record<string, Provider>>) {}

  async evaluate(conditions: AccessConditionList, context: AccessContext): Promise<AccessDecision> {
    const parsed = AccessConditionListSchema.safeParse(conditions);
    if (!parsed.success) {
      throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'access conditions are malformed', { details: toFieldIssues(parsed.error.issues) });
    }
    return this.list(parsed.data, context);
  }

  private async list(items: AccessConditionList, ctx: AccessContext): Promise<Outcome> {
    const op = items.find((x): x is { operator: 'and' | 'or' } => !Array.isArray(x) && 'operator' in x)?.operator ?? 'and';
    let last: Outcome = { allowed: true };
    // For `or`, the refusal worth reporting is one from a branch that applied to this request: a branch that
    // lacked its request-time value (a job branch asked with a license grant) says nothing about why.
    let telling: Outcome | undefined;
    for (const item of items) {
      if (!Array.isArray(item) && 'operator' in item) continue;
      last = Array.isArray(item) ? await this.list(item, ctx) : await this.one(item, ctx);
      // Short-circuit like the boolean it is: later conditions are not even called.
      if (op === 'and' && !last.allowed) return last;
      if (op === 'or' && last.allowed) return last;
      if (op === 'or' && !last.allowed && last.reason !== 'missing-context') telling ??= last;
    }
    return telling ?? last;
  }

  private substitute(value: string, ctx: AccessContext): string | undefined {
    if (value === USER_ADDRESS) return ctx.userAddress;
    if (value === ':licenseId') return ctx.licenseId;
    if (value === ':jobId') return ctx.jobId;
    return value;
  }

  private async one(c: EvmContractCondition, ctx: AccessContext): Promise<Outcome> {
    const refusalCode = c.refusalCode ?? 'KEY_ACCESS_DENIED';
    const provider = this.providers[c.chain];
    if (provider === undefined) throw new ProvenaError('KEY_GATE_MISCONFIGURED', `no provider for chain '${c.chain}'`);
    const params = c.functionParams.map((p) => this.substitute(p, ctx));
    const expected = this.substitute(c.returnValueTest.value, ctx);
    if (params.some((p) => p === undefined) || expected === undefined) return { allowed: false, condition: c, refusalCode, reason: 'missing-context' };

    // JSON ABI fragment; the zod shape differs from ethers' JsonFragment only in optional-property typing.
    const iface = new Interface([c.functionAbi as unknown as JsonFragment]);
    const fn = iface.getFunction(c.functionName);
    if (fn === null) throw new ProvenaError('KEY_GATE_MISCONFIGURED', `functionAbi does not define ${c.functionName}`);
    let data: string;
    try {
      data = iface.encodeFunctionData(fn, params);
    } catch {
      // A request-time value that does not fit the ABI type (e.g. a non-numeric licenseId) is a refusal.
      return { allowed: false, condition: c, refusalCode, reason: 'missing-context' };
    }
    let result: Result;
    try {
      const raw = await provider.call({ to: c.contractAddress, data });
      result = iface.decodeFunctionResult(fn, raw);
    } catch (err) {
      if (isRevert(err)) return { allowed: false, condition: c, refusalCode, reason: 'reverted' };
      throw new DependencyError('CHAIN_UNAVAILABLE', `chain '${c.chain}' did not answer ${c.functionName}`, { cause: err });
    }
    const { key } = c.returnValueTest;
    const idx = key === '' ? 0 : fn.outputs.findIndex((o) => o.name === key);
    const output = fn.outputs[idx];
    if (output === undefined) throw new ProvenaError('KEY_GATE_MISCONFIGURED', `returnValueTest.key '${key}' is not an output of ${c.functionName}`);
    const actual: unknown = result[idx];
    const ok = compare(output.type, actual instanceof Object && 'toArray' in actual ? (actual as Result).toArray() : actual, c.returnValueTest.comparator, expected);
    return ok ? { allowed: true } : { allowed: false, condition: c, refusalCode, reason: 'false-result' };
  }
}
