import { routeHandler } from '../../shared/http/handler.js';
import { uploadRoutes as routes } from '../../shared/http/routes/uploads.js';
import { keyGateRuntime } from '../_lib/keys.js';

/** `GET /v1/keygate`: the gate's backend and the public key owners seal data keys to. */
export const handler = routeHandler(routes.getKeyGate, keyGateRuntime, async (_req, rt) => {
  return { body: { backend: rt.gate.backend, publicKey: await rt.inbox.publicKey(), scheme: rt.inbox.scheme } };
});
