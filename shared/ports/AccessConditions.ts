/**
 * The port that evaluates access conditions (shared/schemas/accessConditions.ts) against the chain(s) at request
 * time. Adapter: shared/adapters/chain/EvmConditionEvaluator.ts (real `eth_call`s).
 */
import type { AccessConditionList, AccessContext, AccessDecision } from '../schemas/accessConditions.js';

/**
 * Evaluates a condition list against the chain(s) at request time.
 * Throws `CHAIN_UNAVAILABLE` (a `DependencyError`) when a chain cannot be asked;
 * a reverting call is a failed condition, not an error.
 */
export interface AccessConditionEvaluator {
  evaluate(conditions: AccessConditionList, context: AccessContext): Promise<AccessDecision>;
}

