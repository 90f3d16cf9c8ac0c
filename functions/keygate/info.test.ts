/**
 * The cloud configuration (PROVENA_KEY_GATE=kms) is checked at the handler's edge: a KMS gate without its keys
 * fails the config with CONFIG_INVALID naming each missing variable, instead of inventing a key or starting
 * without one. Nothing here talks to a network.
 */
import { describe, expect, it } from '@jest/globals';
import { apiEvent, unreachableCloudEnv } from '../../test/support/lambdaEvent.js';

describe('GET /v1/keygate with a cloud key gate', () => {
  it('answers CONFIG_INVALID (500) naming the KMS key variables when they are missing, rather than a key', async () => {
    Object.assign(process.env, unreachableCloudEnv(8453, { PROVENA_KEY_GATE: 'kms', PROVENA_WORKER_OPERATORS: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' }));
    const { handler } = await import('./info.js');
    const res = await handler(apiEvent('GET', '/v1/keygate'));
    expect(res.statusCode).toBe(500);
    const body = JSON.parse(res.body as string) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('CONFIG_INVALID');
    expect(body.error.message).toContain('PROVENA_KEY_GATE_KEY_ARN');
    expect(body.error.message).not.toMatch(/-----BEGIN|privateKey/);
  });
});
