/**
 * `provena royalties show|claim|watch`: what a recipient earned per dataset (read from the chain's views through the
 * API) and claiming it, on chain from the recipient's own key (it pays the gas) or gasless (it signs an EIP-712
 * `Claim`, the API's relayer submits it).
 */
import { Command, Option } from 'commander';
import { JsonRpcProvider, Wallet, getAddress, type Log } from 'ethers';
import * as z from 'zod';
import { LicenseManager__factory, MockUSD__factory } from '../../contracts/typechain/index.js';
import { licenseManagerDomain, signClaim } from '../../shared/eip712.js';
import { ProvenaError } from '../../shared/errors.js';
import { routes } from '../../shared/http/routes.js';
import { Address } from '../../shared/schemas/common.js';
import type { ClaimResult, RoyaltiesReport } from '../../shared/schemas/royalties.js';
import { client, print } from '../context.js';

type Context = Awaited<ReturnType<typeof client>>;

/** The shared CLI context (global options, key, API client): one definition in cli/context.ts. */
const context = (cmd: Command): Promise<Context> => client(cmd);

function recipientOf(address: string | undefined, wallet: Wallet | undefined): string {
  if (address !== undefined) {
    const r = Address.safeParse(address);
    if (!r.success) throw new ProvenaError('VALIDATION_FAILED', `${address} is not an address`);
    return r.data;
  }
  if (!wallet) throw new ProvenaError('AUTH_MISSING', 'No address: pass one, or your key (--key-file or PROVENA_PRIVATE_KEY)');
  return wallet.address;
}


/**
 * The report as a table: one row per dataset (with its current rate per second), then the totals; then each
 * dataset's jobs and the latest history lines (accruals and claims with their transactions).
 */
export function renderRoyalties(r: RoyaltiesReport, options: { historyLines?: number } = {}): string {
  const rows = [['DATASET', 'REGISTRY', 'UNITS', 'ACCRUED', 'CLAIMED', 'CLAIMABLE', 'RATE/S', 'TITLE']];
  for (const d of r.datasets) rows.push([d.datasetId, d.chainDatasetId, d.units, d.accrued, d.claimed, d.claimable, d.ratePerSecond, d.title]);
  rows.push(['total', '', '', r.totals.accrued, r.totals.claimed, r.totals.claimable, r.totals.ratePerSecond, '']);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const lines = rows.map((row) => row.map((cell, i) => (i >= 2 && i <= 6 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
  const jobs = r.datasets.flatMap((d) =>
    d.jobs.map((j) => `  ${d.datasetId} job ${j.jobId}: ${j.samples} samples, paid in ${j.paidIn}, your share ${j.share}${j.running ? `, running at ${j.ratePerSecond}/s` : ', not running'} (last report ${j.lastReport.txHash})`),
  );
  const history = r.history.slice(0, options.historyLines ?? 10).map((h) =>
    h.kind === 'accrual'
      ? `  ${h.at}  +${h.share}  ${h.datasetId} job ${h.jobId} (pool +${h.poolAmount})  block ${h.blockNumber} tx ${h.txHash}`
      : `  ${h.at}  claimed ${h.amount} to ${h.to}  block ${h.blockNumber} tx ${h.txHash}`,
  );
  return [
    `royalties of ${r.recipient} (chain ${r.chainId}, block ${r.blockNumber}; token base units)`,
    ...(r.datasets.length ? lines : ['(no datasets pay this address)']),
    ...(jobs.length ? ['jobs:', ...jobs] : []),
    ...(history.length ? [`history (latest ${history.length} of ${r.history.length}${r.indexedThrough === undefined ? '' : `, indexed through block ${r.indexedThrough}`}):`, ...history] : []),
  ].join('\n');
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** Registry ids of `refs` (listing ids are resolved through the API), or every dataset with something claimable. */
async function claimDatasets(ctx: Context, recipient: string, refs: string[] | undefined): Promise<bigint[]> {
  if (refs?.length) {
    return Promise.all(
      refs.map(async (ref) => {
        if (/^[1-9][0-9]*$/.test(ref)) return BigInt(ref);
        const chainId = (await ctx.api.getDataset(ref)).chainDatasetId;
        if (!chainId) throw new ProvenaError('DATASET_NOT_REGISTERED', `Dataset ${ref} is not on the registry: it has no royalties`);
        return BigInt(chainId);
      }),
    );
  }
  const report = await ctx.api.call(routes.getRoyalties, { params: { address: recipient } });
  const ids = report.datasets.filter((d) => d.claimable !== '0').map((d) => BigInt(d.chainDatasetId));
  if (ids.length === 0) throw new ProvenaError('ROYALTY_NOTHING_TO_CLAIM', `${recipient} has nothing to claim now`);
  return ids;
}

/**
 * The Merkle leaves the chain does not hold yet among `datasetIds` (`proofRequired` in the royalty report), each
 * with its proof from `GET /v1/datasets/{id}/split/{address}`: a first claim proves them, later ones need none.
 */
async function unprovenLeaves(ctx: Context, recipient: string, datasetIds: bigint[]): Promise<{ datasetId: bigint; units: bigint; proof: string[] }[]> {
  const report = await ctx.api.call(routes.getRoyalties, { params: { address: recipient } });
  const wanted = new Set(datasetIds.map(String));
  const pending = report.datasets.filter((d) => d.proofRequired && wanted.has(d.chainDatasetId));
  return Promise.all(
    pending.map(async (d) => {
      const share = await ctx.api.call(routes.getSplitShare, { params: { id: d.datasetId, address: recipient } });
      return { datasetId: BigInt(d.chainDatasetId), units: BigInt(share.units), proof: share.proof };
    }),
  );
}

/**
 * Claims from the recipient's own key: `claimOne` for one dataset or `claim` (to itself; `claimWithProofs` when a Merkle share is unproven) or,
 * with another `to`, `claimWithSig` it signs and sends (carrying any proofs).
 */
async function claimOnChain(ctx: Context, wallet: Wallet, rpcUrl: string, datasetIds: bigint[], to: string): Promise<ClaimResult> {
  const health = await ctx.api.health();
  const address = health.contracts.LicenseManager;
  if (!address) throw new ProvenaError('CONFIG_INVALID', 'The API names no LicenseManager contract');
  const signer = wallet.connect(new JsonRpcProvider(rpcUrl, health.chainId, { staticNetwork: true }));
  const manager = LicenseManager__factory.connect(address, signer);
  const proofs = await unprovenLeaves(ctx, wallet.address, datasetIds);
  if (proofs.length) process.stderr.write(`proving ${proofs.length} Merkle share(s) with this claim (proofs from the API's split route)\n`);
  let tx;
  if (to === wallet.address) {
    // One dataset without a proof to make: the array-free entry point (about 3,200 gas less: no array, no lock, and
    // no RoyaltiesClaimed; its record is the token's Transfer, read below).
    tx = proofs.length
      ? await manager.claimWithProofs(proofs, datasetIds)
      : datasetIds.length === 1
        ? await manager.claimOne(datasetIds[0]!)
        : await manager.claim(datasetIds);
  } else {
    const nonce = await manager.claimNonces(wallet.address);
    const block = await signer.provider?.getBlock('latest');
    const deadline = BigInt((block?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600);
    const signature = await signClaim(wallet, licenseManagerDomain(health.chainId, address), { recipient: wallet.address, datasetIds, to, nonce, deadline });
    tx = await manager.claimWithSig(wallet.address, proofs, datasetIds, to, deadline, signature);
  }
  process.stderr.write(`sent ${tx.hash}, waiting for it to mine\n`);
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new ProvenaError('DEPENDENCY_FAILED', `The claim ${tx.hash} did not succeed`);
  const result = (amount: bigint): ClaimResult => ({ recipient: wallet.address, to, datasetIds: datasetIds.map(String), amount: amount.toString(), txHash: receipt.hash, blockNumber: receipt.blockNumber });
  for (const log of receipt.logs) {
    const parsed = manager.interface.parseLog(log);
    if (parsed?.name === 'RoyaltiesClaimed') return result(parsed.args[2] as bigint);
  }
  if (tx.data.startsWith(manager.interface.getFunction('claimOne').selector)) return result(claimOnePaid(receipt.logs, health.contracts.PaymentToken, address, wallet.address));
  throw new ProvenaError('DEPENDENCY_FAILED', `The claim ${tx.hash} emitted no RoyaltiesClaimed event`);
}

/**
 * What a `claimOne` paid: it emits no event of its own, so its record is the payment token's Transfer from the
 * manager to the recipient (none when nothing was owed: 0).
 */
function claimOnePaid(logs: readonly Log[], token: string | undefined, manager: string, recipient: string): bigint {
  if (!token) throw new ProvenaError('CONFIG_INVALID', 'The API names no PaymentToken contract');
  const erc20 = MockUSD__factory.createInterface();
  let paid = 0n;
  for (const log of logs) {
    if (log.address.toLowerCase() !== token.toLowerCase()) continue;
    const parsed = erc20.parseLog(log);
    if (parsed?.name === 'Transfer' && sameAddress(parsed.args[0], manager) && sameAddress(parsed.args[1], recipient)) paid += parsed.args[2] as bigint;
  }
  return paid;
}

const sameAddress = (a: unknown, b: string) => String(a).toLowerCase() === b.toLowerCase();

/** Claims gaslessly: fetches the typed data from the API, signs it here, posts it for the relayer. */
async function claimGasless(ctx: Context, wallet: Wallet, datasetIds: bigint[], to: string): Promise<ClaimResult> {
  const typed = await ctx.api.call(routes.getClaimTypedData, { params: { address: wallet.address }, query: { datasets: datasetIds.join(','), to } });
  const { domain, types, message } = typed;
  const signature = await wallet.signTypedData(domain, types, message);
  return ctx.api.call(routes.claimRoyalties, {
    params: { address: wallet.address },
    body: { datasetIds: message.datasetIds, to: message.to, nonce: message.nonce, deadline: message.deadline, signature },
  });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Adds `provena royalties show|claim|watch` to `program`. */
export function registerRoyaltiesCommands(program: Command): void {
  const royalties = program
    .command('royalties')
    .description('see and claim the royalties paid to an address (figures read from the chain)')
    .addHelpText(
      'after',
      `
Amounts are the payment token's base units. Accrued = claimed + claimable, per dataset, read from the
LicenseManager's views at one block. RATE/S is what you earn per second now: per running job, your share of its
last usage report over the seconds since the report before (the contracts settle discrete reports). Jobs and the
history (accruals and claims, with transactions) come from the API's chain index.`,
    );

  royalties
    .command('show [address]')
    .description('accrued, claimed and claimable per dataset (default address: your key\'s)')
    .action(async (address: string | undefined, _o: unknown, cmd: Command) => {
      const ctx = await context(cmd);
      const report = await ctx.api.call(routes.getRoyalties, { params: { address: recipientOf(address, ctx.wallet) } });
      print(ctx.opts, report, () => renderRoyalties(report));
    });

  royalties
    .command('claim')
    .description('claim your royalties: on chain from your key (you pay the gas), or --gasless (you sign, the API pays)')
    .option('--gasless', 'sign an EIP-712 Claim and let the API relay it', false)
    .option('--to <address>', 'where the funds go (default: your address)')
    .option('--dataset <id...>', 'listing (ds_…) or registry ids to claim from (default: every one with something claimable)', collect)
    .addOption(new Option('--rpc-url <url>', 'chain RPC for an on-chain claim').env('PROVENA_RPC_URL'))
    .action(async (o: { gasless: boolean; to?: string; dataset?: string[]; rpcUrl?: string }, cmd: Command) => {
      const ctx = await context(cmd);
      const wallet = ctx.wallet;
      if (!wallet) throw new ProvenaError('AUTH_MISSING', 'claim needs your key (--key-file or PROVENA_PRIVATE_KEY)');
      const to = o.to === undefined ? wallet.address : getAddress(recipientOf(o.to, undefined));
      const datasetIds = await claimDatasets(ctx, wallet.address, o.dataset);
      let result: ClaimResult;
      if (o.gasless) {
        result = await claimGasless(ctx, wallet, datasetIds, to);
      } else {
        if (!o.rpcUrl) throw new ProvenaError('VALIDATION_FAILED', 'an on-chain claim needs --rpc-url (or PROVENA_RPC_URL); or pass --gasless');
        result = await claimOnChain(ctx, wallet, o.rpcUrl, datasetIds, to);
      }
      print(ctx.opts, result, () => `claimed ${result.amount} from registry datasets ${result.datasetIds.join(', ')} to ${result.to} in ${result.txHash} (block ${result.blockNumber}${o.gasless ? ', gasless' : ''})`);
    });

  royalties
    .command('watch [address]')
    .description('redraw `royalties show` every few seconds until Ctrl-C')
    .option('--interval <seconds>', 'seconds between refreshes', '5')
    .action(async (address: string | undefined, o: { interval: string }, cmd: Command) => {
      const ctx = await context(cmd);
      const recipient = recipientOf(address, ctx.wallet);
      const seconds = Number(o.interval);
      if (!(seconds >= 1 && seconds <= 3600)) throw new ProvenaError('VALIDATION_FAILED', `--interval must be 1..3600 seconds, got ${o.interval}`);
      const stop = new AbortController();
      const onSigint = (): void => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        while (!stop.signal.aborted) {
          const report = await ctx.api.call(routes.getRoyalties, { params: { address: recipient } });
          if (ctx.opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
          else process.stdout.write(`\x1b[2J\x1b[H${renderRoyalties(report)}\n\nrefreshing every ${seconds}s at ${new Date().toISOString()}; Ctrl-C to stop\n`);
          await sleep(seconds * 1000, stop.signal);
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
