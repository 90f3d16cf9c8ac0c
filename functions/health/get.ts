import type { ApiConfig } from '../../shared/config.js';
import { routeHandler, type HttpRuntime } from '../../shared/http/handler.js';
import { systemRoutes as routes } from '../../shared/http/routes/system.js';
import type { HealthCheck } from '../../shared/ports/Health.js';
import { checkHealth } from '../../shared/use-cases/checkHealth.js';
import { healthRuntime } from '../_lib/health.js';

/** What the health route reads from the runtime. */
export interface HealthRuntime extends HttpRuntime {
  config: Pick<ApiConfig, 'PROVENA_CHAIN_ID' | 'PROVENA_CONTRACTS'>;
  components: Record<string, HealthCheck>;
}

/** `GET /v1/health` over `runtime`: probes every component for real; 200 when none is down (`degraded` when one is), 503 otherwise. */
export function healthHandler(runtime: () => Promise<HealthRuntime>) {
  return routeHandler(routes.getHealth, runtime, async (_req, rt) => {
    const { status, components } = await checkHealth({ components: rt.components });
    // A degraded component (a relayer low on funds) still serves: 200 with status `degraded`; a down one is a 503.
    return {
      status: status === 'down' ? 503 : 200,
      body: { status: status === 'ok' ? ('ok' as const) : ('degraded' as const), chainId: rt.config.PROVENA_CHAIN_ID, contracts: rt.config.PROVENA_CONTRACTS, components },
    };
  });
}

/** `GET /v1/health`. */
export const handler = healthHandler(healthRuntime);
