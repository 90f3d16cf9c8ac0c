/** The runtimes of the routes that read the chain index and the contracts' views: royalties, licenses, quotes. */
import { JsonRpcProvider } from 'ethers';
import { EvmLicenseViews } from '../../shared/adapters/chain/EvmLicenseViews.js';
import { EvmRoyaltyChain } from '../../shared/adapters/chain/EvmRoyaltyChain.js';
import type { RoyaltyDeps } from '../../shared/use-cases/getRoyalties.js';
import { contract, getBase, lazy, withBase } from './base.js';
import { createIndexer } from './indexer.js';
import { getContent, getDatasets } from './listings.js';
import { getRelayer } from './relaying.js';

/** The chain index's reader (and, in the embedded stack, its writer). */
export const getIndexer = /* @__PURE__ */ lazy(async () => {
  const { config, chain, dynamo } = await getBase();
  return createIndexer(config, chain.provider, dynamo);
});

/** The contracts' license views. */
export const getLicenseViews = /* @__PURE__ */ lazy(async () => {
  const { config, chain } = await getBase();
  return new EvmLicenseViews(chain.provider, { licenseManager: contract(config, 'LicenseManager'), datasetRegistry: contract(config, 'DatasetRegistry') });
});

/** `rt.royalties`. */
export const royaltiesRuntime = /* @__PURE__ */ withBase(async ({ config }) => {
  const indexer = await getIndexer();
  const royalties: RoyaltyDeps = {
    datasets: await getDatasets(),
    content: await getContent(),
    // Its own provider without ethers' 250 ms request cache: figures read right after a claim must be current.
    pools: new EvmRoyaltyChain(new JsonRpcProvider(config.PROVENA_CHAIN_RPC_URL, config.PROVENA_CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 }), config.PROVENA_CHAIN_ID, contract(config, 'LicenseManager'), contract(config, 'DatasetRegistry'), await getRelayer()),
    chainId: config.PROVENA_CHAIN_ID,
    now: () => new Date(),
    history: indexer.royalties,
    indexedThrough: indexer.indexedThrough,
  };
  return { royalties };
});

/** `rt.licenses`. */
export const licensesRuntime = /* @__PURE__ */ withBase(async () => ({ licenses: { licenses: (await getIndexer()).licenses, views: await getLicenseViews() } }));

/** `rt.quotes`. */
export const quotesRuntime = /* @__PURE__ */ withBase(async () => ({ quotes: { datasets: await getDatasets(), views: await getLicenseViews(), now: () => new Date() } }));
