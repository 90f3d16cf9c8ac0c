/**
 * Runs the Lit adapter against the REAL Lit SDK in a plain Node process and prints JSON results.
 *
 * Why a separate process: `@lit-protocol/*` 7.4.0 is CommonJS that `require()`s an ES module
 * (`@lit-protocol/contracts/dist/prod/*.js`). Node 20.19+ allows that (require(esm)); jest's module runtime does
 * not, so the unit tests spawn this probe (`node --import tsx`) instead of loading the SDK in jest's VM.
 *
 * Input (stdin): `{conditions: AccessConditionList[], chainMap?, network?, actionCid?}`. Output (stdout, one JSON
 * line): `{validations: (true | string)[], hashes: (string | null)[], offlineWrap: {code?, message}, action?}` where
 * `action` is Lit's schema check of the release action's condition for `actionCid` (true or Lit's message).
 */
import { ProvenaError } from '../../errors.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import { hashForLit, loadLitAccs, toLitEvmContractConditions, validateForLit } from './conditions.js';
import { actionAccessConditions } from './provenaReleaseAction.js';
import { LitKeyGate } from './LitKeyGate.js';
import type { LitNetwork } from './LitKeyGate.js';

interface ProbeInput {
  conditions: AccessConditionList[];
  chainMap?: Record<string, string>;
  network?: LitNetwork;
  actionCid?: string;
}

const silent = { warn: () => undefined, info: () => undefined };

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ProbeInput;
  const validations: (true | string)[] = [];
  const hashes: (string | null)[] = [];
  for (const c of input.conditions) {
    try {
      const lit = toLitEvmContractConditions(c, input.chainMap);
      await validateForLit(lit);
      validations.push(true);
      hashes.push(await hashForLit(lit));
    } catch (err) {
      validations.push(err instanceof ProvenaError ? err.code : String(err));
      hashes.push(null);
    }
  }
  const gate = new LitKeyGate({ network: input.network ?? 'datil-dev', logger: silent as never, connectTimeoutMs: 5000, ...(input.chainMap ? { chainMap: input.chainMap } : {}) });
  let offlineWrap: { code?: string; message: string };
  try {
    await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey: new Uint8Array(32), conditions: input.conditions[0]! });
    offlineWrap = { message: 'unexpectedly wrapped' };
  } catch (err) {
    offlineWrap = err instanceof ProvenaError ? { code: err.code, message: err.message } : { message: String(err) };
  }
  await gate.close();
  let action: true | string | undefined;
  if (input.actionCid !== undefined) {
    const accs = (await loadLitAccs()) as unknown as { validateAccessControlConditionsSchema(c: unknown): Promise<boolean> };
    action = await accs.validateAccessControlConditionsSchema(actionAccessConditions(input.actionCid)).then(
      () => true as const,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
  }
  process.stdout.write(`${JSON.stringify({ validations, hashes, offlineWrap, ...(action === undefined ? {} : { action }) })}\n`);
  process.exit(0); // the Lit SDK leaves timers behind
}

void main();
