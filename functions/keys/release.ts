import { routeHandler } from '../../shared/http/handler.js';
import { uploadRoutes as routes } from '../../shared/http/routes/uploads.js';
import { releaseKey } from '../../shared/use-cases/releaseKey.js';
import { keyReleaseRuntime } from '../_lib/keys.js';

/**
 * `POST /v1/datasets/{id}/keys`: the key gate. Authenticated by the EIP-712 key-request proof in the body
 * (signed by the requester, single-use nonce, ±5 min), not by request headers: workers call it from enclaves.
 */
export const handler = routeHandler(routes.releaseKey, keyReleaseRuntime, async (req, rt) => {
  const result = await releaseKey(rt.keyRelease, { datasetId: req.params.id, input: req.body });
  req.log.info('data key released', { datasetId: req.params.id, version: result.manifest.version, grant: req.body.grant, requester: req.body.requester.address });
  return { body: result };
});
