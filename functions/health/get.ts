import { httpHandler } from '../../shared/http/handler.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/health`: probes every component; 200 when all are up, 503 otherwise, with each one's status. */
export const handler = httpHandler({ route: { name: 'getHealth', auth: 'public' }, runtime: getRuntime }, async () => {
  const rt = await getRuntime();
  const entries = await Promise.all(Object.entries(rt.components).map(async ([name, c]) => [name, await c.health()] as const));
  const components = Object.fromEntries(entries);
  const ok = entries.every(([, h]) => h.status === 'ok');
  return {
    status: ok ? 200 : 503,
    body: { status: ok ? 'ok' : 'degraded', chainId: rt.config.PROVENA_CHAIN_ID, contracts: rt.config.PROVENA_CONTRACTS, components },
  };
});
