/**
 * The embedded HTTP API: a plain Node server that turns each request into an API Gateway HTTP API (payload
 * v2) event and calls the same handler module CDK deploys as a Lambda, chosen from the same route table.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ProvenaError } from '../shared/errors.js';
import { errorResponse } from '../shared/http/respond.js';
import type { RouteLambda } from '../shared/http/handler.js';
import { RateLimiter } from '../shared/http/rateLimit.js';
import { matchPath, type RateLimit, type RouteDefinition } from '../shared/http/route.js';
import { routeList } from '../shared/http/routes.js';
import { serveStatic } from './staticSite.js';


export interface HttpServerOptions {
  /** Repo root: route handler paths are relative to it. */
  root: string;
  host?: string;
  port: number;
  /** Bytes read from a body before answering 413 (the handlers check their own limit too). */
  maxBodyBytes?: number;
  /**
   * Rate limits: `perClient` for every request of one IP, plus each route's own `rateLimit` (its total, and per
   * caller: its `x-provena-address`, else its IP). Unset: no limits.
   */
  rateLimit?: { perClient: RateLimit };
  /** The built web console (web/dist): served at `/` for GET/HEAD outside `/v1` (see staticSite.ts). */
  staticRoot?: string;
  /** Called once per request with what happened (for the console). */
  onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
  'access-control-allow-headers': 'content-type,idempotency-key,x-provena-address,x-provena-timestamp,x-provena-nonce,x-provena-signature',
  'access-control-expose-headers': 'location,idempotent-replayed,retry-after',
};

/** How much of an oversized body is read and discarded after the 413, and for how long, before the socket is cut. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 5_000;

/**
 * Reads the body, or resolves `undefined` as soon as it is known to exceed `limit` (a `content-length` over it, or
 * the bytes so far): nothing more is kept from then on. The caller answers 413 and calls {@link drainThenClose}.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * After the 413 (sent with `connection: close`): discards what the client still sends, so that closing does not
 * reset a connection whose answer the client has not read yet, and cuts the socket once the response is flushed
 * and the body ended, or after {@link DRAIN_MAX_BYTES} / {@link DRAIN_MAX_MS} (a client that never stops).
 */
function drainThenClose(req: IncomingMessage, res: ServerResponse): void {
  let drained = 0;
  const cut = () => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(cut, DRAIN_MAX_MS);
  timer.unref();
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_MAX_BYTES) cut();
  });
  req.on('error', cut);
  req.resume();
  let ended = req.readableEnded;
  let flushed = res.writableFinished;
  const maybeCut = () => {
    if (ended && flushed) cut();
  };
  req.on('end', () => {
    ended = true;
    maybeCut();
  });
  res.on('finish', () => {
    flushed = true;
    maybeCut();
  });
  maybeCut();
}

/** Builds the payload-v2 event API Gateway would send for this request. */
export function toApiGatewayEvent(req: IncomingMessage, route: RouteDefinition, params: Record<string, string>, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = new Date();
  const text = body.toString('utf8');
  // Binary bodies travel base64-encoded, as API Gateway does for non-text content.
  const isText = body.length === 0 || Buffer.from(text, 'utf8').equals(body);
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(params).length ? { pathParameters: params } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? text : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string> = { ...CORS };
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.body === undefined ? undefined : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
}

/**
 * Imports a route's handler module and checks that its `handler` was built for this very route definition
 * (`routeHandler(routes.x, …)`): a module path pointing at another route's handler fails here, at first use,
 * and in the route-table test, never by serving the wrong thing.
 */
export async function loadRouteHandler(root: string, route: RouteDefinition): Promise<RouteLambda> {
  const mod = (await import(pathToFileURL(join(root, route.handler)).href)) as { handler?: RouteLambda };
  if (typeof mod.handler !== 'function' || mod.handler.route !== route) {
    throw new ProvenaError('INTERNAL', `Route ${route.name}: ${route.handler} does not export a handler built for this route`);
  }
  return mod.handler;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * `RATE_LIMITED` when this request would exceed its client's limits, else undefined. The client is the claimed
 * `x-provena-address` (checked only later, by the handler) or the remote IP: fresh keys are free, so every request
 * also counts against its IP's `perClient` bucket, which no header changes.
 */
function rateLimited(limiter: RateLimiter, perClient: RateLimit, route: RouteDefinition, req: IncomingMessage): ProvenaError | undefined {
  const ip = req.socket.remoteAddress ?? 'unknown';
  const claimed = req.headers['x-provena-address'];
  const client = typeof claimed === 'string' && ADDRESS.test(claimed) ? claimed.toLowerCase() : `ip:${ip}`;
  const own = route.rateLimit ? [{ key: `${route.name}:*`, limit: route.rateLimit.total }, { key: `${route.name}:${client}`, limit: route.rateLimit.perClient }] : [];
  const buckets = [{ key: `ip:${ip}`, limit: perClient }, ...own];
  const decision = limiter.takeAll(buckets);
  if (decision.ok) return undefined;
  return new ProvenaError('RATE_LIMITED', `Too many requests from this client; retry in ${decision.retryAfterSeconds} s`, { details: { retryAfterSeconds: decision.retryAfterSeconds } });
}

/** Starts the embedded API on loopback. Handler modules are loaded once, on first use. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const loaded = new Map<string, Promise<RouteLambda>>();
  const load = (route: RouteDefinition): Promise<RouteLambda> => {
    let h = loaded.get(route.name);
    if (!h) {
      h = loadRouteHandler(options.root, route);
      loaded.set(route.name, h);
    }
    return h;
  };
  const limit = (options.maxBodyBytes ?? 6 * 1024 * 1024) + 1;
  const limiter = options.rateLimit ? new RateLimiter(() => Date.now()) : undefined;

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const method = req.method ?? 'GET';
    const done = (result: APIGatewayProxyStructuredResultV2) => {
      send(res, result);
      options.onRequest?.({ method, path, status: result.statusCode ?? 200, ms: Math.round(performance.now() - started) });
    };
    if (method === 'OPTIONS') return done({ statusCode: 204 });
    if (options.staticRoot && serveStatic(options.staticRoot, req, res)) return;
    const candidates = routeList.map((r) => ({ r: r as RouteDefinition, params: matchPath(r.path, path) })).filter((c) => c.params);
    const hit = candidates.find((c) => c.r.method === method);
    if (!hit) {
      const err = candidates.length
        ? new ProvenaError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${candidates.map((c) => c.r.method).join(', ')}`)
        : new ProvenaError('ROUTE_NOT_FOUND', `No route ${method} ${path}; see GET /v1/openapi.json`);
      return done(errorResponse(err));
    }
    const refusal = limiter && rateLimited(limiter, options.rateLimit?.perClient as RateLimit, hit.r, req);
    if (refusal) {
      req.resume(); // drain the body: the answer must not wait for it, nor the socket stall on it
      return done(errorResponse(refusal));
    }
    readBody(req, limit)
      .then(async (body) => {
        if (body === undefined) {
          const tooLarge = errorResponse(new ProvenaError('BODY_TOO_LARGE', `The body exceeds ${limit - 1} bytes`));
          drainThenClose(req, res);
          return { ...tooLarge, headers: { ...tooLarge.headers, connection: 'close' } };
        }
        const handler = await load(hit.r);
        const context = { awsRequestId: randomUUID(), functionName: hit.r.name } as Context;
        return handler(toApiGatewayEvent(req, hit.r, hit.params ?? {}, body), context);
      })
      .then(done, (err: unknown) => done(errorResponse(err)));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
