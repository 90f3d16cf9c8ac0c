/** Issue 8, items 3 and 5, against the embedded stack: health without secrets, text fields, cursors, body limit. */
import { describe, expect, it } from '@jest/globals';
import { stackInfo } from './support/stack.js';

describe('GET /v1/health on the embedded stack', () => {
  it('shows neither the RPC URL nor any 32-byte hex key, and probes the chain', async () => {
    const { apiUrl, rpcUrl } = stackInfo();
    const res = await fetch(`${apiUrl}/v1/health`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(rpcUrl);
    expect(text).not.toMatch(/[0-9a-fA-F]{64}/);
    const body = JSON.parse(text) as { components: Record<string, { status: string; latencyMs?: number }> };
    expect(body.components.chain).toMatchObject({ status: 'ok', latencyMs: expect.any(Number) });
  });
});
