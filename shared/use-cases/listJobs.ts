import { openCursor, sealCursor } from '../crypto/pageCursor.js';
import type { DependencyError, ProvenaError } from '../errors.js';
import type { JobListQuery, JobPage } from '../schemas/job.js';
import { readJobView, type JobDeps } from './jobDeps.js';

export type ListJobsParameters = JobListQuery;
export type ListJobsReturnType = JobPage;
/** `CURSOR_INVALID`, `CHAIN_UNAVAILABLE`. */
export type ListJobsErrorType = ProvenaError | DependencyError;

/** A holder's jobs, newest first, each merged with the chain's views now. The cursor is sealed (HMAC) to the holder. */
export async function listJobs(deps: JobDeps, params: ListJobsParameters): Promise<ListJobsReturnType> {
  const scope = JSON.stringify(['jobs', params.holder]);
  const page = await deps.jobs.listByHolder(params.holder, { limit: params.limit, ...(params.cursor === undefined ? {} : { cursor: openCursor(deps.cursorKey, scope, params.cursor) }) });
  const items = await Promise.all(page.items.map((r) => readJobView(deps, r)));
  return page.nextCursor === undefined ? { items } : { items, nextCursor: sealCursor(deps.cursorKey, scope, page.nextCursor) };
}
