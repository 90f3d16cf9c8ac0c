/**
 * The Provena release Lit Action (actions/provenaRelease.js) as the Lit gate uses it at run time: the Lit condition
 * that binds a data key to it, the payload Lit encrypts, and the shape of the action's answer. Its source and CID
 * are in provenaReleaseActionCid.ts (kept out of the Lambda bundles: the API gets the CID from its configuration).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../../encoding/canonicalJson.js';
import { SealedBoxSchema } from '../../schemas/upload.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';

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
