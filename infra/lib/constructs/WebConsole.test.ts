/**
 * The web console's cloud half without the whole stack: synth on a fresh clone (no web/dist) warns and deploys
 * nothing, and the console finds the API from the deployment's config.json as served by a real HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { serveStatic } from '../../../stack/staticSite.js';
import { chooseApiBaseUrl, CONSOLE_CONFIG_FILE, loadConsoleConfig, parseConsoleConfig } from '../../../web/src/consoleConfig.js';
import { WebConsole } from './WebConsole.js';

const base = mkdtempSync(join(tmpdir(), 'provena-webconsole-'));
const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/';

/** Serves `root` the way the embedded API serves the console (stack/staticSite.ts). */
function serve(root: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (!serveStatic(root, req, res)) res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}
const servers: Server[] = [];
let deployedSite: string;
let localSite: string;

beforeAll(async () => {
  const deployed = join(base, 'deployed');
  mkdirSync(deployed);
  writeFileSync(join(deployed, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(deployed, CONSOLE_CONFIG_FILE), JSON.stringify({ apiUrl: API }));
  const local = join(base, 'local');
  mkdirSync(local);
  writeFileSync(join(local, 'index.html'), '<!doctype html><title>console</title>');
  const a = await serve(deployed);
  const b = await serve(local);
  servers.push(a.server, b.server);
  deployedSite = a.url;
  localSite = b.url;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(base, { recursive: true, force: true });
});

describe('WebConsole on a fresh clone (no built console)', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Web-test');
  const web = new WebConsole(stack, 'Web', { apiUrl: API, protectData: false, sourceDir: join(base, 'not-built') });
  const template = Template.fromStack(stack);

  it('warns at synth that the console is not built and deploys nothing (synth never builds it)', () => {
    expect(web.deployed).toBe(false);
    Annotations.fromStack(stack).hasWarning('/Web-test/Web', Match.stringLikeRegexp('npm run build:web'));
    template.resourceCountIs('Custom::CDKBucketDeployment', 0);
  });

  it('still creates the private bucket and the distribution, so a later deploy only fills the bucket', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'site/' }) });
  });
});

describe("the console's config.json", () => {
  it('gives the API URL when the deployment wrote one', async () => {
    expect(await loadConsoleConfig(deployedSite)).toEqual({ apiUrl: API });
  });

  it('reads as no config where there is none (the embedded stack answers 404), an HTML fallback, or no server', async () => {
    expect(await loadConsoleConfig(localSite)).toEqual({});
    // CloudFront's SPA fallback answers a missing file with index.html and 200.
    const fallback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>console</title>'));
    await new Promise<void>((r) => fallback.listen(0, '127.0.0.1', r));
    servers.push(fallback);
    expect(await loadConsoleConfig(`http://127.0.0.1:${(fallback.address() as AddressInfo).port}`)).toEqual({});
    const closed = await serve(join(base, 'local'));
    await new Promise((r) => closed.server.close(r));
    expect(await loadConsoleConfig(closed.url)).toEqual({});
  });

  it('keeps only an http(s) apiUrl', () => {
    expect(parseConsoleConfig({ apiUrl: 'javascript:alert(1)' })).toEqual({});
    expect(parseConsoleConfig({ apiUrl: 'not a url' })).toEqual({});
    expect(parseConsoleConfig({ apiUrl: 42 })).toEqual({});
    expect(parseConsoleConfig(null)).toEqual({});
    expect(parseConsoleConfig({ apiUrl: 'http://127.0.0.1:8787' })).toEqual({ apiUrl: 'http://127.0.0.1:8787' });
  });

  it('yields to ?api= and the session, and gives way to the origin when absent', () => {
    const origin = 'https://d111.cloudfront.net';
    expect(chooseApiBaseUrl({ query: 'https://other.example', session: 'https://kept.example', config: { apiUrl: API }, origin })).toBe('https://other.example');
    expect(chooseApiBaseUrl({ session: 'https://kept.example', config: { apiUrl: API }, origin })).toBe('https://kept.example');
    expect(chooseApiBaseUrl({ session: null, config: { apiUrl: API }, origin })).toBe(API);
    expect(chooseApiBaseUrl({ session: null, config: {}, origin })).toBe(origin);
  });
});
