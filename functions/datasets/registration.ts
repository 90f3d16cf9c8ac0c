import { httpHandler } from '../../shared/http/handler.js';
import { RegistrationBody } from '../../shared/schemas/registration.js';
import { registerListing, registrationTypedData } from '../../shared/use-cases/registerListing.js';
import { getRuntime } from '../_lib/runtime.js';
import { DatasetIdParams } from './params.js';


/** `GET /v1/datasets/{id}/registration`: the EIP-712 `Registration` the owner signs (gasless registration). */
export const get = httpHandler({ route: { name: 'getRegistration', auth: 'public' }, params: DatasetIdParams, runtime: getRuntime }, async (req) => {
  const rt = await getRuntime();
  return { status: 200, body: await registrationTypedData(rt.registration, { id: req.params.id }) };
});

/** `POST /v1/datasets/{id}/registration` (signed, owner): relays the signed registration to the DatasetRegistry. */
export const post = httpHandler(
  { route: { name: 'registerDataset', auth: 'signed' }, params: DatasetIdParams, body: RegistrationBody, runtime: getRuntime },
  async (req) => {
    const rt = await getRuntime();
    const dataset = await registerListing(rt.registration, { caller: req.caller?.address as string, id: req.params.id, signed: req.body });
    rt.logger.info('dataset registered on chain', { datasetId: dataset.id, chainDatasetId: dataset.chainDatasetId });
    return { status: 200, body: dataset };
  },
);
