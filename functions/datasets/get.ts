import { httpHandler } from '../../shared/http/handler.js';
import { getListing } from '../../shared/use-cases/getListing.js';
import { getRuntime } from '../_lib/runtime.js';
import { DatasetIdParams } from './params.js';

/** `GET /v1/datasets/{id}`: one listing. */
export const handler = httpHandler({ route: { name: 'getDataset', auth: 'public' }, params: DatasetIdParams, runtime: getRuntime }, async (req) => {
  const rt = await getRuntime();
  return { status: 200, body: await getListing(rt.listings, { id: req.params.id }) };
});
