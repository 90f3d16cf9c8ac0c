/**
 * Lab-side job commands that live beside `provena job submit|show|watch|list|cancel` (cli/commands/job.ts):
 * `provena job model JOB -o model.safetensors` (download, open with the model key, check against the record and
 * the receipt) and `provena job refund JOB [--to]` (the ended job's unused budget, from the holder's key). Wired
 * into the `job` command with {@link registerJobModelCommand} and {@link registerJobRefundCommand}.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ProvenaError } from '../../shared/errors.js';
import { Address } from '../../shared/schemas/common.js';
import { refundJob } from '../../shared/sdk/license.js';
import { fetchModel } from '../../shared/sdk/model.js';
import { client, loadKey, print } from '../context.js';
import { parseId, withLabSigner } from './license.js';

const PRIVATE_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

/** The model key's private half: `--model-key-file`, else the CLI's own key (a lab may seal models to its wallet key). */
function modelPrivateKey(file: string | undefined, fallback: string | undefined): string {
  if (file !== undefined) {
    const raw = readFileSync(file, 'utf8').trim();
    if (!PRIVATE_KEY.test(raw)) throw new ProvenaError('VALIDATION_FAILED', `--model-key-file ${file}: a private key is 32 bytes of hex`);
    return raw.startsWith('0x') ? raw : `0x${raw}`;
  }
  if (fallback === undefined) throw new ProvenaError('AUTH_MISSING', 'No model key: pass --model-key-file (the private key of the job\'s --model-key), or --key-file / PROVENA_PRIVATE_KEY');
  return fallback;
}

/** Adds `model <job> -o <file>` to the `job` command. */
export function registerJobModelCommand(job: Command): void {
  job
    .command('model <jobId>')
    .description("download a finished job's model, open it with your model key and check it against the job and its receipt")
    .requiredOption('-o, --out <file>', 'where the model goes (written only when every check passed)')
    .option('--model-key-file <path>', "file holding the private key of the job's model key (default: your --key-file)")
    .action(async (jobId: string, o: { out: string; modelKeyFile?: string }, cmd: Command) => {
      const id = String(parseId(jobId, 'job'));
      const ctx = await client(cmd);
      const privateKey = modelPrivateKey(o.modelKeyFile, loadKey(ctx.opts)?.privateKey);
      const r = await fetchModel({ client: ctx.api, jobId: id, privateKey, out: resolve(o.out) });
      print(ctx.opts, r, () => `model of job ${r.jobId}: ${r.bytes} bytes, sha256 ${r.sha256} (matches the job and receipt ${r.receiptCid}), written to ${r.out}\nrun \`provena receipt verify ${r.receiptCid}\` to check the receipt against the chain`);
    });
}

/** Adds `refund <job> [--to]` to the `job` command. */
export function registerJobRefundCommand(job: Command): void {
  job
    .command('refund <jobId>')
    .description("send an ended job's unused budget back once its report window closed, from the license holder's key (you pay the gas)")
    .option('--to <address>', 'where the funds go (default: your address)')
    .addOption(new Option('--rpc-url <url>', 'JSON-RPC endpoint of the chain').env('PROVENA_CHAIN_RPC_URL').default('http://127.0.0.1:8545'))
    .option('--confirmations <n>', 'blocks to wait for after it is mined', '1')
    .action(async (jobId: string, o: { to?: string; rpcUrl: string; confirmations: string }, cmd: Command) => {
      const id = parseId(jobId, 'job');
      const ctx = await client(cmd);
      const to = o.to === undefined ? undefined : Address.parse(o.to);
      await withLabSigner(ctx.api, ctx.opts, o.rpcUrl, async (signer, licenseManager) => {
        const r = await refundJob({ signer, licenseManager, jobId: id, ...(to ? { to } : {}), confirmations: Number(o.confirmations), onSent: (h) => ctx.opts.json || process.stdout.write(`refund tx ${h}\n`) });
        print(ctx.opts, { jobId: String(id), ...r }, () => `refunded ${r.amount} (token base units) of job ${id} to ${r.to} in block ${r.blockNumber} (tx ${r.txHash})`);
      });
    });
}
