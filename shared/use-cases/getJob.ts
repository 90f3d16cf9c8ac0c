import type { DependencyError, NotFoundError } from '../errors.js';
import type { Job } from '../schemas/job.js';
import { readJobView, requireJob, type JobDeps } from './jobDeps.js';

export interface GetJobParameters {
  jobId: string;
}
export type GetJobReturnType = Job;
/** `JOB_NOT_FOUND`, `CHAIN_UNAVAILABLE`. */
export type GetJobErrorType = NotFoundError | DependencyError;

/** One job: the record merged with the chain's views now (status, budget, spent, settled samples, times). */
export async function getJob(deps: JobDeps, params: GetJobParameters): Promise<GetJobReturnType> {
  return readJobView(deps, await requireJob(deps, params.jobId));
}
