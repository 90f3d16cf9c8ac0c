/**
 * What the unit tests of a Lambda handler's composition share: an API Gateway v2 event for a route, and the
 * configuration of a cloud composition whose endpoints answer nothing (the handler is built, no network is reached).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { REQUIRED_CONTRACTS } from '../../shared/configFields.js';

/** An API Gateway HTTP API (v2) event for `method path`, with no body and no query. */
export function apiEvent(method: string, path: string): APIGatewayProxyEventV2 {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

/**
 * PROVENA_* settings of a cloud composition on chain `chainId` whose IPFS and chain endpoints are closed ports and
 * whose contracts are placeholder addresses; `overrides` go on top (the key gate's settings, for one).
 */
export function unreachableCloudEnv(chainId: number, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PROVENA_LOG_LEVEL: 'SILENT',
    PROVENA_CONTENT_STORE: 'kubo',
    PROVENA_KUBO_URL: 'http://127.0.0.1:9',
    PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:9',
    PROVENA_CHAIN_ID: String(chainId),
    PROVENA_CURSOR_SECRET: 'ab'.repeat(32),
    PROVENA_CONTRACTS: JSON.stringify(Object.fromEntries(REQUIRED_CONTRACTS.map((name, i) => [name, `0x${String(i + 1).padStart(40, '0')}`]))),
    ...overrides,
  };
}

/**
 * {@link unreachableCloudEnv} with the Lit key gate on `network`, its inbox on the fake KMS (`kms`, reached through
 * the real SDK client with fake credentials), and `overrides` on top.
 */
export function litGateEnv(kms: { endpoint: string; createAgreementKey(): string }, network: string, overrides: Record<string, string> = {}): Record<string, string> {
  return unreachableCloudEnv(84532, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDFAKEKMS',
    AWS_SECRET_ACCESS_KEY: 'fake-kms-secret',
    PROVENA_KEY_GATE: 'lit',
    PROVENA_LIT_NETWORK: network,
    PROVENA_KEY_GATE_INBOX_KEY_ARN: kms.createAgreementKey(),
    PROVENA_KMS_ENDPOINT: kms.endpoint,
    ...overrides,
  });
}
