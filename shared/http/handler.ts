/**
 * The shape every HTTP Lambda shares: parse -> (authenticate) -> use case -> map errors -> respond. A handler
 * module is one `routeHandler(routes.x, runtime, fn)` call: auth, schemas and the route's name come from the
 * route's definition, so a handler cannot disagree with it. The same function runs on Lambda and in the
 * embedded server. A signed route's nonce is written while its parts are parsed and its optional `prepare` step
 * runs; the route's function starts once the nonce is spent.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { authenticateSignedRequest, type Caller, type VerifyDeps } from '../auth/signedRequest.js';
import { redactSecrets } from '../encoding/redactSecrets.js';
import { ProvenaError, ValidationError, toFieldIssues } from '../errors.js';
import { ApiGatewayEventV2 } from './apiGatewayEvent.js';
import { errorResponse, json } from './respond.js';
import type { RouteDefinition, RouteInput } from './route.js';

/** What a route's function receives, already validated against the route's schemas. */
export interface RouteRequest<R extends RouteDefinition> extends RouteInput<R> {
  /** The authenticated caller: present exactly on signed routes. */
  caller: R['auth'] extends 'signed' ? Caller : undefined;
  /** All request headers, lower-cased (the route's `headers` schema gives the typed ones). */
  rawHeaders: Record<string, string | undefined>;
  requestId: string;
  /** A logger whose every line carries this request's id and route. */
  log: Logger;
}

/** What a route's function returns: its success body must fit the route's response schema. */
export interface RouteResult<R extends RouteDefinition> {
  /** @default the route's `success` status (200) */
  status?: number;
  body: z.input<R['response']>;
  headers?: Record<string, string>;
}

/** Per-process services the wrapper needs (built once per cold start by the runtime). */
export interface HttpRuntime {
  logger: Logger;
  maxBodyBytes: number;
  verify: VerifyDeps;
}

/** A Lambda handler built for one route; it carries its route so the server can check the pairing. */
export type RouteLambda<R extends RouteDefinition = RouteDefinition> = ((event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>) & {
  readonly route: R;
};

function parsePart<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = toFieldIssues(r.error.issues).map((i) => ({ ...i, path: [where, ...i.path] }));
  const summary = issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new ValidationError(`Invalid ${where}: ${summary}${issues.length > 3 ? ` (+${issues.length - 3} more)` : ''}`, issues);
}

/** Decodes the raw body bytes of an API Gateway v2 event. */
function rawBody(event: APIGatewayProxyEventV2): Buffer | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

function parseJsonBody(body: Buffer | undefined): unknown {
  let value: unknown;
  try {
    value = body && body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    throw new ProvenaError('BODY_NOT_JSON', 'The request body is not valid JSON');
  }
  if (value === undefined) throw new ValidationError('A JSON body is required', [{ path: ['body'], message: 'required' }]);
  return value;
}

/** Settles `spent` first: a replay is refused as AUTH_NONCE_REUSED whatever else failed beside it. */
async function afterNonce<T>(spent: Promise<void>, work: Promise<T>): Promise<T> {
  const [nonce, result] = await Promise.allSettled([spent, work]);
  if (nonce.status === 'rejected') throw nonce.reason;
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/**
 * Validates the event, authenticates a signed route and parses its parts. The nonce's write is started, not
 * awaited: `nonceSpent` settles it, and nothing may act on the request before it resolved.
 */
async function parseRequest<R extends RouteDefinition>(
  route: R,
  rt: HttpRuntime,
  event: APIGatewayProxyEventV2,
): Promise<{ input: RouteInput<R>; caller: Caller | undefined; headers: Record<string, string | undefined>; nonceSpent: Promise<void> }> {
  const checked = ApiGatewayEventV2.safeParse(event);
  if (!checked.success) throw new ValidationError('Malformed API Gateway event', toFieldIssues(checked.error.issues));
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body = rawBody(event);
  if (body && body.length > rt.maxBodyBytes) throw new ProvenaError('BODY_TOO_LARGE', `Body is ${body.length} bytes; the limit is ${rt.maxBodyBytes}`);
  let caller: Caller | undefined;
  let nonceSpent = Promise.resolve();
  if (route.auth === 'signed') {
    const path = event.rawQueryString ? `${event.rawPath}?${event.rawQueryString}` : event.rawPath;
    const auth = await authenticateSignedRequest({ method: event.requestContext.http.method, path, headers, body }, rt.verify);
    caller = auth.caller;
    nonceSpent = auth.spendNonce();
  }
  // Settled by the caller: a handler of this rejection is attached now, so it is never reported as unhandled.
  nonceSpent.catch(() => undefined);
  let input: RouteInput<R>;
  try {
    input = {
      params: route.params ? parsePart(route.params, event.pathParameters ?? {}, 'path') : undefined,
      query: route.query ? parsePart(route.query, event.queryStringParameters ?? {}, 'query') : undefined,
      headers: route.headers ? parsePart(route.headers, headers, 'headers') : undefined,
      body: route.body ? parsePart(route.body, parseJsonBody(body), 'body') : undefined,
    } as RouteInput<R>;
  } catch (err) {
    await nonceSpent; // a replay is refused as AUTH_NONCE_REUSED before its bad parts are
    throw err;
  }
  return { input, caller, headers, nonceSpent };
}

/** Options of {@link routeHandler}. */
export interface RouteHandlerOptions<R extends RouteDefinition, RT, P> {
  /**
   * Work that may run while a signed request's nonce is being spent, its result handed to the route's function.
   * It runs only for an authenticated caller, but possibly for a replay (refused once the spend fails): so it may
   * read, and write only content-addressed data that nothing references until the function runs (a replay leaves
   * at most an unreferenced block); the route's effects belong in the function, which runs once the nonce is spent.
   */
  prepare?: (req: RouteRequest<R>, rt: RT) => Promise<P>;
}

/**
 * Builds the Lambda handler of `route`.
 *
 * @example
 * ```ts
 * export const handler = routeHandler(routes.getDataset, getRuntime, async (req, rt) => ({ body: await getListing(rt.listings, req.params) }));
 * ```
 */
export function routeHandler<R extends RouteDefinition, RT extends HttpRuntime, P = undefined>(
  route: R,
  runtime: () => Promise<RT>,
  fn: (req: RouteRequest<R>, rt: RT, prepared: P) => Promise<RouteResult<R>>,
  options: RouteHandlerOptions<R, RT, P> = {},
): RouteLambda<R> {
  const lambda = async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = performance.now();
    const requestId = context?.awsRequestId ?? event.requestContext?.requestId ?? 'local';
    let log: Logger | undefined;
    let caller: Caller | undefined;
    try {
      const rt = await runtime();
      log = rt.logger.createChild();
      log.appendKeys({ requestId, route: route.name });
      const parsed = await parseRequest(route, rt, event);
      caller = parsed.caller;
      const req: RouteRequest<R> = { ...parsed.input, caller: caller as RouteRequest<R>['caller'], rawHeaders: parsed.headers, requestId, log };
      // An async wrapper: a prepare step that throws at once still settles after the nonce, like one that rejects.
      const prepared = await afterNonce(parsed.nonceSpent, (async () => (options.prepare ? options.prepare(req, rt) : (undefined as P)))());
      const result = await fn(req, rt, prepared);
      const status = result.status ?? route.success ?? 200;
      log.info('request', { status, caller: caller?.address, ms: Math.round(performance.now() - started) });
      return json(status, result.body, result.headers);
    } catch (err) {
      const response = errorResponse(err, requestId);
      const line = { status: response.statusCode, caller: caller?.address, ms: Math.round(performance.now() - started) };
      if (err instanceof ProvenaError && err.status < 500) {
        log?.warn('request refused', { ...line, code: err.code, reason: err.message });
      } else if (log) {
        // Redacted: a dependency's error (ethers, the AWS SDK) can carry its endpoint URL, with any API key in it.
        log.error('request failed', { ...line, error: err instanceof Error ? { name: err.name, message: redactSecrets(err.message), stack: redactSecrets(err.stack ?? ''), cause: redactSecrets(String(err.cause ?? '')) } : redactSecrets(String(err)) });
      } else {
        console.error(JSON.stringify({ level: 'ERROR', message: 'request failed before the runtime was built', requestId, route: route.name, error: redactSecrets(String(err)) }));
      }
      return response;
    }
  };
  return Object.assign(lambda, { route });
}
