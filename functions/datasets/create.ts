import { z } from 'zod';
import { ValidationError, toFieldIssues } from '../../shared/errors.js';
import { httpHandler } from '../../shared/http/handler.js';
import { DatasetInput } from '../../shared/schemas/dataset.js';
import { createListing } from '../../shared/use-cases/createListing.js';
import { getRuntime } from '../_lib/runtime.js';

const IdempotencyKey = z.string().min(8).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

/** `POST /v1/datasets` (signed): lists a dataset. `Idempotency-Key` makes retries safe. */
export const handler = httpHandler({ route: { name: 'createDataset', auth: 'signed' }, body: DatasetInput, runtime: getRuntime }, async (req) => {
  const rt = await getRuntime();
  const rawKey = req.headers['idempotency-key'];
  const key = rawKey === undefined ? undefined : IdempotencyKey.safeParse(rawKey);
  if (key && !key.success) {
    throw new ValidationError('Invalid Idempotency-Key header', toFieldIssues(key.error.issues).map((i) => ({ ...i, path: ['headers', 'idempotency-key'] })));
  }
  const owner = req.caller?.address as string;
  const { dataset, replayed } = await createListing(rt.listings, { owner, input: req.body, ...(key?.data ? { idempotencyKey: key.data } : {}) });
  rt.logger.info(replayed ? 'dataset create replayed' : 'dataset listed', { datasetId: dataset.id, owner, manifestCid: dataset.manifestCid });
  return {
    status: replayed ? 200 : 201,
    body: dataset,
    headers: { location: `/v1/datasets/${dataset.id}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) },
  };
});
