/**
 * Removes what may be a secret from text that leaves the process (`/v1/health`, error messages, log lines):
 * provider URLs often carry an API key in their path, query or user info, so a URL becomes its scheme, host and
 * port only; long hex strings (private keys, HMAC keys) are elided.
 *
 * @example
 * ```ts
 * redactSecrets('could not reach https://eth.example.io/v2/KEY?x=1') // => 'could not reach https://eth.example.io/…'
 * ```
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*):\/\/([^\s/'"?#@]*@)?([^\s/'"?#:]+)(:\d+)?[^\s'"]*/gi, (_m, scheme: string, _cred, host: string, port: string | undefined) => `${scheme}://${host}${port ?? ''}/…`)
    .replace(/(0x)?[0-9a-fA-F]{64,}/g, (_m, prefix: string | undefined) => `${prefix ?? ''}…`);
}
