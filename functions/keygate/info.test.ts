/**
 * The cloud configuration (PROVENA_KEY_GATE=kms) is checked at the handler's edge: a KMS gate without its keys
 * fails the config with CONFIG_INVALID naming each missing variable, instead of inventing a key or starting
 * without one. Nothing here talks to a network.
 */
import { describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { REQUIRED_CONTRACTS } from '../../shared/configFields.js';

function event(): APIGatewayProxyEventV2 {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'GET /v1/keygate',
    rawPath: '/v1/keygate',
    rawQueryString: '',
    headers: { host: 'api.example.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'GET', path: '/v1/keygate', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: 'GET /v1/keygate',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

describe('GET /v1/keygate with a cloud key gate', () => {
  it('answers CONFIG_INVALID (500) naming the KMS key variables when they are missing, rather than a key', async () => {
    Object.assign(process.env, {
      PROVENA_LOG_LEVEL: 'SILENT',
      PROVENA_KEY_GATE: 'kms',
      PROVENA_CONTENT_STORE: 'kubo',
      PROVENA_KUBO_URL: 'http://127.0.0.1:9',
      PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:9',
      PROVENA_CHAIN_ID: '8453',
      PROVENA_CURSOR_SECRET: 'ab'.repeat(32),
      PROVENA_WORKER_OPERATORS: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      PROVENA_CONTRACTS: JSON.stringify(Object.fromEntries(REQUIRED_CONTRACTS.map((name, i) => [name, `0x${String(i + 1).padStart(40, '0')}`]))),
    });
    const { handler } = await import('./info.js');
    const res = await handler(event());
    expect(res.statusCode).toBe(500);
    const body = JSON.parse(res.body as string) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('CONFIG_INVALID');
    expect(body.error.message).toContain('PROVENA_KEY_GATE_KEY_ARN');
    expect(body.error.message).not.toMatch(/-----BEGIN|privateKey/);
  });
});
