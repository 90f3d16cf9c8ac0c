/** Issue 8, items 3 and 5, against the embedded stack: health without secrets, text fields, cursors, body limit. */
import { describe, expect, it } from '@jest/globals';
import { signRequest } from '../shared/auth/signedRequest.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, stackInfo } from './support/stack.js';

interface ErrorBody {
  error: { code: string; message: string; details?: { path: (string | number)[]; message: string }[] };
}

/** A signed POST of `body` (a string, sent as is) to `path`. */
async function signedPost(path: string, body: string, wallet = newWallet()): Promise<{ status: number; text: string }> {
  const { chainId, apiUrl } = stackInfo();
  const headers = await signRequest(wallet, { chainId, method: 'POST', path, body });
  const res = await fetch(`${apiUrl}${path}`, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } });
  return { status: res.status, text: await res.text() };
}

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

describe('text fields on the embedded stack', () => {
  it('refuses a listing whose title carries a terminal escape sequence, names the field, and writes nothing', async () => {
    const owner = newWallet();
    const res = await signedPost('/v1/datasets', JSON.stringify(listing(owner.address, { title: 'Sales \u001b]0;pwned\u0007\u001b[2J 2024' })), owner);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text) as ErrorBody;
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.message).toContain('body.title');
    expect(body.error.message).toContain('U+001B');
    expect(body.error.details).toEqual([{ path: ['body', 'title'], message: expect.stringContaining('U+001B') }]);
    expect((await clientFor().listDatasets({ owner: owner.address })).items).toEqual([]);
  });
});
