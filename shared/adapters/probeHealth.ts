import { redactSecrets } from '../encoding/redactSecrets.js';
import type { ComponentHealth } from '../ports/Health.js';

/**
 * Runs `probe` (which must contact the dependency for real) and times it, turning a throw into
 * `{status: 'down', error}` with secrets redacted.
 *
 * @example
 * ```ts
 * health() { return probeHealth('s3 bucket data', () => this.client.send(new HeadBucketCommand({Bucket}))); }
 * ```
 */
export async function probeHealth(detail: string, probe: () => Promise<unknown>): Promise<ComponentHealth> {
  const t0 = performance.now();
  try {
    await probe();
    return { status: 'ok', detail: redactSecrets(detail), latencyMs: Math.round(performance.now() - t0) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { status: 'down', detail: redactSecrets(detail), latencyMs: Math.round(performance.now() - t0), error: redactSecrets(message).slice(0, 300) };
  }
}
