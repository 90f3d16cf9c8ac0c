/** Response helpers and the one place where error codes become HTTP statuses. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ProvenaError } from '../errors.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** A JSON response. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/**
 * Maps any thrown value to `{error: {code, message, details?}}` with the status of its code. Unknown errors
 * become `INTERNAL` with a generic message: internals never leak to callers (they go to the log).
 */
export function errorResponse(err: unknown, requestId?: string): APIGatewayProxyStructuredResultV2 {
  const e = err instanceof ProvenaError ? err : new ProvenaError('INTERNAL', 'Internal error; the request was not completed');
  const body = e.toJSON();
  // 429/503 refusals say when to come back (`details.retryAfterSeconds`), as RFC 9110's Retry-After.
  const retry = (e.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  const headers: Record<string, string> = typeof retry === 'number' && Number.isFinite(retry) ? { 'retry-after': String(Math.max(1, Math.ceil(retry))) } : {};
  return json(e.status, requestId ? { error: { ...body.error, requestId } } : body, headers);
}
