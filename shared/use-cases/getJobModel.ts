import { ConflictError, type DependencyError, type NotFoundError } from '../errors.js';
import type { JobModelDownload } from '../schemas/job.js';
import { requireJob, type JobDeps } from './jobDeps.js';

export interface GetJobModelParameters {
  jobId: string;
}
export type GetJobModelReturnType = JobModelDownload;
/** `JOB_NOT_FOUND`, `JOB_MODEL_NOT_READY`. */
export type GetJobModelErrorType = NotFoundError | ConflictError | DependencyError;

/** A finished job's encrypted model: a presigned GET, the data key sealed to the lab's model key, the receipt CID. */
export async function getJobModel(deps: JobDeps, params: GetJobModelParameters): Promise<GetJobModelReturnType> {
  const record = await requireJob(deps, params.jobId);
  if (record.status !== 'done' || !record.model || !record.sealedKey || !record.receipt) throw new ConflictError('JOB_MODEL_NOT_READY', `Job ${params.jobId} is ${record.status}: its model is delivered once it is done`);
  return {
    jobId: record.jobId,
    model: record.model,
    sealedKey: record.sealedKey,
    downloadUrl: await deps.blobs.presignGet(record.model.objectKey, deps.urlTtlSeconds),
    receiptCid: record.receipt.cid,
  };
}
