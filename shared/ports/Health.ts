/** What one component says about itself for `GET /v1/health`. */
export interface ComponentHealth {
  /** `degraded`: it works but needs attention soon (e.g. a relayer balance under its low-water mark). */
  status: 'ok' | 'degraded' | 'down';
  /** Where it is or what it is (an endpoint, a network name). Never a secret. */
  detail?: string;
  /** Round-trip time of the probe, in milliseconds. */
  latencyMs?: number;
  /** Why it is down or degraded. */
  error?: string;
}

/** Anything that can report its health. Every adapter implements it. */
export interface HealthCheck {
  health(): Promise<ComponentHealth>;
}

/**
 * Runs `probe` and times it, turning a throw into `{status: 'down', error}`.
 *
 * @example
 * ```ts
 * health() { return probeHealth('s3 ' + endpoint, () => this.client.send(new HeadBucketCommand({Bucket}))); }
 * ```
 */
export async function probeHealth(detail: string, probe: () => Promise<unknown>): Promise<ComponentHealth> {
  const t0 = performance.now();
  try {
    await probe();
    return { status: 'ok', detail, latencyMs: Math.round(performance.now() - t0) };
  } catch (err) {
    return { status: 'down', detail, latencyMs: Math.round(performance.now() - t0), error: err instanceof Error ? err.message : String(err) };
  }
}
