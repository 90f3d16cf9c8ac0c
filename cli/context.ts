/**
 * What every command of the CLI shares: the global options, the signing key, an API client, reading JSON input
 * and printing (human text through `safeText`, JSON through `safeJson`). Commands live in `cli/commands/<noun>.ts`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Wallet } from 'ethers';
import * as z from 'zod';
import { ProvenaError } from '../shared/errors.js';
import { Address } from '../shared/schemas/common.js';
import { ProvenaClient } from '../shared/sdk/client.js';
import { safeJson, safeText } from './terminal.js';

/** The options of the program itself (`--api`, `--chain-id`, `--key-file`, `--account`, `--json`). */
export const GlobalOptions = z.object({
  api: z.url(),
  chainId: z.coerce.number().int().positive().optional(),
  keyFile: z.string().optional(),
  account: Address.optional(),
  json: z.boolean().default(false),
});
export type GlobalOptions = z.output<typeof GlobalOptions>;

const PrivateKey = z.string().trim().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a private key is 32 bytes of hex');

/** The key from `--key-file` or PROVENA_PRIVATE_KEY, or undefined when neither is given. */
export function loadKey(opts: GlobalOptions): Wallet | undefined {
  const raw = opts.keyFile ? readFileSync(opts.keyFile, 'utf8') : process.env.PROVENA_PRIVATE_KEY;
  if (raw === undefined) return undefined;
  const r = PrivateKey.safeParse(raw);
  if (!r.success) throw new ProvenaError('VALIDATION_FAILED', `${opts.keyFile ? `--key-file ${opts.keyFile}` : 'PROVENA_PRIVATE_KEY'}: ${r.error.issues[0]?.message}`);
  return new Wallet(r.data.startsWith('0x') ? r.data : `0x${r.data}`);
}

/** The global options of `cmd`, parsed. */
export function globalOptions(cmd: Command): GlobalOptions {
  return GlobalOptions.parse(cmd.optsWithGlobals());
}

/** An API client for `cmd`'s global options, signing with the key when one is given (chain id asked from the API unless set). */
export async function client(cmd: Command): Promise<{ api: ProvenaClient; opts: GlobalOptions; wallet: Wallet | undefined }> {
  const opts = globalOptions(cmd);
  const wallet = loadKey(opts);
  let chainId = opts.chainId;
  if (chainId === undefined) {
    const health = await new ProvenaClient({ baseUrl: opts.api, chainId: 0 }).health();
    chainId = health.chainId;
  }
  return {
    api: new ProvenaClient({ baseUrl: opts.api, chainId, ...(wallet ? { signer: wallet } : {}), ...(opts.account ? { account: opts.account } : {}) }),
    opts,
    wallet,
  };
}

/** Reads and parses a JSON file, or stdin for `-`. */
export function readJson(file: string): unknown {
  const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProvenaError('BODY_NOT_JSON', `${file === '-' ? 'stdin' : file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Where the CLI writes (process.stdout / process.stderr; a test passes its own). */
export interface Output {
  write(text: string): unknown;
}

/**
 * Prints a command's result: `value` as JSON under `--json`, else the text `human()` renders. Either way no
 * control or bidi character reaches the terminal raw (see cli/terminal.ts).
 */
export function print(opts: { json: boolean }, value: unknown, human: () => string, out: Output = process.stdout): void {
  out.write(`${opts.json ? safeJson(value) : safeText(human())}\n`);
}

/** Prints `value` as JSON whatever `--json` says (commands whose only output is JSON). */
export function printJson(value: unknown, out: Output = process.stdout): void {
  out.write(`${safeJson(value)}\n`);
}

/** Writes a human-readable line (progress, notices) with controls escaped; stderr unless told. */
export function say(text: string, out: Output = process.stderr): void {
  out.write(safeText(text));
}
