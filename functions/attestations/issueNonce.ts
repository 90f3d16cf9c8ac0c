import { routeHandler } from '../../shared/http/handler.js';
import { attestationRoutes as routes } from '../../shared/http/routes/attestations.js';
import { issueAttestationNonce } from '../../shared/use-cases/issueAttestationNonce.js';
import { attestationRuntime } from '../_lib/attestation.js';

/** `POST /v1/jobs/{jobId}/attestation-nonces` (public): a fresh single-use nonce, only for an open job. */
export const handler = routeHandler(routes.issueAttestationNonce, attestationRuntime, async (req, rt) => {
  const issued = await issueAttestationNonce(rt.attestation, { jobId: req.params.jobId });
  req.log.info('attestation nonce issued', { jobId: issued.jobId, expiresAt: issued.expiresAt });
  return { body: issued };
});
