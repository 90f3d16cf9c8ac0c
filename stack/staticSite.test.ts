/**
 * The embedded API serving the web console: files with their content types, the SPA fallback for page paths,
 * no escape from the console's folder, and `/v1/*` left to the API.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer, type RunningHttpServer } from './httpServer.js';
import { ROOT } from './stack.js';

const SECRET = 'top secret: outside the console folder';
const base = mkdtempSync(join(tmpdir(), 'provena-static-'));
const site = join(base, 'dist');
let server: RunningHttpServer;
let unbuilt: RunningHttpServer;

beforeAll(async () => {
  mkdirSync(join(site, 'assets'), { recursive: true });
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(site, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(site, 'assets', 'app-1234.css'), 'body{}');
  writeFileSync(join(base, 'secret.txt'), SECRET);
  symlinkSync(join(base, 'secret.txt'), join(site, 'assets', 'link.txt'));
  server = await startHttpServer({ root: ROOT, port: 0, staticRoot: site });
  unbuilt = await startHttpServer({ root: ROOT, port: 0, staticRoot: join(base, 'missing') });
});
afterAll(async () => {
  await server.close();
  await unbuilt.close();
  rmSync(base, { recursive: true, force: true });
});

/** A GET with the path sent exactly as written (fetch would normalize `..` away before sending). */
function rawGet(url: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web console served by the embedded API', () => {
  it('answers / with index.html as text/html, never cached, with a content security policy', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('<title>console</title>');
  });

  it('serves built assets with their content types, cached as immutable', async () => {
    const js = await fetch(`${server.url}/assets/app-1234.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe('console.log(1)');
    const css = await fetch(`${server.url}/assets/app-1234.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers a page path without a file with index.html (deep links into the console work)', async () => {
    const res = await fetch(`${server.url}/datasets/ds_0123456789abcdefghjkmnpqrs?tag=x`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>console</title>');
  });

  it('answers a missing asset with 404, not with the page', async () => {
    const res = await fetch(`${server.url}/assets/gone-9999.js`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('<title>');
  });

  it.each(['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e%5c..%5csecret.txt', '/%00index.html', '/assets/link.txt', '/%E0%A4%A'])(
    'refuses %s without revealing anything outside the folder',
    async (path) => {
      const res = await rawGet(server.url, path);
      expect(res.body).not.toContain(SECRET);
      expect(res.status).toBe(404);
    },
  );

  it('leaves /v1 paths to the API: an unknown one answers the JSON ROUTE_NOT_FOUND, not the page', async () => {
    const res = await fetch(`${server.url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('leaves other methods to the API: POST / answers ROUTE_NOT_FOUND as JSON', async () => {
    const res = await fetch(`${server.url}/`, { method: 'POST', body: '{}' });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('says how to build the console when it is not built, with 503', async () => {
    const res = await fetch(`${unbuilt.url}/lab`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build:web');
  });
});
