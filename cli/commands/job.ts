/**
 * `provena job submit|show|watch|list|cancel`: a lab's training jobs. `submit` opens the job on chain from the
 * lab's own key (`LicenseManager.openJob`, its own gas), reads the job id from the `JobOpened` event, then hands
 * the recipe and the model key to the API (`POST /v1/jobs`, signed by the same key). `cancel` ends the job on chain
 * (`endJob`); the worker stops at its next checkpoint. Amounts are given in payment-token units (e.g. `100` =
 * 100 USD) and shown in base units, as `license buy` does.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { JsonRpcProvider, parseUnits, type Wallet } from 'ethers';
import { LicenseManager__factory } from '../../contracts/typechain/index.js';
import { ProvenaError } from '../../shared/errors.js';
import { routes } from '../../shared/http/routes.js';
import { Address } from '../../shared/schemas/common.js';
import { JobId, Secp256k1PublicKey, type Job, type JobSubmitInput } from '../../shared/schemas/job.js';
import { Recipe } from '../../shared/schemas/recipe.js';
import { tokenDecimals } from '../../shared/sdk/license.js';
import { client, print, readJson, say } from '../context.js';

type Context = Awaited<ReturnType<typeof client>>;

/** Statuses after which `job watch` stops. */
const TERMINAL: readonly Job['status'][] = ['done', 'failed', 'cancelled'];
const RATE_UNITS = { s: 1, m: 60, h: 3600 } as const;

/** `100` (token units) → base units; positive. */
export function parseAmount(text: string, decimals: number, flag: string): bigint {
  try {
    const v = parseUnits(text.trim(), decimals);
    if (v > 0n) return v;
  } catch {
    // reported below
  }
  throw new ProvenaError('VALIDATION_FAILED', `${flag} ${text}: must be a positive amount of the payment token (up to ${decimals} decimals)`);
}

/** `0.5/s`, `30/m`, `1000/h` (token units per second, minute or hour) → base units per second (at least 1). */
export function parseRate(text: string, decimals: number): bigint {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*\/\s*([smh])\s*$/.exec(text);
  if (!m) throw new ProvenaError('VALIDATION_FAILED', `--max-rate ${text}: use an amount per unit of time, e.g. 0.5/s, 30/m, 1000/h`);
  const perSecond = parseAmount(m[1] as string, decimals, '--max-rate') / BigInt(RATE_UNITS[m[2] as keyof typeof RATE_UNITS]);
  if (perSecond === 0n) throw new ProvenaError('VALIDATION_FAILED', `--max-rate ${text}: less than one base unit per second`);
  return perSecond;
}

/** The job as the live view shows it: status, money per dataset, rate, reports, checkpoints, metrics, receipt. */
export function renderJob(job: Job): string {
  const lines = [
    `job ${job.id}  ${job.status.toUpperCase()}  license ${job.licenseId}  holder ${job.holder}  attempts ${job.attempts}`,
    `  budget ${job.budget}  spent ${job.spent}  rate now ${job.currentRatePerSecond}/s (cap ${job.maxRatePerSecond}/s)  started ${job.startedAt}${job.endedAt ? `  ended ${job.endedAt}` : ''}`,
    `  recipe ${job.recipe.kind} (${job.recipeHash.slice(0, 18)}…)${job.worker ? `  worker ${job.worker.address} (${job.worker.mode})` : ''}`,
  ];
  const rows = [['DATASET', 'REGISTRY', 'PRICE', 'SAMPLES', 'PAID']];
  for (const d of job.datasets) rows.push([d.datasetId, d.chainDatasetId, d.pricePerSample, d.settledSamples, d.paid]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  lines.push(...rows.map((r) => `  ${r.map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()}`));
  const last = job.reports.at(-1);
  lines.push(last ? `  last report ${last.txHash} at ${last.at}: paid ${last.paid}${last.final ? ' (final)' : ''}  (${job.reports.length} report(s))` : '  no usage report yet');
  const cp = job.checkpoints.at(-1);
  lines.push(cp ? `  checkpoint ${job.checkpoints.length}: epoch ${cp.position.epoch} step ${cp.position.step}, ${cp.bytes} bytes, ${cp.committedAt}` : '  no checkpoint yet');
  const m = job.metrics.at(-1);
  if (m) lines.push(`  epoch ${m.epoch}: ${Object.entries(m.train).map(([k, v]) => `train ${k} ${v.toPrecision(4)}`).join(', ')}${m.val ? `; ${Object.entries(m.val).map(([k, v]) => `val ${k} ${v.toPrecision(4)}`).join(', ')}` : ''}${m.epsilon === undefined ? '' : `; ε ${m.epsilon.toFixed(3)}`}`);
  if (job.receipt) lines.push(`  receipt ${job.receipt.cid} (tx ${job.receipt.txHash})`);
  if (job.model) lines.push(`  model ${job.model.bytes} bytes, sha256 ${job.model.sha256}: fetch it with \`provena job model ${job.id}\``);
  if (job.error) lines.push(`  error ${job.error.code}: ${job.error.message}`);
  return lines.join('\n');
}

function keyOf(ctx: Context, what: string): Wallet {
  if (!ctx.wallet) throw new ProvenaError('AUTH_MISSING', `${what} needs your key (--key-file or PROVENA_PRIVATE_KEY)`);
  return ctx.wallet;
}

/** The LicenseManager the API names, and a provider for its chain. */
async function chainOf(ctx: Context, rpcUrl: string): Promise<{ licenseManager: string; provider: JsonRpcProvider }> {
  const health = await ctx.api.health();
  const licenseManager = health.contracts.LicenseManager;
  if (!licenseManager) throw new ProvenaError('CONFIG_INVALID', 'The API names no LicenseManager contract');
  return { licenseManager, provider: new JsonRpcProvider(rpcUrl, health.chainId, { staticNetwork: true }) };
}

/** The revert data an ethers error carries somewhere in its chain (estimateGas and call errors nest it). */
function revertData(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 6; depth++) {
    const data = (e as { data?: unknown }).data;
    if (typeof data === 'string' && data.startsWith('0x') && data.length >= 10) return data;
    if (data && typeof data === 'object' && typeof (data as { data?: unknown }).data === 'string') return (data as { data: string }).data;
    e = (e as { error?: unknown }).error ?? (e as { info?: { error?: unknown } }).info?.error ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A LicenseManager call refused by the contract, named by its custom error; other errors pass through. */
export function contractRefusal(err: unknown, call: string): unknown {
  const data = revertData(err);
  let parsed: ReturnType<ReturnType<typeof LicenseManager__factory.createInterface>['parseError']> = null;
  try {
    parsed = data ? LicenseManager__factory.createInterface().parseError(data) : null;
  } catch {
    parsed = null;
  }
  if (!parsed) return err;
  const why = `${call} would revert: ${parsed.name}(${parsed.args.map(String).join(', ')})`;
  if (parsed.name === 'LicenseManager_NotLicenseHolder') return new ProvenaError('JOB_NOT_LICENSE_HOLDER', `${why}: your key does not hold the license`, { cause: err });
  if (parsed.name === 'LicenseManager_LicenseExpired') return new ProvenaError('LICENSE_EXPIRED', why, { cause: err });
  if (parsed.name === 'LicenseManager_JobEnded') return new ProvenaError('JOB_NOT_ACTIVE', `${why}: the job has already ended`, { cause: err });
  return new ProvenaError('VALIDATION_FAILED', why, { cause: err });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

const rpcOption = () => new Option('--rpc-url <url>', 'JSON-RPC endpoint of the chain').env('PROVENA_CHAIN_RPC_URL').default('http://127.0.0.1:8545');

/** Adds `provena job …` to `program` and returns the `job` command (more subcommands attach to it). */
export function registerJobCommands(program: Command): Command {
  const job = program.command('job').description('submit, follow and cancel training jobs on your licenses (labs)');

  job
    .command('submit')
    .description('open a job on chain from your key (you pay the gas), then submit its recipe and model key to the API')
    .requiredOption('--license <id>', 'the license the job draws on')
    .requiredOption('--recipe <file>', 'training recipe (JSON; `-` for stdin), checked against the schema the trainer uses')
    .requiredOption('--model-key <file>', "file holding your secp256k1 public key (0x-hex): the model is delivered sealed to it")
    .option('--budget <amount>', "the job's budget in payment-token units, moved from the license's unallocated funds")
    .option('--max-rate <rate>', 'spending cap: token units per second, minute or hour (0.5/s, 30/m)')
    .option('--max-epsilon <n>', 'refuse a DP plan above this epsilon')
    .option('--job <id>', 'submit a job already opened on chain (a retry after a failed submit): no new job is opened')
    .option('--confirmations <n>', 'blocks to wait for after openJob is mined', '1')
    .addOption(rpcOption())
    .action(async (o: { license: string; recipe: string; modelKey: string; budget?: string; maxRate?: string; maxEpsilon?: string; job?: string; confirmations: string; rpcUrl: string }, cmd: Command) => {
      const ctx = await client(cmd);
      const key = keyOf(ctx, 'job submit');
      // Everything the API will check about the body is checked before any gas is spent.
      const recipe = Recipe.parse(readJson(o.recipe));
      const modelKey = Secp256k1PublicKey.parse(readFileSync(o.modelKey, 'utf8').trim());
      const maxEpsilon = o.maxEpsilon === undefined ? undefined : Number(o.maxEpsilon);
      if (maxEpsilon !== undefined && !(maxEpsilon > 0 && maxEpsilon <= 1000)) throw new ProvenaError('VALIDATION_FAILED', `--max-epsilon ${o.maxEpsilon}: must be in (0, 1000]`);
      let jobId = o.job === undefined ? undefined : JobId.parse(o.job);
      if (jobId === undefined) {
        if (o.budget === undefined || o.maxRate === undefined) throw new ProvenaError('VALIDATION_FAILED', 'opening a job needs --budget and --max-rate (or --job ID to submit one already open)');
        const { licenseManager, provider } = await chainOf(ctx, o.rpcUrl);
        try {
          const signer = key.connect(provider);
          const decimals = await tokenDecimals(signer, licenseManager);
          const budget = parseAmount(o.budget, decimals, '--budget');
          const rate = parseRate(o.maxRate, decimals);
          const lm = LicenseManager__factory.connect(licenseManager, signer);
          const tx = await lm.openJob(BigInt(o.license), budget, rate).catch((err: unknown) => {
            throw contractRefusal(err, 'openJob');
          });
          if (!ctx.opts.json) say(`openJob tx ${tx.hash}\n`);
          const receipt = await tx.wait(Number(o.confirmations));
          for (const log of receipt?.logs ?? []) {
            const parsed = lm.interface.parseLog(log);
            if (parsed?.name === 'JobOpened') jobId = String(parsed.args[0]);
          }
          if (jobId === undefined) throw new ProvenaError('DEPENDENCY_FAILED', `openJob (${tx.hash}) emitted no JobOpened event`);
          if (!ctx.opts.json) say(`job ${jobId} opened on chain; submitting it (retry with --job ${jobId} if this fails)\n`);
        } finally {
          provider.destroy();
        }
      }
      const body: JobSubmitInput = { jobId, recipe, modelKey, ...(maxEpsilon === undefined ? {} : { maxEpsilon }) };
      const submitted = await ctx.api.call(routes.submitJob, { body });
      print(ctx.opts, submitted, () => `${renderJob(submitted)}\n\nfollow it with \`provena job watch ${submitted.id}\``);
    });

  job
    .command('show <id>')
    .description('one job: status, samples and royalties per dataset (from the chain), rate, reports, checkpoints, metrics, receipt')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = await client(cmd);
      const view = await ctx.api.call(routes.getJob, { params: { jobId: JobId.parse(id) } });
      print(ctx.opts, view, () => renderJob(view));
    });

  job
    .command('watch <id>')
    .description('redraw `job show` until the job is done, failed or cancelled (or Ctrl-C)')
    .option('--interval <seconds>', 'seconds between refreshes', '2')
    .action(async (id: string, o: { interval: string }, cmd: Command) => {
      const ctx = await client(cmd);
      const seconds = Number(o.interval);
      if (!(seconds >= 1 && seconds <= 3600)) throw new ProvenaError('VALIDATION_FAILED', `--interval must be 1..3600 seconds, got ${o.interval}`);
      const jobId = JobId.parse(id);
      const stop = new AbortController();
      const onSigint = (): void => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        while (!stop.signal.aborted) {
          const view = await ctx.api.call(routes.getJob, { params: { jobId } });
          const over = TERMINAL.includes(view.status);
          if (ctx.opts.json) print(ctx.opts, view, () => '');
          else print(ctx.opts, view, () => `\x1b[2J\x1b[H${renderJob(view)}\n\n${over ? `job ${view.status}` : `refreshing every ${seconds}s at ${new Date().toISOString()}; Ctrl-C to stop`}`);
          if (over) break;
          await sleep(seconds * 1000, stop.signal);
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });

  job
    .command('list')
    .description("your jobs (or --holder's), newest first")
    .option('--holder <address>', "whose jobs (default: your key's address)")
    .option('--limit <n>', 'page size (1-100)', '20')
    .option('--cursor <cursor>', 'continue from a previous page')
    .action(async (o: { holder?: string; limit: string; cursor?: string }, cmd: Command) => {
      const ctx = await client(cmd);
      const holder = o.holder === undefined ? keyOf(ctx, 'job list without --holder').address : Address.parse(o.holder);
      const page = await ctx.api.call(routes.listJobs, { query: { holder, limit: Number(o.limit), ...(o.cursor ? { cursor: o.cursor } : {}) } });
      print(ctx.opts, page, () =>
        [...page.items.map((j) => `job ${j.id}  ${j.status}  license ${j.licenseId}  spent ${j.spent}/${j.budget}  submitted ${j.submittedAt}`), page.items.length ? '' : '(no jobs)', page.nextCursor ? `more: --cursor ${page.nextCursor}` : '']
          .filter(Boolean)
          .join('\n'),
      );
    });

  job
    .command('cancel <id>')
    .description('end the job on chain from your key (endJob): no more keys or payments; the worker stops at its next checkpoint')
    .option('--confirmations <n>', 'blocks to wait for', '1')
    .addOption(rpcOption())
    .action(async (id: string, o: { confirmations: string; rpcUrl: string }, cmd: Command) => {
      const ctx = await client(cmd);
      const key = keyOf(ctx, 'job cancel');
      const { licenseManager, provider } = await chainOf(ctx, o.rpcUrl);
      try {
        const lm = LicenseManager__factory.connect(licenseManager, key.connect(provider));
        const tx = await lm.endJob(BigInt(JobId.parse(id))).catch((err: unknown) => {
          throw contractRefusal(err, 'endJob');
        });
        const receipt = await tx.wait(Number(o.confirmations));
        print(ctx.opts, { jobId: id, txHash: tx.hash, blockNumber: receipt?.blockNumber }, () => `job ${id} ended on chain in block ${receipt?.blockNumber} (tx ${tx.hash}); the budget left is refundable now (provena job refund ${id})`);
      } finally {
        provider.destroy();
      }
    });

  return job;
}
