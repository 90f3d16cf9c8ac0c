import { ForbiddenError, type ConflictError, type DependencyError } from '../errors.js';
import type { ReceivedJobMessage } from '../ports/JobQueue.js';
import type { JobRecord } from '../ports/JobRepo.js';
import type { LeaseRequest, LeaseResult } from '../schemas/job.js';
import { endedOnChain, FINISHED, quietly, readJobView, type JobDeps } from './jobDeps.js';
import { cancelledSettlement, privacyBudgets, settleCancelled } from './privacyBudget.js';
import { requeueStaleJobs } from './requeueStaleJobs.js';

export interface LeaseJobParameters {
  /** The signed request's caller: an operator of PROVENA_WORKER_OPERATORS. */
  caller: string;
  request: LeaseRequest;
}
export type LeaseJobReturnType = LeaseResult;
/** `WORKER_NOT_OPERATOR`, `DEPENDENCY_FAILED`, `CHAIN_UNAVAILABLE`. */
export type LeaseJobErrorType = ForbiddenError | ConflictError | DependencyError;

/** How often a worker should renew: a third of the lease, so one lost heartbeat does not lose it. */
export const heartbeatSeconds = (leaseSeconds: number) => Math.max(1, Math.floor(leaseSeconds / 3));

/** How long a job is hidden from other receivers after a worker without a mode it needs saw it. */
const MODE_MISMATCH_HIDE_SECONDS = 2;

type Outcome = { taken: JobRecord } | { skip: true };

/** Ends a cancelled job's expired lease and settles its reservations, in one conditional write (once). */
async function settleIfCancelled(deps: JobDeps, record: JobRecord, now: Date): Promise<void> {
  const note = cancelledSettlement(record, now);
  if (!note) return;
  const { lease: _expired, ...rest } = record;
  if (await deps.jobs.update({ ...rest, version: record.version + 1, updatedAt: now.toISOString(), privacySettled: note }, record.version)) {
    await settleCancelled(deps, record, note);
  }
}

/** What one received message means: take its job, or drop / re-hide the message and look at the next. */
async function consider(deps: JobDeps, message: ReceivedJobMessage, caller: string, request: LeaseRequest): Promise<Outcome> {
  const record = await deps.jobs.get(message.body.jobId);
  const now = deps.now();
  if (record?.status === 'cancelled' && (!record.lease || Date.parse(record.lease.expiresAt) <= now.getTime())) {
    // Cancelled while leased, and its worker never released it (its lease ran out): settle its reservations now.
    await settleIfCancelled(deps, record, now);
  }
  if (!record || FINISHED.includes(record.status) || record.status === 'cancelled') {
    await quietly(() => deps.queue.delete(message.receiptHandle));
    return { skip: true };
  }
  const lease = record.lease;
  if (lease && Date.parse(lease.expiresAt) > now.getTime()) {
    if (message.messageId !== lease.messageId) {
      // A duplicate (a repair sweep's, or SQS's at-least-once delivery): the job is held; one message is enough.
      await quietly(() => deps.queue.delete(message.receiptHandle));
      return { skip: true };
    }
    // The held job's own message reappeared early: hide it for the rest of the lease and let the holder's calls use
    // this receive's handle (the old one no longer works).
    const remaining = Math.max(1, Math.ceil((Date.parse(lease.expiresAt) - now.getTime()) / 1000));
    await quietly(() => deps.queue.changeVisibility(message.receiptHandle, remaining));
    await deps.jobs.update({ ...record, version: record.version + 1, lease: { ...lease, receiptHandle: message.receiptHandle } }, record.version);
    return { skip: true };
  }
  if (!record.datasets.every((d) => !d.workerModes || d.workerModes.some((m) => request.modes.includes(m)))) {
    // Not this worker's job (a listing allows only modes it cannot attest in): leave it to another worker soon.
    await quietly(() => deps.queue.changeVisibility(message.receiptHandle, MODE_MISMATCH_HIDE_SECONDS));
    return { skip: true };
  }
  if (endedOnChain(await deps.chain.job(record.jobId))) {
    // Cancelled (or refunded) with no lease held: never leased, or given back (interrupted) before any heartbeat saw
    // the cancel. Its reservations are settled in this write (once): all released when it never trained.
    const note = cancelledSettlement(record, now);
    const { lease: _expired, ...rest } = record;
    if (await deps.jobs.update({ ...rest, version: record.version + 1, status: 'cancelled', updatedAt: now.toISOString(), ...(note ? { privacySettled: note } : {}) }, record.version)) {
      if (note) await settleCancelled(deps, record, note);
      await quietly(() => deps.queue.delete(message.receiptHandle));
    }
    return { skip: true };
  }
  const fencingToken = record.fencingToken + 1;
  const taken: JobRecord = {
    ...record,
    version: record.version + 1,
    updatedAt: now.toISOString(),
    status: 'attesting',
    fencingToken,
    attempts: record.attempts + 1,
    lease: {
      fencingToken,
      operator: caller,
      workerId: request.workerId,
      expiresAt: new Date(now.getTime() + deps.leaseSeconds * 1000).toISOString(),
      messageId: message.messageId,
      receiptHandle: message.receiptHandle,
    },
  };
  // Another lease raced us to this job (through a duplicate message): leave this message to reappear.
  if (!(await deps.jobs.update(taken, record.version))) return { skip: true };
  return { taken };
}

/**
 * Takes the next claimable job for an allowlisted operator: receives a queue message (long poll up to
 * `waitSeconds`), and takes the job's lease by a conditional write with fencing token = previous + 1 and status
 * `attesting`; the message stays hidden for the lease's length (heartbeats extend it). Messages of finished or
 * cancelled jobs are deleted, duplicates of held jobs dropped, and a job whose listings allow none of the worker's
 * modes (`workerModes`) is left to another worker. Answers the job and the last committed checkpoint
 * (with a presigned GET) to resume from, the epsilon it may spend per dataset with a privacy policy
 * (`privacyBudgets`: its reservation), or `{ assignment: null }` when nothing came.
 */
export async function leaseJob(deps: JobDeps, params: LeaseJobParameters): Promise<LeaseJobReturnType> {
  const { caller, request } = params;
  if (!deps.operators.includes(caller)) throw new ForbiddenError('WORKER_NOT_OPERATOR', `${caller} is not a worker operator of this deployment (PROVENA_WORKER_OPERATORS)`);
  await requeueStaleJobs(deps, { olderThanSeconds: deps.leaseSeconds });
  const deadline = Date.now() + request.waitSeconds * 1000;
  for (;;) {
    const waitSeconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const message = await deps.queue.receive({ waitSeconds, visibilitySeconds: deps.leaseSeconds });
    if (!message) return { assignment: null };
    const outcome = await consider(deps, message, caller, request);
    if ('taken' in outcome) {
      const record = outcome.taken;
      const lease = record.lease as NonNullable<JobRecord['lease']>;
      const last = record.checkpoints.at(-1);
      const budgets = privacyBudgets(record);
      return {
        assignment: {
          lease: { jobId: record.jobId, fencingToken: lease.fencingToken, expiresAt: lease.expiresAt, heartbeatSeconds: heartbeatSeconds(deps.leaseSeconds) },
          job: await readJobView(deps, record),
          ...(last ? { resumeFrom: { ...last, downloadUrl: await deps.blobs.presignGet(last.objectKey, deps.urlTtlSeconds) } } : {}),
          ...(budgets ? { privacyBudgets: budgets } : {}),
        },
      };
    }
    if (Date.now() >= deadline) return { assignment: null };
  }
}
