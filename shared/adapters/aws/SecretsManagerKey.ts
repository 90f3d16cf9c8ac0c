/**
 * Reads a private key from AWS Secrets Manager (`GetSecretValue`), once, at a function's cold start: the relayer
 * consumer's key never sits in a Lambda environment variable or a template.
 */
import { ConfigError } from '../../errors.js';
import type { AwsJsonClient } from './awsJsonClient.js';

/**
 * The 0x-hex private key held by `secretId`: the secret string is the key itself (`0x` + 64 hex) or JSON with a
 * `privateKey` field. Throws `CONFIG_INVALID` (naming the secret and `configVar`, the variable that named it, never
 * echoing the secret) for anything else; the service's refusals (AccessDeniedException, ResourceNotFoundException)
 * surface as `DEPENDENCY_FAILED`.
 *
 * @example
 * ```ts
 * const key = await readPrivateKeySecret(new AwsJsonClient({ service: 'secretsmanager', region, targetPrefix: 'secretsmanager', jsonVersion: '1.1' }), arn, 'PROVENA_RELAYER_SECRET_ARN');
 * ```
 */
export async function readPrivateKeySecret(client: AwsJsonClient, secretId: string, configVar: string): Promise<string> {
  const out = await client.call<{ SecretString?: string }>('GetSecretValue', { SecretId: secretId });
  const raw = out.SecretString?.trim();
  let key: unknown = raw;
  if (raw?.startsWith('{')) {
    try {
      key = (JSON.parse(raw) as { privateKey?: unknown }).privateKey;
    } catch {
      key = undefined;
    }
  }
  if (typeof key !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new ConfigError(`Invalid configuration:\n  ${configVar}=${secretId}: the secret must hold a 0x-prefixed 32-byte hex private key (or JSON {"privateKey": …})`, [
      { path: [configVar], message: 'secret does not hold a private key' },
    ]);
  }
  return key;
}
