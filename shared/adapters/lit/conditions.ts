/**
 * Our access conditions (shared/schemas/accessConditions.ts) -> Lit's `evmContractConditions`, plus Lit's own
 * offline validation and hashing (from `@lit-protocol/access-control-conditions`, loaded lazily because the Lit
 * SDK is an optional dependency).
 */
import { ProvenaError } from '../../errors.js';
import { usesRequestTimePlaceholders } from '../../schemas/accessConditions.js';
import type { AccessConditionList, BooleanOperator, EvmContractCondition } from '../../schemas/accessConditions.js';

/** One condition as Lit expects it (our shape without `refusalCode`). */
export type LitEvmContractCondition = Omit<EvmContractCondition, 'refusalCode'>;
/** Lit's `evmContractConditions` list. */
export type LitEvmContractConditions = Array<LitEvmContractCondition | BooleanOperator | LitEvmContractConditions>;

/**
 * Converts a condition list to Lit's format: drops our `refusalCode` extension and renames chains through
 * `chainMap` (ours -> Lit's chain names, e.g. `{ base: 'base', hardhat: 'yellowstone' }`). Refuses
 * (KEY_GATE_MISCONFIGURED) conditions with request-time placeholders (`:licenseId`, `:jobId`): Lit fixes the
 * conditions at encryption time and only fills `:userAddress`, so Provena's `licenseHolderCondition` and
 * `attestedWorkerCondition` (shared/adapters/chain/provenaConditions.ts) are refused here: the gate takes them
 * through its release Lit Action instead (`LitKeyGateOptions.action`, actions/provenaRelease.js), which fills them
 * at request time. Without the action, use a condition whose other arguments are fixed at wrap time, such as
 * `LicenseManager.holdsValidLicense(:userAddress, licenseId, datasetId)`.
 *
 * @example
 * ```ts
 * const evmContractConditions = toLitEvmContractConditions([{
 *   contractAddress: licenseManager, chain: 'baseSepolia', functionName: 'holdsValidLicense',
 *   functionParams: [':userAddress', '3', '7'], functionAbi: LICENSE_MANAGER_VIEWS.holdsValidLicense,
 *   returnValueTest: { key: '', comparator: '=', value: 'true' },
 * }]);
 * ```
 */
export function toLitEvmContractConditions(conditions: AccessConditionList, chainMap: Readonly<Record<string, string>> = {}): LitEvmContractConditions {
  if (usesRequestTimePlaceholders(conditions)) {
    throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'Lit cannot evaluate request-time placeholders (:licenseId, :jobId); use dataset-scoped conditions with :userAddress');
  }
  const convert = (list: AccessConditionList): LitEvmContractConditions =>
    list.map((c) => {
      if (Array.isArray(c)) return convert(c);
      if ('operator' in c) return { operator: c.operator };
      const { refusalCode: _dropped, ...rest } = c;
      return { ...rest, chain: chainMap[c.chain] ?? c.chain };
    });
  return convert(conditions);
}

/** The subset of `@lit-protocol/access-control-conditions` we use. */
interface LitAccsModule {
  validateEVMContractConditionsSchema(c: unknown): Promise<boolean>;
  hashEVMContractConditions(c: unknown): Promise<ArrayBuffer>;
}

/** Loads the Lit conditions module (optional dependency); KEY_GATE_MISCONFIGURED when it is not installed. */
export async function loadLitAccs(): Promise<LitAccsModule> {
  // A variable specifier keeps tsc and bundlers from requiring the optional package at build time.
  const specifier = '@lit-protocol/access-control-conditions';
  try {
    const mod = (await import(specifier)) as Partial<LitAccsModule> & { default?: LitAccsModule };
    return mod.validateEVMContractConditionsSchema !== undefined ? (mod as LitAccsModule) : mod.default!;
  } catch (cause) {
    throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'the Lit SDK is not installed (npm install --include=optional)', { cause });
  }
}

/**
 * Validates conditions with Lit's own schema (offline). Throws KEY_GATE_MISCONFIGURED with Lit's message.
 */
export async function validateForLit(conditions: LitEvmContractConditions): Promise<void> {
  const accs = await loadLitAccs();
  try {
    await accs.validateEVMContractConditionsSchema(conditions);
  } catch (cause) {
    throw new ProvenaError('KEY_GATE_MISCONFIGURED', `Lit rejects the access conditions: ${cause instanceof Error ? cause.message.slice(0, 300) : String(cause)}`, { cause });
  }
}

/** Lit's hash of the conditions (hex), as the Lit nodes compute it (offline). */
export async function hashForLit(conditions: LitEvmContractConditions): Promise<string> {
  const accs = await loadLitAccs();
  return Buffer.from(await accs.hashEVMContractConditions(conditions)).toString('hex');
}
