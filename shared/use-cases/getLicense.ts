import { NotFoundError, type DependencyError } from '../errors.js';
import type { LicenseIndex } from '../ports/ChainIndex.js';
import type { LicenseViews } from '../ports/LicenseViews.js';
import type { LicenseDetail, LicenseJob } from '../schemas/license.js';

/** What {@link getLicense} reads: the index (terms, job ids) and the contracts' views (every figure). */
export interface LicenseDeps {
  licenses: Pick<LicenseIndex, 'get' | 'listByHolder'>;
  views: LicenseViews;
}

export interface GetLicenseParameters {
  id: string;
}
export type GetLicenseReturnType = LicenseDetail;
export type GetLicenseErrorType = NotFoundError | DependencyError;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * One license: terms as snapshotted (from the index), figures from the chain's views now. A license the chain has
 * but the indexer has not reached yet is `LICENSE_NOT_FOUND` until the next tick.
 */
export async function getLicense(deps: LicenseDeps, params: GetLicenseParameters): Promise<GetLicenseReturnType> {
  const [indexed, state] = await Promise.all([deps.licenses.get(params.id), deps.views.license(params.id)]);
  if (!indexed || !state) throw new NotFoundError('LICENSE_NOT_FOUND', `No license ${params.id}${state ? ' indexed yet (the indexer has not reached its block)' : ''}`);
  const jobs: LicenseJob[] = [];
  for (const id of indexed.jobs) {
    const j = await deps.views.job(id);
    if (!j) continue;
    jobs.push({
      id,
      budget: j.budget,
      spent: j.spent,
      maxRatePerSecond: j.maxRatePerSecond,
      startedAt: iso(j.startedAt),
      ...(j.endedAt ? { endedAt: iso(j.endedAt) } : {}),
      refunded: j.refunded,
      finalized: j.finalized,
    });
  }
  const budget = BigInt(state.budget);
  const unallocated = BigInt(state.unallocated);
  const spent = jobs.reduce((s, j) => s + BigInt(j.spent), 0n);
  const heldForJobs = jobs.filter((j) => !j.refunded).reduce((s, j) => s + BigInt(j.budget) - BigInt(j.spent), 0n);
  const { jobs: _ids, ...terms } = indexed;
  return {
    ...terms,
    holder: state.holder,
    active: state.active,
    budget: state.budget,
    expiry: iso(state.expiry),
    unallocated: state.unallocated,
    allocated: String(budget - unallocated),
    spent: String(spent),
    remaining: String(unallocated + heldForJobs),
    jobs,
  };
}
