import { ForbiddenError, type ConflictError, type DependencyError } from '../errors.js';
import type { Job, JobEventInput } from '../schemas/job.js';
import { checkLease, readJobView, updateJob, type JobDeps } from './jobDeps.js';

export interface PostJobEventParameters {
  caller: string;
  jobId: string;
  input: JobEventInput;
}
export type PostJobEventReturnType = Job;
/** The lease codes, and `JOB_WORKER_NOT_APPROVED` for a `running` event naming a key the chain did not approve. */
export type PostJobEventErrorType = ConflictError | ForbiddenError | DependencyError;

/** Most epoch metrics kept per job (the record is one DynamoDB item, at most 400 KB). */
const MAX_METRICS = 300;

/**
 * Records the lease holder's progress: `attesting`; `running` with the manifests in use (and the attested key,
 * checked against the AttestationRegistry); epoch `metrics`. A cancelled job keeps its status.
 */
export async function postJobEvent(deps: JobDeps, params: PostJobEventParameters): Promise<PostJobEventReturnType> {
  const { event, fencingToken } = params.input;
  let worker: { address: string; mode: 'nitro' | 'confidential-gpu'; evidenceHash: string; attestedAt: string } | undefined;
  if (event.type === 'running' && event.worker) {
    const approval = await deps.chain.approval(params.jobId, event.worker.address);
    if (!approval.approved) throw new ForbiddenError('JOB_WORKER_NOT_APPROVED', `${event.worker.address} is not approved for job ${params.jobId} on the AttestationRegistry`);
    worker = { address: event.worker.address, mode: event.worker.mode, evidenceHash: approval.evidenceHash, attestedAt: deps.now().toISOString() };
  }
  const record = await updateJob(deps, params.jobId, (current) => {
    checkLease(current, params.caller, fencingToken, deps.now());
    const keep = current.status === 'cancelled';
    if (event.type === 'attesting') return keep ? current : { ...current, status: 'attesting' as const };
    if (event.type === 'running') {
      return {
        ...current,
        ...(keep ? {} : { status: current.checkpoints.length > 0 ? ('checkpointed' as const) : ('running' as const) }),
        datasets: current.datasets.map((d) => {
          const manifestCid = event.manifests[d.datasetId];
          return manifestCid ? { ...d, manifestCid } : d;
        }),
        ...(worker ? { worker } : {}),
      };
    }
    const metrics = { epoch: event.epoch, train: event.train, val: event.val, ...(event.epsilon === undefined ? {} : { epsilon: event.epsilon }), at: deps.now().toISOString() };
    return { ...current, metrics: [...current.metrics, metrics].slice(-MAX_METRICS) };
  });
  return readJobView(deps, record);
}
