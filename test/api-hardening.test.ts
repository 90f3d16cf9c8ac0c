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

describe('pagination cursors on the embedded stack', () => {
  async function listRaw(query: Record<string, string>): Promise<{ status: number; body: { items?: { id: string }[]; nextCursor?: string } & Partial<ErrorBody> }> {
    const res = await fetch(`${stackInfo().apiUrl}/v1/datasets?${new URLSearchParams(query).toString()}`);
    return { status: res.status, body: (await res.json()) as { items?: { id: string }[]; nextCursor?: string } & Partial<ErrorBody> };
  }

  async function ownerWithThreeListings(): Promise<string> {
    const owner = newWallet();
    const api = clientFor(owner);
    for (let i = 0; i < 3; i++) await api.createDataset(listing(owner.address, { title: `Cursor test ${i}` }));
    return owner.address;
  }

  it('follows a cursor it issued, and refuses it with one character changed (400 CURSOR_INVALID, not 502)', async () => {
    const owner = await ownerWithThreeListings();
    const first = await listRaw({ owner, limit: '1' });
    const cursor = first.body.nextCursor as string;
    expect(cursor).toBeDefined();
    const second = await listRaw({ owner, limit: '1', cursor });
    expect(second.status).toBe(200);
    expect(second.body.items?.[0]?.id).not.toBe(first.body.items?.[0]?.id);

    const i = Math.floor(cursor.length / 3);
    const flipped = `${cursor.slice(0, i)}${cursor[i] === 'A' ? 'B' : 'A'}${cursor.slice(i + 1)}`;
    const refused = await listRaw({ owner, limit: '1', cursor: flipped });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('CURSOR_INVALID');
  });

  it('refuses a well-formed storage key forged for another owner (it used to reach DynamoDB and answer 502)', async () => {
    const owner = await ownerWithThreeListings();
    const forged = Buffer.from(JSON.stringify({ i: 'byOwner', k: { id: { S: 'ds_00000000000000000000000000' }, owner: { S: '0x0000000000000000000000000000000000000001' }, createdAtId: { S: 'x' } } })).toString('base64url');
    const refused = await listRaw({ owner, limit: '1', cursor: forged });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('CURSOR_INVALID');
  });

  it('refuses a cursor issued for another query (another index)', async () => {
    const owner = await ownerWithThreeListings();
    const byOwner = (await listRaw({ owner, limit: '1' })).body.nextCursor as string;
    const refused = await listRaw({ limit: '1', cursor: byOwner });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('CURSOR_INVALID');
  });
});
