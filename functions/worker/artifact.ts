import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { createArtifactUpload } from '../../shared/use-cases/createArtifactUpload.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs/{jobId}/artifacts`: a presigned PUT for a checkpoint or the model (lease holder only). */
export const handler = routeHandler(routes.createArtifactUpload, jobsRuntime, async (req, rt) => ({
  body: await createArtifactUpload(rt.jobs, { caller: req.caller.address, jobId: req.params.jobId, input: req.body }),
}));
