import { routeHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/http/routes.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/health`: probes every component for real; 200 when none is down (`degraded` when one is), 503 otherwise. */
export const handler = routeHandler(routes.getHealth, getRuntime, async (_req, rt) => {
  const entries = await Promise.all(Object.entries(rt.components).map(async ([name, c]) => [name, await c.health()] as const));
  // A degraded component (a relayer low on funds) still serves: 200 with status `degraded`; a down one is a 503.
  const down = entries.some(([, h]) => h.status === 'down');
  const ok = entries.every(([, h]) => h.status === 'ok');
  return {
    status: down ? 503 : 200,
    body: { status: ok ? ('ok' as const) : ('degraded' as const), chainId: rt.config.PROVENA_CHAIN_ID, contracts: rt.config.PROVENA_CONTRACTS, components: Object.fromEntries(entries) },
  };
});
