import { describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { EvmChain } from '../../shared/adapters/chain/EvmChain.js';
import type { VerifyDeps } from '../../shared/auth/signedRequest.js';
import type { HealthCheck } from '../../shared/ports/Health.js';
import { HealthReport } from '../../shared/schemas/health.js';
import { apiEvent } from '../../test/support/lambdaEvent.js';
import { healthHandler, type HealthRuntime } from './get.js';

const event = apiEvent('GET', '/v1/health');

function runtimeWith(components: Record<string, HealthCheck>, logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' })): () => Promise<HealthRuntime> {
  const rt: HealthRuntime = {
    logger,
    maxBodyBytes: 1024 * 1024,
    // A public route: the signed-request check is never reached.
    verify: {} as VerifyDeps,
    config: { PROVENA_CHAIN_ID: 31337, PROVENA_CONTRACTS: {} },
    components,
  };
  return () => Promise.resolve(rt);
}

const ok: HealthCheck = { health: () => Promise.resolve({ status: 'ok', detail: 'dynamodb table provena-datasets' }) };

describe('GET /v1/health', () => {
  it('answers 503 with the chain down when its RPC endpoint does not answer, and prints no part of its URL but the host', async () => {
    const chain = new EvmChain('http://127.0.0.1:1/v2/SECRETKEY123', 31337);
    const res = await healthHandler(runtimeWith({ datasets: ok, chain }))(event);
    expect(res.statusCode).toBe(503);
    const body = HealthReport.parse(JSON.parse(res.body as string));
    expect(body.components.chain?.status).toBe('down');
    expect(body.components.datasets?.status).toBe('ok');
    expect(res.body).not.toContain('SECRETKEY123');
    expect(res.body).not.toContain('/v2');
  });

  it('reports a component whose probe throws as down instead of failing the whole answer', async () => {
    const broken: HealthCheck = { health: () => Promise.reject(new Error('socket hang up at https://rpc.example.org/v3/SECRETKEY123')) };
    const res = await healthHandler(runtimeWith({ datasets: ok, ipfs: broken }))(event);
    expect(res.statusCode).toBe(503);
    const body = HealthReport.parse(JSON.parse(res.body as string));
    expect(body.components.ipfs).toMatchObject({ status: 'down', error: expect.stringContaining('rpc.example.org') });
    expect(res.body).not.toContain('SECRETKEY123');
  });

  it('redacts a URL with a key or a private key that a component puts in its detail', async () => {
    const key = `0x${'ab'.repeat(32)}`;
    const leaky: HealthCheck = { health: () => Promise.resolve({ status: 'degraded', detail: `kubo https://kubo.example.org:5001/api?token=SECRETKEY123 signer ${key}` }) };
    const res = await healthHandler(runtimeWith({ ipfs: leaky }))(event);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toMatchObject({ status: 'degraded' });
    expect(res.body).not.toContain('SECRETKEY123');
    expect(res.body).not.toContain(key.slice(2));
  });

  it('answers 200 ok when every component is ok', async () => {
    const res = await healthHandler(runtimeWith({ datasets: ok }))(event);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toMatchObject({ status: 'ok', chainId: 31337 });
  });
});

describe('the request log of a route Lambda', () => {
  it("writes one Powertools JSON line per request that carries the Lambda's request id, the route and the status", async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const logger = new Logger({ serviceName: 'provena-api', logLevel: 'INFO' });
      const res = await healthHandler(runtimeWith({ datasets: ok }, logger))(event, { awsRequestId: 'aws-req-9' } as Context);
      expect(res.statusCode).toBe(200);
    } finally {
      write.mockRestore();
    }
    const logged = lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toEqual([expect.objectContaining({ level: 'INFO', message: 'request', service: 'provena-api', requestId: 'aws-req-9', route: 'getHealth', status: 200 })]);
  });
});
