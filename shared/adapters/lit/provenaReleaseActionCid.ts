/**
 * The release Lit Action's source file and its CID, for the deployment (CDK, deploy:plan) and tests. Not imported
 * by the API's Lambdas (the UnixFS importer would weigh on their bundles): they read PROVENA_LIT_ACTION_CID.
 */
import { cidV0OfBytes } from '../../encoding/unixfs.js';

/** Where the action's source lives (pinned to IPFS by the deployment: `npm run deploy:plan` prints its CID). */
export const PROVENA_RELEASE_ACTION_FILE = new URL('./actions/provenaRelease.js', import.meta.url);

/** The action's source, as pinned (bytes as in the repository: one changed byte is another CID). */
export async function readProvenaReleaseAction(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(PROVENA_RELEASE_ACTION_FILE, 'utf8');
}

/** The CID of the action in this repository (what the deployment pins and sets as PROVENA_LIT_ACTION_CID). */
export async function provenaReleaseActionCid(): Promise<string> {
  return litActionCid(await readProvenaReleaseAction());
}

/**
 * The CIDv0 Lit gives an action's code (`:currentActionIpfsId`), computed as Lit computes it.
 *
 * @example
 * ```ts
 * const cid = await litActionCid(await readProvenaReleaseAction()); // 'Qm…'
 * ```
 */
export function litActionCid(source: string): Promise<string> {
  return cidV0OfBytes(new TextEncoder().encode(source));
}

