import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { commitCheckpoint } from '../../shared/use-cases/commitCheckpoint.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs/{jobId}/checkpoints`: commits an uploaded checkpoint (size checked). */
export const handler = routeHandler(routes.commitCheckpoint, jobsRuntime, async (req, rt) => {
  const checkpoint = await commitCheckpoint(rt.jobs, { caller: req.caller.address, jobId: req.params.jobId, input: req.body });
  req.log.info('checkpoint committed', { jobId: req.params.jobId, objectKey: checkpoint.objectKey, bytes: checkpoint.bytes, fencingToken: checkpoint.fencingToken });
  return { body: checkpoint };
});
