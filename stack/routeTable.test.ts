/**
 * The route table cannot drift from its handlers: every route's module exports a handler built for that very
 * definition, a module built for another route is refused at load, and a definition without grants or with params
 * that do not match its path does not compile (checked by `tsc` over this file: an unused `@ts-expect-error` fails).
 */
import { describe, expect, it } from '@jest/globals';
import * as z from 'zod';
import { defineRoute } from '../shared/http/route.js';
import { routeList, routes } from '../shared/http/routes.js';
import { attestationRoutes } from '../shared/http/routes/attestations.js';
import { datasetRoutes } from '../shared/http/routes/datasets.js';
import { jobRoutes } from '../shared/http/routes/jobs.js';
import { licenseRoutes } from '../shared/http/routes/licenses.js';
import { receiptRoutes } from '../shared/http/routes/receipts.js';
import { royaltyRoutes } from '../shared/http/routes/royalties.js';
import { systemRoutes } from '../shared/http/routes/system.js';
import { uploadRoutes } from '../shared/http/routes/uploads.js';
import { workerRoutes } from '../shared/http/routes/worker.js';
import { codeOf } from '../test/support/errors.js';
import { loadRouteHandler } from './httpServer.js';
import { ROOT } from './stack.js';

describe('the route table and its handlers', () => {
  it('loads, for every route, a handler built for that route definition', async () => {
    for (const route of routeList) {
      const handler = await loadRouteHandler(ROOT, route);
      expect([route.name, handler.route]).toEqual([route.name, route]);
    }
  });

  it("holds each area's routes, the very objects its handlers import, and no name in two areas", () => {
    const areas = [systemRoutes, datasetRoutes, uploadRoutes, royaltyRoutes, attestationRoutes, licenseRoutes, jobRoutes, workerRoutes, receiptRoutes];
    const fromAreas = areas.flatMap((a) => Object.values(a) as readonly object[]);
    const inTable = routeList as readonly object[];
    // A name defined in two areas would silently replace the other in the table: the counts would differ.
    expect(new Set(fromAreas.map((r) => (r as { name: string }).name)).size).toBe(fromAreas.length);
    expect(fromAreas.filter((r) => !inTable.includes(r))).toEqual([]);
  });

  it('refuses a module whose handler was built for another route', async () => {
    const wrong = { ...routes.getDataset, handler: routes.listDatasets.handler };
    expect(await codeOf(loadRouteHandler(ROOT, wrong))).toBe('INTERNAL');
  });

  it('refuses at definition time params that do not name the path parameters', () => {
    const params = z.object({ other: z.string() }) as unknown as z.ZodObject<{ id: z.ZodString }>;
    expect(() =>
      defineRoute({ name: 'bad', method: 'GET', path: '/v1/things/{id}', handler: 'functions/x.ts', auth: 'public', summary: 's', params, response: z.object({}), access: {} }),
    ).toThrow(/params schema has \[other\] but the path \/v1\/things\/\{id\} has \[id\]/);
  });

  it('does not compile a route without access grants or without params for its path', () => {
    // @ts-expect-error: `access` is required: every route decides what its Lambda may touch.
    defineRoute({ name: 'noAccess', method: 'GET', path: '/v1/x', handler: 'functions/x.ts', auth: 'public', summary: 's', response: z.object({}) });
    // @ts-expect-error: the path has `{id}`, so a params schema naming `id` is required.
    expect(() => defineRoute({ name: 'noParams', method: 'GET', path: '/v1/x/{id}', handler: 'functions/x.ts', auth: 'public', summary: 's', response: z.object({}), access: {} })).toThrow();
  });
});
