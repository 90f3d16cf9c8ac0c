import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHttpServer, type RunningHttpServer } from './httpServer.js';
import { ROOT } from './stack.js';

const MiB = 1024 * 1024;
let server: RunningHttpServer;

beforeAll(async () => {
  // No route is reached: an oversized body is answered before any handler (or runtime) is loaded.
  server = await startHttpServer({ root: ROOT, port: 0, maxBodyBytes: 6 * MiB });
});
afterAll(() => server.close());

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('the embedded API server with a body over its limit', () => {
  it('answers a 7 MiB body with 413 BODY_TOO_LARGE as JSON and closes the connection, instead of resetting it', async () => {
    const res = await fetch(`${server.url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(7 * MiB, 0x20) });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await errorOf(res)).toMatchObject({ code: 'BODY_TOO_LARGE', message: expect.stringContaining(String(6 * MiB)) });
  });

  it('answers the same to a streamed body with no content-length once it passes the limit', async () => {
    const chunk = new Uint8Array(MiB).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 7) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${server.url}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('BODY_TOO_LARGE');
  });

  it('keeps serving afterwards', async () => {
    await fetch(`${server.url}/v1/datasets`, { method: 'POST', body: Buffer.alloc(7 * MiB) }).then((r) => r.arrayBuffer());
    const res = await fetch(`${server.url}/v1/nowhere`);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('ROUTE_NOT_FOUND');
  });
});
