import { routeHandler } from '../../shared/http/handler.js';
import { attestationRoutes as routes } from '../../shared/http/routes/attestations.js';
import { attestWorker } from '../../shared/use-cases/attestWorker.js';
import { attestationRuntime } from '../_lib/attestation.js';

/**
 * `POST /v1/jobs/{jobId}/attestations` (public, authenticated by the evidence): verifies the worker's evidence
 * against every dataset's policy and approves its key on the AttestationRegistry. Refusals are logged by code.
 */
export const handler = routeHandler(routes.attestWorker, attestationRuntime, async (req, rt) => {
  const result = await attestWorker(rt.attestation, { jobId: req.params.jobId, input: req.body });
  req.log.info('worker approved', { jobId: result.jobId, worker: result.worker, mode: result.mode, evidenceHash: result.evidenceHash, txHash: result.txHash });
  return { body: result };
});
