/** `provena key …`: create a signing key, show its address. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SigningKey, Wallet } from 'ethers';
import { ProvenaError } from '../../shared/errors.js';
import { globalOptions, loadKey } from '../context.js';

/** Adds `provena key new`, `provena key address` and `provena key public`. */
export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description('manage your signing key');
  key
    .command('new')
    .description('create a new random private key in a file (mode 0600) and print its address')
    .requiredOption('-o, --out <path>', 'where to write the key (refuses to overwrite)')
    .action((o: { out: string }) => {
      const wallet = Wallet.createRandom();
      writeFileSync(o.out, `${wallet.privateKey}\n`, { mode: 0o600, flag: 'wx' });
      process.stdout.write(`${wallet.address}\n`);
    });
  key
    .command('address')
    .description('print the address of the key from --key-file or PROVENA_PRIVATE_KEY')
    .action((_o: unknown, cmd: Command) => {
      const wallet = loadKey(globalOptions(cmd));
      if (!wallet) throw new ProvenaError('AUTH_MISSING', 'No key: pass --key-file or set PROVENA_PRIVATE_KEY');
      process.stdout.write(`${wallet.address}\n`);
    });
  key
    .command('public')
    .description("print the key's compressed secp256k1 public key (0x-hex): what `job submit --model-key` seals the model to")
    .action((_o: unknown, cmd: Command) => {
      const wallet = loadKey(globalOptions(cmd));
      if (!wallet) throw new ProvenaError('AUTH_MISSING', 'No key: pass --key-file or set PROVENA_PRIVATE_KEY');
      process.stdout.write(`${SigningKey.computePublicKey(wallet.signingKey.publicKey, true)}\n`);
    });
}
