/**
 * OpenAPI 3.1 document generated from the route table and the zod schemas (`z.toJSONSchema`), so the docs are
 * the contract the handlers enforce.
 */
import * as z from 'zod';
import { AUTH_HEADERS } from '../auth/signedRequest.js';
import { ErrorCodes } from '../errors.js';
import { routeList } from './routes.js';

const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(ErrorCodes) as [keyof typeof ErrorCodes, ...(keyof typeof ErrorCodes)[]]),
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string().optional(),
  }),
});

function schema(s: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });
}

/** Builds the OpenAPI document. */
export function buildOpenApi(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routeList) {
    const s = r;
    const parameters: unknown[] = [];
    for (const m of r.path.matchAll(/\{(\w+)\}/g)) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (s.query) {
      for (const [name, field] of Object.entries(s.query.shape)) {
        parameters.push({ name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, schema: schema(field as z.ZodType, 'input') });
      }
    }
    if (s.headers) {
      for (const [name, field] of Object.entries(s.headers.shape)) {
        parameters.push({ name, in: 'header', required: !(field as z.ZodType).safeParse(undefined).success, schema: schema(field as z.ZodType, 'input') });
      }
    }
    if (r.auth === 'signed') {
      for (const h of Object.values(AUTH_HEADERS)) parameters.push({ name: h, in: 'header', required: true, schema: { type: 'string' } });
    }
    const op: Record<string, unknown> = {
      operationId: r.name,
      summary: r.summary,
      parameters,
      responses: {
        [String(r.success ?? 200)]: { description: 'OK', content: { 'application/json': { schema: schema(r.response, 'output') } } },
        default: { description: 'Error', content: { 'application/json': { schema: schema(ErrorBody, 'output') } } },
      },
      ...(r.auth === 'signed' ? { security: [{ eip712Request: [] }] } : {}),
    };
    if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: schema(s.body, 'input') } } };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Provena API',
      version: '1',
      description:
        'Data-licensing marketplace. Mutating calls are signed: EIP-712 typed data `Request(string method,string path,bytes32 bodyHash,uint64 timestamp,bytes32 nonce)` ' +
        "under the domain {name: 'Provena API', version: '1', chainId}, sent in the x-provena-* headers. Errors are `{error: {code, message}}` with stable codes.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: { securitySchemes: { eip712Request: { type: 'apiKey', in: 'header', name: AUTH_HEADERS.signature } } },
    paths,
  };
}
