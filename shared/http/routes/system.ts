/**
 * Health and the API description.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import * as z from 'zod';
import { HealthReport } from '../../schemas/health.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const systemRoutes = {
  getHealth: defineRoute({
    name: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    handler: 'functions/health/get.ts',
    auth: 'public',
    summary: "Each component's status (503 when one is down)",
    response: HealthReport,
    // Probes each component (DescribeTable, HeadBucket) and reads nothing else.
    access: { datasets: 'read', nonces: 'describe', uploads: 'describe', bucket: 'probe', chainIndex: 'read' },
  }),
  getOpenApi: defineRoute({
    name: 'getOpenApi',
    method: 'GET',
    path: '/v1/openapi.json',
    handler: 'functions/docs/openapi.ts',
    auth: 'public',
    summary: 'This API as OpenAPI 3.1',
    response: z.record(z.string(), z.unknown()),
    access: {},
  }),
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
