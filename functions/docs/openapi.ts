import { routeHandler } from '../../shared/http/handler.js';
import { buildOpenApi } from '../../shared/http/openapi.js';
import { routes } from '../../shared/http/routes.js';
import { getBase } from '../_lib/base.js';

let doc: Record<string, unknown> | undefined;

/** `GET /v1/openapi.json`: this API as OpenAPI 3.1, generated from the route definitions. */
export const handler = routeHandler(routes.getOpenApi, getBase, async () => {
  doc ??= buildOpenApi();
  return { body: doc };
});
