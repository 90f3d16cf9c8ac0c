import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { heartbeatLease } from '../../shared/use-cases/heartbeatLease.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs/{jobId}/lease/heartbeat`: renews the lease; `cancel` when the lab ended the job on chain. */
export const handler = routeHandler(routes.heartbeatLease, jobsRuntime, async (req, rt) => ({
  body: await heartbeatLease(rt.jobs, { caller: req.caller.address, jobId: req.params.jobId, fencingToken: req.body.fencingToken }),
}));
