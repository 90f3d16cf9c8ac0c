/**
 * The Provena release Lit Action (actions/provenaRelease.js) as the Lit gate uses it: its CID, the Lit condition
 * that binds a data key to it, the payload Lit encrypts, and the shape of the action's answer.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../../encoding/canonicalJson.js';
import { cidV0OfBytes } from '../../encoding/unixfs.js';
import { SealedBoxSchema } from '../../schemas/upload.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';

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

/** One of Lit's basic access-control conditions (only the form used here). */
export interface LitAccessControlCondition {
  contractAddress: '';
  standardContractType: '';
  chain: string;
  method: '';
  parameters: [':currentActionIpfsId'];
  returnValueTest: { comparator: '='; value: string };
}

/**
 * The Lit condition a data key is encrypted under: "the Lit Action running is `ipfsCid`", as Lit documents for
 * secrets only one action may decrypt. The chain is required by Lit's schema and not read for this condition.
 */
export function actionAccessConditions(ipfsCid: string): LitAccessControlCondition[] {
  return [{ contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':currentActionIpfsId'], returnValueTest: { comparator: '=', value: ipfsCid } }];
}

/** Our conditions with chains renamed to Lit's chain names (what the action evaluates; `refusalCode` kept). */
export function conditionsForAction(conditions: AccessConditionList, chainMap: Readonly<Record<string, string>> = {}): AccessConditionList {
  return conditions.map((c) => (Array.isArray(c) ? conditionsForAction(c, chainMap) : 'operator' in c ? c : { ...c, chain: chainMap[c.chain] ?? c.chain }));
}

/**
 * The bytes Lit encrypts: canonical JSON `{v: 1, key, datasetId, version, conditionsHash}` (key in hex,
 * conditionsHash = SHA-256 of the canonical JSON of {@link conditionsForAction}), so the action can tell which
 * conditions and dataset version the key belongs to after Lit decrypts it, before anything leaves it.
 */
export function actionKeyPayload(p: { dataKey: Uint8Array; datasetId: string; version: number; actionConditions: AccessConditionList }): Uint8Array {
  const conditionsHash = createHash('sha256').update(canonicalJson(p.actionConditions)).digest('hex');
  return new TextEncoder().encode(canonicalJson({ v: 1, key: Buffer.from(p.dataKey).toString('hex'), datasetId: p.datasetId, version: p.version, conditionsHash }));
}

/** The action's answer (`Lit.Actions.setResponse`). */
export const ActionAnswer = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), requester: z.string(), sealed: SealedBoxSchema }),
  z.object({ ok: z.literal(false), code: z.string(), reason: z.string() }),
]);
export type ActionAnswer = z.output<typeof ActionAnswer>;
