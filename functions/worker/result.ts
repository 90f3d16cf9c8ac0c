import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { submitJobResult } from '../../shared/use-cases/submitJobResult.js';
import { jobsContentRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs/{jobId}/result`: stores the receipt on IPFS, relays finalizeJob, records the sealed model. */
export const handler = routeHandler(routes.submitJobResult, jobsContentRuntime, async (req, rt) => {
  const result = await submitJobResult(rt.jobs, { caller: req.caller.address, jobId: req.params.jobId, input: req.body });
  req.log.info('job finished', { jobId: req.params.jobId, txHash: result.txHash, receiptCid: result.receiptCid, paid: result.paid });
  return { body: result };
});
