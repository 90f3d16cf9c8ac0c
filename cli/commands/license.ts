/**
 * `provena license quote|buy|list|show|reclaim`: a lab's side of licensing. `buy` signs and pays from the lab's own
 * key (its own gas): an ERC-2612 permit where the token has one (else an approval), then `LicenseManager.purchase`
 * with the quoted prices as caps. `reclaim` sends the budget no job was given back from the holder's key.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { JsonRpcProvider, Wallet, formatUnits, parseUnits } from 'ethers';
import * as z from 'zod';
import { ProvenaError } from '../../shared/errors.js';
import { routes } from '../../shared/http/routes.js';
import { Address } from '../../shared/schemas/common.js';
import type { LicenseDetail, LicenseSummary, Quote } from '../../shared/schemas/license.js';
import { ProvenaClient } from '../../shared/sdk/client.js';
import { buyLicense, reclaimUnallocated, tokenDecimals } from '../../shared/sdk/license.js';

const Globals = z.object({
  api: z.url(),
  chainId: z.coerce.number().int().positive().optional(),
  keyFile: z.string().optional(),
  json: z.boolean().default(false),
});
type Globals = z.output<typeof Globals>;

const PrivateKey = z.string().trim().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a private key is 32 bytes of hex');

function wallet(opts: { keyFile?: string | undefined }): Wallet {
  const raw = opts.keyFile ? readFileSync(opts.keyFile, 'utf8') : process.env.PROVENA_PRIVATE_KEY;
  if (raw === undefined) throw new ProvenaError('AUTH_MISSING', 'No key: pass --key-file or set PROVENA_PRIVATE_KEY');
  const r = PrivateKey.safeParse(raw);
  if (!r.success) throw new ProvenaError('VALIDATION_FAILED', `${opts.keyFile ? `--key-file ${opts.keyFile}` : 'PROVENA_PRIVATE_KEY'}: ${r.error.issues[0]?.message}`);
  return new Wallet(r.data.startsWith('0x') ? r.data : `0x${r.data}`);
}

function context(cmd: Command): { api: ProvenaClient; opts: Globals } {
  const opts = Globals.parse(cmd.optsWithGlobals());
  // The license routes are public: the chain id only matters for signed calls.
  return { api: new ProvenaClient({ baseUrl: opts.api, chainId: opts.chainId ?? 0 }), opts };
}

function print(opts: { json: boolean }, value: unknown, human: () => string): void {
  process.stdout.write(`${opts.json ? JSON.stringify(value, null, 2) : human()}\n`);
}

const DURATION = /^([1-9][0-9]{0,6})([smhdw])$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/** `90d`, `12h`, `3600s`, `2w` → seconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new ProvenaError('VALIDATION_FAILED', `--expires-in ${text}: use a number and a unit, e.g. 90d, 12h, 30m, 3600s, 2w`);
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

function amount(text: string, decimals: number, flag: string): bigint {
  try {
    const v = parseUnits(text.trim(), decimals);
    if (v <= 0n) throw new Error('not positive');
    return v;
  } catch {
    throw new ProvenaError('VALIDATION_FAILED', `${flag} ${text}: must be a positive amount of the payment token (up to ${decimals} decimals)`);
  }
}

function quoteLine(q: Quote): string {
  return `${q.datasetId} (registry #${q.chainDatasetId}, v${q.version}${q.listed ? '' : ', DELISTED'})  ${q.pricePerSample}/sample  ${q.samples} samples = ${q.cost}  (token ${q.paymentToken}, base units)`;
}

function summaryLine(l: LicenseSummary): string {
  return `license ${l.id}  budget ${l.budget}  expires ${l.expiry}  datasets ${l.datasets.map((d) => `#${d.datasetId}@${d.pricePerSample}`).join(', ')}  jobs ${l.jobs.length}`;
}

function detailText(l: LicenseDetail): string {
  return [
    `license ${l.id}  ${l.active ? 'active' : 'inactive'}  holder ${l.holder}`,
    `  expires ${l.expiry}  bought ${l.purchasedAt}  tx ${l.purchase.txHash}`,
    `  budget ${l.budget}  allocated ${l.allocated}  spent ${l.spent}  remaining ${l.remaining}  unallocated ${l.unallocated}`,
    ...l.datasets.map((d) => `  dataset #${d.datasetId}: ${d.pricePerSample}/sample (snapshotted)`),
    ...l.jobs.map((j) => `  job ${j.id}: budget ${j.budget} spent ${j.spent}${j.endedAt ? ` ended ${j.endedAt}` : ''}${j.refunded ? ' refunded' : ''}${j.finalized ? ' finalized' : ''}`),
  ].join('\n');
}

/** Registers `provena license …` on `program`. */
export function registerLicenseCommands(program: Command): void {
  const license = program.command('license').description('quote, buy and follow training licenses (labs)');

  license
    .command('quote <datasets...>')
    .description("price per sample now (the registry's), version, terms and what N samples cost")
    .option('--samples <n>', 'samples to price', '1')
    .action(async (datasets: string[], o: { samples: string }, cmd: Command) => {
      const { api, opts } = context(cmd);
      const quotes = await Promise.all(datasets.map((id) => api.call(routes.quoteDataset, { params: { id }, query: { samples: o.samples } })));
      const total = quotes.reduce((s, q) => s + BigInt(q.cost), 0n);
      print(opts, { quotes, total: String(total) }, () => [...quotes.map(quoteLine), `total for ${o.samples} samples of each: ${total}`].join('\n'));
    });

  license
    .command('buy <datasets...>')
    .description("buy a license from your own key (you pay the gas): approve the budget, then purchase at the quoted prices as caps")
    .requiredOption('--budget <amount>', 'budget in payment-token units (e.g. 250 = 250 USD), escrowed for jobs')
    .requiredOption('--expires-in <duration>', 'license lifetime: 90d, 12h, 2w …')
    .option('--max-price-per-sample <amount>', 'cap per sample in token units, for every dataset (default: the quote now)')
    .addOption(new Option('--rpc-url <url>', 'JSON-RPC endpoint of the chain').env('PROVENA_CHAIN_RPC_URL').default('http://127.0.0.1:8545'))
    .option('--confirmations <n>', 'blocks to wait for after the purchase is mined', '1')
    .addOption(new Option('--authorization <how>', 'how the budget is authorized when the allowance is short: a permit where the token has one (auto), a permit only, or an approval').choices(['auto', 'permit', 'approve']).default('auto'))
    .action(async (datasets: string[], o: { budget: string; expiresIn: string; maxPricePerSample?: string; rpcUrl: string; confirmations: string; authorization: 'auto' | 'permit' | 'approve' }, cmd: Command) => {
      const { api, opts } = context(cmd);
      const seconds = parseDuration(o.expiresIn);
      const health = await api.health();
      const licenseManager = health.contracts.LicenseManager;
      if (!licenseManager) throw new ProvenaError('CONFIG_INVALID', 'The API names no LicenseManager contract');
      const provider = new JsonRpcProvider(o.rpcUrl, health.chainId, { staticNetwork: true });
      try {
        const signer = wallet(opts).connect(provider);
        const decimals = await tokenDecimals(signer, licenseManager);
        const budget = amount(o.budget, decimals, '--budget');
        const quotes = await Promise.all(datasets.map((id) => api.call(routes.quoteDataset, { params: { id }, query: { samples: '1' } })));
        const cap = o.maxPricePerSample === undefined ? undefined : amount(o.maxPricePerSample, decimals, '--max-price-per-sample');
        for (const q of quotes) {
          if (!q.listed) throw new ProvenaError('DATASET_DELISTED', `${q.datasetId} is delisted: it cannot be licensed`);
          if (cap !== undefined && BigInt(q.pricePerSample) > cap) {
            throw new ProvenaError('LICENSE_PRICE_ABOVE_MAX', `${q.datasetId} costs ${formatUnits(q.pricePerSample, decimals)} per sample now, above --max-price-per-sample ${o.maxPricePerSample}: nothing was bought`);
          }
        }
        const latest = await provider.getBlock('latest');
        const expiry = (latest?.timestamp ?? Math.floor(Date.now() / 1000)) + seconds;
        const result = await buyLicense({
          signer,
          licenseManager,
          datasetIds: quotes.map((q) => BigInt(q.chainDatasetId)),
          maxPricesPerSample: quotes.map((q) => cap ?? BigInt(q.pricePerSample)),
          budget,
          expiry,
          confirmations: Number(o.confirmations),
          authorization: o.authorization,
          onSent: (step, hash) => {
            if (!opts.json) process.stdout.write(`${step} tx ${hash}\n`);
          },
        });
        print(opts, { ...result, budget: String(budget), expiry: new Date(expiry * 1000).toISOString(), datasets: quotes.map((q) => ({ datasetId: q.datasetId, chainDatasetId: q.chainDatasetId, maxPricePerSample: String(cap ?? BigInt(q.pricePerSample)) })) }, () =>
          `license ${result.licenseId} bought in block ${result.blockNumber} (tx ${result.txHash}; budget authorized by ${result.authorization})`,
        );
      } finally {
        provider.destroy();
      }
    });

  license
    .command('list')
    .description('your licenses (or --holder\'s), newest first, from the chain index')
    .option('--holder <address>', 'whose licenses (default: your key\'s address)')
    .option('--limit <n>', 'page size (1-100)', '20')
    .option('--cursor <cursor>', 'continue from a previous page')
    .action(async (o: { holder?: string; limit: string; cursor?: string }, cmd: Command) => {
      const { api, opts } = context(cmd);
      const holder = o.holder === undefined ? wallet(opts).address : Address.parse(o.holder);
      const page = await api.call(routes.listLicenses, { query: { holder, limit: Number(o.limit), ...(o.cursor ? { cursor: o.cursor } : {}) } });
      print(opts, page, () => [...page.items.map(summaryLine), page.items.length ? '' : '(no licenses)', page.nextCursor ? `more: --cursor ${page.nextCursor}` : ''].filter(Boolean).join('\n'));
    });

  license
    .command('show <id>')
    .description('one license: snapshotted terms; budget, allocated, spent, remaining and jobs from the chain now')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, opts } = context(cmd);
      const detail = await api.call(routes.getLicense, { params: { id } });
      print(opts, detail, () => detailText(detail));
    });

  license
    .command('reclaim <id>')
    .description('send the budget no job was given back, from the holder\'s key (you pay the gas)')
    .option('--to <address>', 'where the funds go (default: your address)')
    .addOption(new Option('--rpc-url <url>', 'JSON-RPC endpoint of the chain').env('PROVENA_CHAIN_RPC_URL').default('http://127.0.0.1:8545'))
    .option('--confirmations <n>', 'blocks to wait for after it is mined', '1')
    .action(async (id: string, o: { to?: string; rpcUrl: string; confirmations: string }, cmd: Command) => {
      const { api, opts } = context(cmd);
      const licenseId = parseId(id, 'license');
      const to = o.to === undefined ? undefined : Address.parse(o.to);
      await withLabSigner(api, opts, o.rpcUrl, async (signer, licenseManager) => {
        const r = await reclaimUnallocated({ signer, licenseManager, licenseId, ...(to ? { to } : {}), confirmations: Number(o.confirmations), onSent: (h) => opts.json || process.stdout.write(`reclaim tx ${h}\n`) });
        print(opts, { licenseId: String(licenseId), ...r }, () => `reclaimed ${r.amount} (token base units) of license ${licenseId} to ${r.to} in block ${r.blockNumber} (tx ${r.txHash})`);
      });
    });
}

/** A positive decimal id (license or job), as the contracts number them. */
export function parseId(text: string, what: 'license' | 'job'): bigint {
  if (!/^[1-9][0-9]{0,76}$/.test(text.trim())) throw new ProvenaError('VALIDATION_FAILED', `${what} id ${text}: must be a positive integer`);
  return BigInt(text.trim());
}

/**
 * Runs `fn` with the lab's key connected to the chain the API names (its LicenseManager and chain id), closing the
 * provider afterwards. Shared by the commands that send a transaction from the holder's key.
 */
export async function withLabSigner<T>(api: ProvenaClient, opts: { keyFile?: string | undefined }, rpcUrl: string, fn: (signer: Wallet, licenseManager: string) => Promise<T>): Promise<T> {
  const health = await api.health();
  const licenseManager = health.contracts.LicenseManager;
  if (!licenseManager) throw new ProvenaError('CONFIG_INVALID', 'The API names no LicenseManager contract');
  const provider = new JsonRpcProvider(rpcUrl, health.chainId, { staticNetwork: true });
  try {
    return await fn(wallet(opts).connect(provider), licenseManager);
  } finally {
    provider.destroy();
  }
}
