import { redactSecrets } from '../encoding/redactSecrets.js';
import type { ComponentHealth, HealthCheck } from '../ports/Health.js';

export interface CheckHealthParameters {
  /** The components to probe, by the name `/v1/health` shows. */
  components: Record<string, HealthCheck>;
}

export interface CheckHealthReturnType {
  /** `ok` when every component is; `down` when one is down; `degraded` otherwise. */
  status: 'ok' | 'degraded' | 'down';
  components: Record<string, ComponentHealth>;
}

/** Never throws: a probe that throws is reported as its component being down. */
export type CheckHealthErrorType = never;

/**
 * Probes every component at once (each probe contacts its dependency for real). What each reports is redacted
 * again here, so an adapter that forgets cannot print a URL with a key or a private key.
 *
 * @example
 * ```ts
 * const { status, components } = await checkHealth({ components: rt.components });
 * ```
 */
export async function checkHealth(params: CheckHealthParameters): Promise<CheckHealthReturnType> {
  const entries = await Promise.all(Object.entries(params.components).map(async ([name, c]) => [name, redacted(await probe(c))] as const));
  const down = entries.some(([, h]) => h.status === 'down');
  const ok = entries.every(([, h]) => h.status === 'ok');
  return { status: down ? 'down' : ok ? 'ok' : 'degraded', components: Object.fromEntries(entries) };
}

async function probe(c: HealthCheck): Promise<ComponentHealth> {
  try {
    return await c.health();
  } catch (err) {
    return { status: 'down', error: `the probe failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function redacted(h: ComponentHealth): ComponentHealth {
  return {
    ...h,
    ...(h.detail === undefined ? {} : { detail: redactSecrets(h.detail) }),
    ...(h.error === undefined ? {} : { error: redactSecrets(h.error).slice(0, 300) }),
  };
}
