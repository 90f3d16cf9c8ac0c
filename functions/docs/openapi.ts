import { httpHandler } from '../../shared/http/handler.js';
import { buildOpenApi } from '../../shared/http/openapi.js';
import { getRuntime } from '../_lib/runtime.js';

let doc: Record<string, unknown> | undefined;

/** `GET /v1/openapi.json`: this API as OpenAPI 3.1, generated from the route table and zod schemas. */
export const handler = httpHandler({ route: { name: 'getOpenApi', auth: 'public' }, runtime: getRuntime }, async () => {
  doc ??= buildOpenApi();
  return { status: 200, body: doc };
});
