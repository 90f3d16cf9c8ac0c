/** The registration routes' runtime: listings, the registry relayer, the relay quota and budget. */
import { DynamoRelayQuotaStore } from '../../shared/adapters/aws/DynamoRelayQuotaStore.js';
import { RegistryRelayer } from '../../shared/adapters/chain/RegistryRelayer.js';
import type { RegistrationDeps } from '../../shared/use-cases/registerListing.js';
import { contract, withBase } from './base.js';
import { getDatasets } from './listings.js';
import { getRelayer } from './relaying.js';

/** `rt.registration`. */
export const registrationRuntime = /* @__PURE__ */ withBase(async ({ config, dynamo, chain }) => {
  const registration: RegistrationDeps = {
    // No content store: registering reads the listing and relays; its manifest is already on IPFS.
    datasets: await getDatasets(),
    now: () => new Date(),
    registry: new RegistryRelayer(chain.provider, config.PROVENA_CHAIN_ID, contract(config, 'DatasetRegistry'), await getRelayer()),
    relayQuota: new DynamoRelayQuotaStore(dynamo, config.PROVENA_TABLE_RELAY_QUOTA),
    relayPolicy: {
      perAddress: config.PROVENA_RELAY_QUOTA_PER_ADDRESS,
      windowSeconds: config.PROVENA_RELAY_QUOTA_WINDOW_SECONDS,
      budgetGas: config.PROVENA_RELAY_BUDGET_GAS,
      periodSeconds: config.PROVENA_RELAY_BUDGET_PERIOD_SECONDS,
      gasPerCall: config.PROVENA_RELAY_GAS_PER_CALL,
    },
  };
  return { registration };
});
