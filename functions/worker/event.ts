import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { postJobEvent } from '../../shared/use-cases/postJobEvent.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs/{jobId}/events`: the lease holder's progress (attesting, running, epoch metrics). */
export const handler = routeHandler(routes.postJobEvent, jobsRuntime, async (req, rt) => ({
  body: await postJobEvent(rt.jobs, { caller: req.caller.address, jobId: req.params.jobId, input: req.body }),
}));
