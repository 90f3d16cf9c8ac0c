/**
 * The parts of an API Gateway HTTP API (payload v2.0) event that {@link routeHandler} reads, checked before use.
 *
 * Why not Powertools' `APIGatewayProxyEventV2Schema`: its module imports `{ z } from 'zod'`, and a named import of
 * zod's `z` namespace object cannot be tree-shaken, so every Lambda bundle carried all of zod (its 40 locales and
 * JSON-schema tooling: 446 KiB of a 2.5 MB bundle). This schema checks the same fields the handler relies on, with
 * the same types, and nothing the handler ignores (authorizer, cookies, stage variables).
 */
import * as z from 'zod';

const StringRecord = z.record(z.string(), z.string());

/** An API Gateway v2 event, as far as the route wrapper uses it. */
export const ApiGatewayEventV2 = z.object({
  version: z.string(),
  rawPath: z.string(),
  rawQueryString: z.string(),
  headers: StringRecord,
  queryStringParameters: StringRecord.optional(),
  pathParameters: StringRecord.nullish(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean(),
  requestContext: z.object({
    requestId: z.string(),
    http: z.object({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']),
      path: z.string(),
    }),
  }),
});
