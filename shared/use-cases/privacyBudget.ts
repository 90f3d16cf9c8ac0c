/**
 * The per-listing privacy budget as the job use cases apply it: at submit, a job over a listing with a privacy
 * policy must train with DP-SGD (delta no larger than the listing's) under a declared epsilon ceiling, which is
 * reserved on every such listing (all or none); when the job finishes, each reservation is settled once.
 */
import { ConflictError, ProvenaError } from '../errors.js';
import type { JobRecord, JobRecordDataset } from '../ports/JobRepo.js';
import type { Dataset } from '../schemas/dataset.js';
import type { JobSubmitInput } from '../schemas/job.js';
import type { JobDeps } from './jobDeps.js';

/** The job's epsilon ceiling: the smaller of the body's `maxEpsilon` and the recipe's `dp.targetEpsilon`. */
export function epsilonCeiling(input: JobSubmitInput): number | undefined {
  const declared = [input.maxEpsilon, input.recipe.dp?.targetEpsilon].filter((e): e is number => e !== undefined);
  return declared.length ? Math.min(...declared) : undefined;
}

/** `PRIVACY_DP_REQUIRED` / `PRIVACY_EPSILON_CEILING_REQUIRED` when the job cannot run on a listing with a policy. */
function checkPolicy(listing: Dataset, input: JobSubmitInput): number {
  const policy = listing.privacy;
  if (!policy) throw new ProvenaError('INTERNAL', `Listing ${listing.id} has no privacy policy`);
  const dp = input.recipe.dp;
  if (!dp?.enabled) throw new ProvenaError('PRIVACY_DP_REQUIRED', `Listing ${listing.id} requires DP-SGD: set recipe.dp.enabled`);
  if (dp.delta > policy.delta) throw new ProvenaError('PRIVACY_DP_REQUIRED', `Listing ${listing.id} requires delta <= ${policy.delta}, the recipe has ${dp.delta}`);
  const ceiling = epsilonCeiling(input);
  if (ceiling === undefined) throw new ProvenaError('PRIVACY_EPSILON_CEILING_REQUIRED', `Listing ${listing.id} has a privacy budget: declare maxEpsilon or recipe.dp.targetEpsilon`);
  return ceiling;
}

/**
 * Checks every listing's policy first (nothing reserved on a refusal), then reserves the ceiling on each listing
 * with a policy; when one has too little left, the reservations already made are released and
 * `PRIVACY_BUDGET_EXCEEDED` is thrown. Returns the datasets with `epsilonReserved` set where reserved.
 */
export async function reservePrivacy(deps: Pick<JobDeps, 'privacy'>, input: JobSubmitInput, listed: readonly { dataset: JobRecordDataset; listing: Dataset }[]): Promise<JobRecordDataset[]> {
  const ceilings = listed.map(({ listing }) => (listing.privacy ? checkPolicy(listing, input) : undefined));
  const out: JobRecordDataset[] = [];
  for (const [i, { dataset, listing }] of listed.entries()) {
    const ceiling = ceilings[i];
    if (ceiling === undefined || !listing.privacy) {
      out.push(dataset);
      continue;
    }
    if (!(await deps.privacy.reserve(listing.id, ceiling, listing.privacy.epsilonBudget))) {
      await releasePrivacy(deps, out);
      throw new ConflictError('PRIVACY_BUDGET_EXCEEDED', `Listing ${listing.id}: epsilon ${ceiling} exceeds what remains of its privacy budget ${listing.privacy.epsilonBudget}`);
    }
    out.push({ ...dataset, epsilonReserved: ceiling });
  }
  return out;
}

/** Releases every reservation of these datasets in full (a refused or lost submit, a job that never trained). */
export async function releasePrivacy(deps: Pick<JobDeps, 'privacy'>, datasets: readonly JobRecordDataset[]): Promise<void> {
  for (const d of datasets) if (d.epsilonReserved !== undefined) await deps.privacy.settle(d.datasetId, d.epsilonReserved, 0);
}

/** Settles a finished job's reservations: `spent` epsilon (capped at each reservation) is spent, the rest released. */
export async function settlePrivacy(deps: Pick<JobDeps, 'privacy'>, record: JobRecord, spent: number): Promise<void> {
  for (const d of record.datasets) if (d.epsilonReserved !== undefined) await deps.privacy.settle(d.datasetId, d.epsilonReserved, Math.min(spent, d.epsilonReserved));
}

/**
 * What a failed job spent: nothing when it never reported an epoch (no model, metric or checkpoint left the worker),
 * else the last epsilon it reported, or its whole ceiling when it reported none.
 */
export function failedJobEpsilon(record: JobRecord): number {
  if (record.metrics.length === 0 && record.checkpoints.length === 0) return 0;
  return record.metrics.at(-1)?.epsilon ?? Number.POSITIVE_INFINITY;
}

/** The per-dataset budgets a lease hands the worker: each dataset's reservation (the job may spend no more). */
export function privacyBudgets(record: JobRecord): Record<string, number> | undefined {
  const reserved = record.datasets.filter((d) => d.epsilonReserved !== undefined);
  return reserved.length ? Object.fromEntries(reserved.map((d) => [d.datasetId, d.epsilonReserved as number])) : undefined;
}

/**
 * What a cancelled (or refunded) job spent, and why. Nothing when no epoch's metrics and no checkpoint ever left the
 * worker; the last epsilon it reported when its last committed checkpoint is no further than that epoch's end;
 * otherwise unknown (a checkpoint past the last reported epoch: checkpoints carry no epsilon), so the whole
 * reservation stays spent (`epsilon` is `Infinity`, capped at each reservation when settled).
 */
export function cancelledJobEpsilon(record: JobRecord): { epsilon: number; reason: string } {
  const last = record.checkpoints.at(-1);
  const reported = [...record.metrics].reverse().find((m) => m.epsilon !== undefined);
  if (record.metrics.length === 0 && !last) return { epsilon: 0, reason: 'cancelled before any epoch or checkpoint left the worker: nothing spent' };
  if (reported?.epsilon !== undefined) {
    const p = last?.position;
    if (!p || p.epoch < reported.epoch || (p.epoch === reported.epoch && p.step === 0)) {
      return { epsilon: reported.epsilon, reason: `cancelled after epoch ${reported.epoch}: the epsilon it reported then is spent, the rest released` };
    }
  }
  const at = last ? `step ${last.position.globalStep}` : 'its last epoch';
  return { epsilon: Number.POSITIVE_INFINITY, reason: `cancelled after a checkpoint at ${at}, past its last reported epsilon: what it spent is unknown, so the whole reservation stays spent` };
}

/**
 * The note a cancelled job's record gets in the write that settles its privacy reservations (see
 * {@link JobRecord.privacySettled}); undefined when there is nothing to settle (no reservation, or settled before).
 */
export function cancelledSettlement(record: JobRecord, now: Date): NonNullable<JobRecord['privacySettled']> | undefined {
  if (record.privacySettled || !record.datasets.some((d) => d.epsilonReserved !== undefined)) return undefined;
  const { epsilon, reason } = cancelledJobEpsilon(record);
  return { epsilonSpent: Number.isFinite(epsilon) ? epsilon : null, reason, at: now.toISOString() };
}

/** Settles the reservations as `note` (just written on the record) says. */
export async function settleCancelled(deps: Pick<JobDeps, 'privacy'>, record: JobRecord, note: NonNullable<JobRecord['privacySettled']>): Promise<void> {
  await settlePrivacy(deps, record, note.epsilonSpent ?? Number.POSITIVE_INFINITY);
}
