import { routeHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/http/routes.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/health`: probes every component for real; 200 when all are up, 503 otherwise, with each one's status. */
export const handler = routeHandler(routes.getHealth, getRuntime, async (_req, rt) => {
  const entries = await Promise.all(Object.entries(rt.components).map(async ([name, c]) => [name, await c.health()] as const));
  const ok = entries.every(([, h]) => h.status === 'ok');
  return {
    status: ok ? 200 : 503,
    body: { status: ok ? ('ok' as const) : ('degraded' as const), chainId: rt.config.PROVENA_CHAIN_ID, contracts: rt.config.PROVENA_CONTRACTS, components: Object.fromEntries(entries) },
  };
});
