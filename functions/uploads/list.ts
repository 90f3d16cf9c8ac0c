import { routeHandler } from '../../shared/http/handler.js';
import { uploadRoutes as routes } from '../../shared/http/routes/uploads.js';
import { listUploads } from '../../shared/use-cases/listUploads.js';
import { uploadListRuntime } from '../_lib/keys.js';

/** `GET /v1/uploads?owner=` (public): an owner's uploads in progress, newest first, with parts done of total. */
export const handler = routeHandler(routes.listUploads, uploadListRuntime, async (req, rt) => ({ body: await listUploads(rt.uploadList, req.query) }));
