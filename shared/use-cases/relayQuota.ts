/**
 * The limits on what callers can make the relayer spend (issue 8, item 6). Relayed calls are gasless for the caller
 * and cost the platform gas (a registration about 252k), so before anything is relayed:
 * 1. the caller's address must have fewer than `perAddress` relayed calls in the last `windowSeconds`
 *    (`RELAYER_QUOTA_EXCEEDED`, 429), and
 * 2. the relayer budget of the current period must still hold `gasPerCall` (`RELAYER_BUDGET_EXHAUSTED`, 503).
 *
 * A call the chain never saw (refused in simulation, no relayer, bad signature) gives its slot and budget back;
 * one that was sent keeps them, whatever its outcome (its gas was spent).
 */
import { ProvenaError, hasCode, type DependencyError, type ErrorCode } from '../errors.js';
import type { RelayQuotaStore, RelaySlot } from '../ports/RelayQuotaStore.js';

/** The limits, from configuration (`PROVENA_RELAY_*`). */
export interface RelayQuotaPolicy {
  /** Relayed calls one address may make per rolling window. */
  perAddress: number;
  windowSeconds: number;
  /** Gas the relayer may commit per period, across all callers. */
  budgetGas: bigint;
  periodSeconds: number;
  /** Gas reserved from the budget for each relayed call (at least the costliest relayed call's gas). */
  gasPerCall: bigint;
}

/** What {@link withinRelayQuota} needs. */
export interface RelayQuotaDeps {
  relayQuota: RelayQuotaStore;
  relayPolicy: RelayQuotaPolicy;
  now(): Date;
}

export interface WithinRelayQuotaParameters {
  /** The address the call is relayed for (the signed request's account). */
  caller: string;
}
export type WithinRelayQuotaErrorType = ProvenaError | DependencyError;

/** Codes by which a relayed call is known not to have reached the chain (see the Relayer port): its charge is refunded. */
const NOT_SENT: readonly ErrorCode[] = ['VALIDATION_FAILED', 'CONFLICT', 'RELAYER_NOT_CONFIGURED', 'RELAYER_STOPPED', 'RELAYER_INSUFFICIENT_FUNDS', 'RELAYER_REJECTED'];

/**
 * Charges one relayed call to `caller`'s quota and to the relayer budget, then runs `relay`. Refuses, with nothing
 * relayed, when either is spent.
 *
 * @example
 * ```ts
 * const id = await withinRelayQuota(deps, { caller }, () => deps.registry.relay(listing, signed));
 * ```
 */
export async function withinRelayQuota<T>(deps: RelayQuotaDeps, params: WithinRelayQuotaParameters, relay: () => Promise<T>): Promise<T> {
  const { relayPolicy: policy, relayQuota: store } = deps;
  const nowMs = deps.now().getTime();
  const windowMs = policy.windowSeconds * 1000;
  const slot = await store.takeSlot(params.caller, nowMs, windowMs, policy.perAddress);
  if (!('atMs' in slot)) {
    throw new ProvenaError('RELAYER_QUOTA_EXCEEDED', `${params.caller} has made ${policy.perAddress} relayed calls in the last ${policy.windowSeconds} s, the most allowed`, {
      details: { limit: policy.perAddress, windowSeconds: policy.windowSeconds, retryAfterSeconds: Math.ceil(slot.retryAfterMs / 1000) },
    });
  }
  const periodIndex = Math.floor(nowMs / 1000 / policy.periodSeconds);
  const period = String(periodIndex);
  const periodEnd = (periodIndex + 1) * policy.periodSeconds;
  if (!(await store.spend(period, policy.gasPerCall, policy.budgetGas, periodEnd + policy.periodSeconds))) {
    await release(store, slot, windowMs);
    throw new ProvenaError('RELAYER_BUDGET_EXHAUSTED', `The relayer's budget of ${policy.budgetGas} gas per ${policy.periodSeconds} s is spent; gasless calls resume next period`, {
      details: { retryAfterSeconds: Math.max(1, periodEnd - Math.floor(nowMs / 1000)) },
    });
  }
  try {
    return await relay();
  } catch (err) {
    if (NOT_SENT.some((code) => hasCode(err, code))) {
      await store.refund(period, policy.gasPerCall).catch(() => undefined);
      await release(store, slot, windowMs);
    }
    throw err;
  }
}

async function release(store: RelayQuotaStore, slot: RelaySlot, windowMs: number): Promise<void> {
  // A failed release only costs the caller one slot until the window passes: never mask the real outcome.
  await store.releaseSlot(slot, windowMs).catch(() => undefined);
}
