/**
 * The shape every HTTP Lambda shares: parse -> (authenticate) -> use case -> map errors -> respond.
 * `functions/*` handlers are one `httpHandler(...)` call each; the same function runs on Lambda and in the
 * embedded server.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas/api-gatewayv2';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { verifySignedRequest, type Caller, type VerifyDeps } from '../auth/signedRequest.js';
import { ProvenaError, ValidationError, toFieldIssues } from '../errors.js';
import { errorResponse, json } from './respond.js';
import type { RouteDef } from './routes.js';

/** What a route's function receives, already validated. */
export interface HttpRequest<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  headers: Record<string, string | undefined>;
  /** Present on signed routes. */
  caller: Caller | undefined;
  requestId: string;
}

/** What a route's function returns. */
export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Per-process services the wrapper needs (built once per cold start by the handler module). */
export interface HttpRuntime {
  logger: Logger;
  maxBodyBytes: number;
  verify: VerifyDeps;
}

export interface HttpHandlerOptions<BS extends z.ZodType | undefined, QS extends z.ZodType | undefined, PS extends z.ZodType | undefined> {
  route: Pick<RouteDef, 'name' | 'auth'>;
  body?: BS;
  query?: QS;
  params?: PS;
  runtime: () => Promise<HttpRuntime>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

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

/**
 * Builds a Lambda handler for one route.
 *
 * @example
 * ```ts
 * export const handler = httpHandler({ route, body: DatasetInput, runtime }, async (req) => ({ status: 201, body: … }));
 * ```
 */
export function httpHandler<BS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined, PS extends z.ZodType | undefined = undefined>(
  options: HttpHandlerOptions<BS, QS, PS>,
  fn: (req: HttpRequest<Out<BS>, Out<QS>, Out<PS>>) => Promise<HttpResult>,
): (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event, context) => {
    const started = performance.now();
    const requestId = context?.awsRequestId ?? event.requestContext?.requestId ?? 'local';
    let rt: HttpRuntime | undefined;
    let caller: Caller | undefined;
    try {
      rt = await options.runtime();
      const checked = APIGatewayProxyEventV2Schema.safeParse(event);
      if (!checked.success) {
        throw new ValidationError('Malformed API Gateway event', toFieldIssues(checked.error.issues));
      }
      const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      const body = rawBody(event);
      if (body && body.length > rt.maxBodyBytes) {
        throw new ProvenaError('BODY_TOO_LARGE', `Body is ${body.length} bytes; the limit is ${rt.maxBodyBytes}`);
      }

      if (options.route.auth === 'signed') {
        const path = event.rawQueryString ? `${event.rawPath}?${event.rawQueryString}` : event.rawPath;
        caller = await verifySignedRequest({ method: event.requestContext.http.method, path, headers, body }, rt.verify);
      }

      let parsedBody: unknown;
      if (options.body) {
        let value: unknown;
        try {
          value = body && body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
        } catch {
          throw new ProvenaError('BODY_NOT_JSON', 'The request body is not valid JSON');
        }
        if (value === undefined) throw new ValidationError('A JSON body is required', [{ path: ['body'], message: 'required' }]);
        parsedBody = parsePart(options.body, value, 'body');
      }
      const query = options.query ? parsePart(options.query, event.queryStringParameters ?? {}, 'query') : undefined;
      const params = options.params ? parsePart(options.params, event.pathParameters ?? {}, 'path') : undefined;

      const result = await fn({
        body: parsedBody as Out<BS>,
        query: query as Out<QS>,
        params: params as Out<PS>,
        headers,
        caller,
        requestId,
      });
      rt.logger.info('request', {
        route: options.route.name,
        status: result.status,
        caller: caller?.address,
        ms: Math.round(performance.now() - started),
      });
      return result.body === undefined
        ? { statusCode: result.status, headers: result.headers ?? {} }
        : json(result.status, result.body, result.headers);
    } catch (err) {
      const response = errorResponse(err, requestId);
      const log = { route: options.route.name, status: response.statusCode, caller: caller?.address, ms: Math.round(performance.now() - started) };
      if (err instanceof ProvenaError && err.status < 500) {
        rt?.logger.warn('request refused', { ...log, code: err.code, reason: err.message });
      } else {
        (rt?.logger ?? console).error('request failed', { ...log, error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack, cause: String(err.cause ?? '') } : String(err) });
      }
      return response;
    }
  };
}
