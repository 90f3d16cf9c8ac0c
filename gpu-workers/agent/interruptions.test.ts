import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { pollSpotInterruptions, type InterruptionNotice } from './interruptions.js';

/** A loopback IMDSv2: tokens by PUT, instance-action 404 until `schedule` is set, 401 without a valid token. */
function fakeImds(): { server: Server; url: () => string; schedule: (body: object | null) => void; requests: string[] } {
  let action: object | null = null;
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.writeHead(200).end('tok-1');
    }
    if (req.method === 'GET' && req.url === '/latest/meta-data/spot/instance-action') {
      if (req.headers['x-aws-ec2-metadata-token'] !== 'tok-1') return void res.writeHead(401).end();
      if (!action) return void res.writeHead(404).end('Not Found');
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify(action));
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  return { server, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`, schedule: (b) => (action = b), requests };
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('spot interruption poller (IMDSv2)', () => {
  it('stays quiet while IMDS answers 404, and reports one notice with its deadline once one is scheduled', async () => {
    const imds = fakeImds();
    servers.push(imds.server);
    await new Promise((r) => imds.server.once('listening', r));
    const notices: InterruptionNotice[] = [];

    const poller = pollSpotInterruptions({ baseUrl: imds.url(), intervalMs: 20, onNotice: (n) => notices.push(n) });
    await until(() => poller.polls() >= 3);
    expect(notices).toEqual([]);
    imds.schedule({ action: 'terminate', time: '2026-11-28T09:00:00Z' });
    await until(() => notices.length > 0);
    const after = poller.polls();
    await new Promise((r) => setTimeout(r, 100));

    expect(notices).toEqual([{ source: 'imds', action: 'terminate', deadline: new Date('2026-11-28T09:00:00Z') }]);
    expect(poller.polls()).toBe(after); // stops polling after the notice
    expect(imds.requests.filter((r) => r.startsWith('PUT'))).toHaveLength(1); // one token, reused
    poller.stop();
  });

  it('keeps polling through errors and reports them', async () => {
    const errors: unknown[] = [];
    const poller = pollSpotInterruptions({ baseUrl: 'http://127.0.0.1:1', intervalMs: 20, onNotice: () => undefined, onError: (e) => errors.push(e) });

    await until(() => errors.length >= 2);
    poller.stop();

    expect(poller.polls()).toBeGreaterThanOrEqual(2);
  });
});
