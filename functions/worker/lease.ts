import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { leaseJob } from '../../shared/use-cases/leaseJob.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `POST /v1/worker/leases` (signed by a worker operator): the next queued job with a fenced lease, or null. */
export const handler = routeHandler(routes.leaseJob, jobsRuntime, async (req, rt) => {
  const result = await leaseJob(rt.jobs, { caller: req.caller.address, request: req.body });
  if (result.assignment) req.log.info('job leased', { jobId: result.assignment.lease.jobId, fencingToken: result.assignment.lease.fencingToken, workerId: req.body.workerId });
  return { body: result };
});
