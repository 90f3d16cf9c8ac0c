import { httpHandler } from '../../shared/http/handler.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/health`: probes every component; 200 when none is down (`degraded` when one is), 503 otherwise, with each one's status. */
export const handler = httpHandler({ route: { name: 'getHealth', auth: 'public' }, runtime: getRuntime }, async () => {
  const rt = await getRuntime();
  const entries = await Promise.all(Object.entries(rt.components).map(async ([name, c]) => [name, await c.health()] as const));
  const components = Object.fromEntries(entries);
  // A degraded component (a relayer low on funds) still serves: 200 with status `degraded`; a down one is a 503.
  const down = entries.some(([, h]) => h.status === 'down');
  const ok = entries.every(([, h]) => h.status === 'ok');
  return {
    status: down ? 503 : 200,
    body: { status: ok ? 'ok' : 'degraded', chainId: rt.config.PROVENA_CHAIN_ID, contracts: rt.config.PROVENA_CONTRACTS, components },
  };
});
