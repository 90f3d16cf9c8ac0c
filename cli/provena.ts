/**
 * `npx provena`: the command line for data owners, labs and recipients. It uses the SDK; every mutating call
 * is signed with the key from `--key-file` or PROVENA_PRIVATE_KEY.
 */
import { Command, CommanderError, Option } from 'commander';
import * as z from 'zod';
import { ProvenaError } from '../shared/errors.js';
import { ApiError } from '../shared/sdk/client.js';
import { registerDatasetCommands } from './commands/dataset.js';
import { registerJobCommands } from './commands/job.js';
import { registerJobModelCommand, registerJobRefundCommand } from './commands/jobModel.js';
import { registerKeyCommands } from './commands/key.js';
import { registerLicenseCommands } from './commands/license.js';
import { registerReceiptCommands } from './commands/receipt.js';
import { registerRoyaltiesCommands } from './commands/royalties.js';
import { say } from './context.js';

/** The program: global options, then one line per noun (`cli/commands/<noun>.ts`). */
export function buildProgram(): Command {
  const program = new Command('provena')
    .description('Provena: list datasets, license them for training, collect royalties.')
    .addOption(new Option('--api <url>', 'API base URL').env('PROVENA_API_URL').default('http://127.0.0.1:8787'))
    .addOption(new Option('--chain-id <id>', 'chain id of the deployment (default: asked from the API)').env('PROVENA_CHAIN_ID'))
    .addOption(new Option('--key-file <path>', 'file holding your private key (hex); or set PROVENA_PRIVATE_KEY'))
    .addOption(new Option('--account <address>', 'act for this ERC-1271 smart account (your key is its owner)'))
    .option('--json', 'print JSON', false)
    .showHelpAfterError()
    .exitOverride();

  registerKeyCommands(program);
  registerDatasetCommands(program);
  registerRoyaltiesCommands(program);

  registerLicenseCommands(program);
  const job = registerJobCommands(program);
  registerJobModelCommand(job);
  registerJobRefundCommand(job);
  registerReceiptCommands(program);
  return program;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ApiError || err instanceof ProvenaError) {
      // Error messages and details can quote what others wrote (a title, a field): escaped like all output.
      say(`error ${err.code}: ${err.message}\n`);
      if (Array.isArray(err.details)) for (const d of err.details as { path: unknown[]; message: string }[]) say(`  ${d.path.join('.')}: ${d.message}\n`);
      return 1;
    }
    if (err instanceof z.ZodError) {
      for (const i of err.issues) say(`error: --${i.path.join('.')}: ${i.message}\n`);
      return 2;
    }
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    say(`error: ${err instanceof Error ? err.message : String(err)}${cause}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.PROVENA_CLI_MAIN === '1') {
  process.exitCode = await main(process.argv.slice(2));
}
