import { httpHandler } from '../../shared/http/handler.js';
import { DatasetListQuery } from '../../shared/schemas/dataset.js';
import { listListings } from '../../shared/use-cases/listListings.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/datasets?tag=&owner=&q=&status=&limit=&cursor=`: newest first, cursor-paginated. */
export const handler = httpHandler({ route: { name: 'listDatasets', auth: 'public' }, query: DatasetListQuery, runtime: getRuntime }, async (req) => {
  const rt = await getRuntime();
  return { status: 200, body: await listListings(rt.listings, req.query) };
});
