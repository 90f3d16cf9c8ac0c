/**
 * The route table: every route of the public API, each defined once with {@link defineRoute}. The handler
 * wrapper, the embedded server, OpenAPI, the CDK construct and the SDK's typed client all read these objects.
 * Adding a route is one entry in its area's module (shared/http/routes/*.ts) plus its handler module (and its use
 * case). A handler imports its route from the area's module, never this table: its Lambda bundle then builds the
 * schemas of its area only, not every route's (test/architecture.test.ts checks it).
 */
import { attestationRoutes } from './routes/attestations.js';
import { datasetRoutes } from './routes/datasets.js';
import { jobRoutes } from './routes/jobs.js';
import { licenseRoutes } from './routes/licenses.js';
import { receiptRoutes } from './routes/receipts.js';
import { royaltyRoutes } from './routes/royalties.js';
import { systemRoutes } from './routes/system.js';
import { uploadRoutes } from './routes/uploads.js';
import { workerRoutes } from './routes/worker.js';
import type { RouteDefinition } from './route.js';

/**
 * Every route of the public API, by name: the areas' routes (shared/http/routes/*.ts), in this order. A route may
 * also be defined here directly (it then works everywhere, but its handler's bundle builds the whole table).
 */
export const routes = {
  ...systemRoutes,
  ...datasetRoutes,
  ...uploadRoutes,
  ...royaltyRoutes,
  ...attestationRoutes,
  ...licenseRoutes,
  ...jobRoutes,
  ...workerRoutes,
  ...receiptRoutes,
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };

/** A route's name. */
export type RouteName = keyof typeof routes;

/** Every route, as a list (dispatch order is irrelevant: paths plus methods are unique). */
export const routeList: readonly (RouteDefinition & { readonly name: RouteName })[] = Object.values(routes);
