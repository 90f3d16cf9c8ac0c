import { routeHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/http/routes.js';
import { listUploads } from '../../shared/use-cases/listUploads.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/uploads?owner=` (public): an owner's uploads in progress, newest first, with parts done of total. */
export const handler = routeHandler(routes.listUploads, getRuntime, async (req, rt) => ({ body: await listUploads(rt.uploads, req.query) }));
