import type { ComponentHealth } from '../ports/Health.js';

/**
 * Removes what may be a secret from text shown by `/v1/health` or an error: URLs (provider URLs often carry an
 * API key in their path or query) become their scheme and host only, and long hex strings (keys) are elided.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*):\/\/([^\s/'"?#@]*@)?([^\s/'"?#:]+)(:\d+)?[^\s'"]*/gi, (_m, scheme: string, _cred, host: string, port: string | undefined) => `${scheme}://${host}${port ?? ''}/…`)
    .replace(/0x[0-9a-fA-F]{64,}/g, '0x…');
}

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
