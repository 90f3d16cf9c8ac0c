import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { releaseLease } from '../../shared/use-cases/releaseLease.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs/{jobId}/lease/release`: gives the job back (interrupted) or fails it. */
export const handler = routeHandler(routes.releaseLease, jobsRuntime, async (req, rt) => {
  const job = await releaseLease(rt.jobs, { caller: req.caller.address, jobId: req.params.jobId, input: req.body });
  req.log.info('lease released', { jobId: job.id, reason: req.body.reason, status: job.status, ...(req.body.error ? { code: req.body.error.code } : {}) });
  return { body: job };
});
