/** The listing pieces: the datasets table and the content store (IPFS). Used by most routes. */
import { DynamoDatasetRepo } from '../../shared/adapters/aws/DynamoDatasetRepo.js';
import type { ContentStore } from '../../shared/ports/ContentStore.js';
import type { ListingDeps } from '../../shared/use-cases/deps.js';
import { getBase, notInLambdaBundle, lazy, withBase } from './base.js';

/** The datasets table. */
export const getDatasets = /* @__PURE__ */ lazy(async () => {
  const { dynamo, config } = await getBase();
  return new DynamoDatasetRepo(dynamo, config.PROVENA_TABLE_DATASETS);
});

/** The content store: Kubo's RPC in the cloud, a local UnixFS blockstore in the embedded stack. */
export const getContent = /* @__PURE__ */ lazy(async (): Promise<ContentStore> => {
  const { config } = await getBase();
  // Dynamic imports: a route's bundle evaluates only the store it uses, and no Lambda bundle holds the local one
  // (see `notInLambdaBundle` in base.ts).
  if (config.PROVENA_CONTENT_STORE === 'kubo') {
    const { KuboContentStore } = await import('../../shared/adapters/ipfs/KuboContentStore.js');
    return new KuboContentStore({ url: config.PROVENA_KUBO_URL as string });
  }
  if (process.env.PROVENA_BUNDLE !== 'lambda') {
    const { LocalUnixfsContentStore } = await import('../../shared/adapters/ipfs/LocalUnixfsContentStore.js');
    return new LocalUnixfsContentStore({ dir: config.PROVENA_IPFS_DIR as string });
  }
  return notInLambdaBundle('PROVENA_CONTENT_STORE', config.PROVENA_CONTENT_STORE);
});

/** The listing deps. */
export const getListingDeps = /* @__PURE__ */ lazy(async (): Promise<ListingDeps> => ({ datasets: await getDatasets(), content: await getContent(), now: () => new Date() }));

/**
 * The runtime of the routes that only read listings (get, list): the datasets table and the cursor key, no content
 * store, so Kubo's RPC client (about 250 KiB) is not in their bundles.
 */
export const listingReadsRuntime = /* @__PURE__ */ withBase(async (base) => ({ listings: { datasets: await getDatasets() }, cursorKey: base.config.PROVENA_CURSOR_SECRET }));

/** The runtime of the listing routes that write (`rt.listings`, `rt.cursorKey`). */
export const listingsRuntime = /* @__PURE__ */ withBase(async (base) => ({ listings: await getListingDeps(), cursorKey: base.config.PROVENA_CURSOR_SECRET }));
