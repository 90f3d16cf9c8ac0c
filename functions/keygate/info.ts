import { routeHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/http/routes.js';
import { getRuntime, notServed } from '../_lib/runtime.js';

/** `GET /v1/keygate`: the gate's backend and the public key owners seal data keys to. */
export const handler = routeHandler(routes.getKeyGate, getRuntime, async (_req, rt) => {
  // No inbox key to hand out for a gate the API does not serve yet: say so rather than answer a key of '0x'.
  if (rt.gate.backend !== 'embedded') throw notServed(rt.gate.backend);
  return { body: { backend: rt.gate.backend, publicKey: rt.inbox.publicKey, scheme: 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1' as const } };
});
