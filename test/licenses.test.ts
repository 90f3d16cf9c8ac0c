/**
 * Licenses end to end on the embedded stack: a lab quotes and buys through the CLI from its own key, the indexer
 * loop puts the license in `GET /v1/licenses?holder=`, and `GET /v1/licenses/{id}` agrees with the contract views.
 * A price raised after the quote is never bought at the new price: the CLI and the SDK refuse, nothing is paid.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { DatasetRegistry__factory, MockUSD__factory } from '../contracts/typechain/index.js';
import { routes } from '../shared/http/routes.js';
import { buyLicense } from '../shared/sdk/license.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import type { LicenseSummary } from '../shared/schemas/license.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { runCli } from './support/cli.js';
import { licenseManager } from './support/data.js';
import { codeOf } from './support/errors.js';
import { listing } from './support/fixtures.js';
import { clientFor, provider, stackInfo } from './support/stack.js';

// Dev accounts 18 (lab) and 19 (dataset owner, funded so it can change its price on chain itself).
const LAB = 18;
const OWNER = 19;
const chain = provider();
const lab = new Wallet(devAccountKey(LAB), chain);
const owner = new Wallet(devAccountKey(OWNER), chain);
const api = clientFor(owner);
const token = () => MockUSD__factory.connect(stackInfo().deployment.contracts.PaymentToken as string, lab);
const cli = (args: string[]) =>
  runCli(['--json', ...args], { PROVENA_API_URL: stackInfo().apiUrl, PROVENA_CHAIN_RPC_URL: stackInfo().rpcUrl, PROVENA_PRIVATE_KEY: devAccountKey(LAB) });

async function indexedLicense(id: string, jobs = 0): Promise<LicenseSummary> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const page = await api.call(routes.listLicenses, { query: { holder: lab.address, limit: 100 } });
    const found = page.items.find((l) => l.id === id);
    if (found && found.jobs.length >= jobs) return found;
    if (Date.now() > deadline) throw new Error(`license ${id} not indexed in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let ds: Dataset;
beforeAll(async () => {
  ds = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'Licensed rows' }))).id);
  await (await token().mint(lab.address, 1_000n * 1_000_000n)).wait();
});
afterAll(() => chain.destroy());

describe('licenses', () => {
  it('quotes the registry price and what N samples cost', async () => {
    const r = await cli(['license', 'quote', ds.id, '--samples', '1000']);

    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { quotes, total } = JSON.parse(r.stdout) as { quotes: { chainDatasetId: string; pricePerSample: string; cost: string; version: number }[]; total: string };
    expect(quotes[0]).toMatchObject({ chainDatasetId: ds.chainDatasetId, pricePerSample: '25', cost: '25000', version: 1 });
    expect(total).toBe('25000');
  });

  it('buys through the CLI from the lab key; the indexed license and its figures equal the contract views', async () => {
    const r = await cli(['license', 'buy', ds.id, '--budget', '250', '--expires-in', '90d']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bought = JSON.parse(r.stdout) as { licenseId: string; txHash: string };
    expect(bought.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const lm = licenseManager(lab);
    await (await lm.openJob(BigInt(bought.licenseId), 100_000_000n, 10n ** 12n)).wait();

    const listed = await indexedLicense(bought.licenseId, 1);
    const detail = await api.call(routes.getLicense, { params: { id: bought.licenseId } });

    const onChain = await lm.getLicense(BigInt(bought.licenseId));
    const job = await lm.getJob(BigInt(listed.jobs[0] as string));
    expect(listed).toMatchObject({ holder: lab.address, budget: '250000000', datasets: [{ datasetId: ds.chainDatasetId, pricePerSample: '25' }] });
    expect(listed.purchase.txHash).toBe(bought.txHash);
    expect(detail).toMatchObject({
      holder: lab.address,
      active: true,
      budget: String(onChain.budget),
      unallocated: String(onChain.unallocated),
      allocated: String(onChain.budget - onChain.unallocated),
      spent: String(job.spent),
      remaining: String(onChain.unallocated + job.budget - job.spent),
      expiry: new Date(Number(onChain.expiry) * 1000).toISOString(),
    });
    expect(detail.allocated).toBe('100000000');
    expect(detail.jobs.map((j) => j.id)).toEqual(listed.jobs);
  });

  it('refuses to buy at a price raised after the quote: nothing bought, nothing paid', async () => {
    const quoted = await api.call(routes.quoteDataset, { params: { id: ds.id }, query: { samples: '1' } });
    const registry = DatasetRegistry__factory.connect(stackInfo().deployment.contracts.DatasetRegistry as string, owner);
    await (await registry.update(BigInt(ds.chainDatasetId as string), 50n, ds.chainManifestCid as string)).wait();
    const before = { usd: await token().balanceOf(lab.address), eth: await chain.getBalance(lab.address), licenses: (await api.call(routes.listLicenses, { query: { holder: lab.address } })).items.length };

    // The CLI with the quoted price as its cap, and the SDK with the same cap (the contract's own refusal).
    const viaCli = await cli(['license', 'buy', ds.id, '--budget', '250', '--expires-in', '90d', '--max-price-per-sample', '0.000025']);
    const viaSdk = await codeOf(
      buyLicense({ signer: lab, licenseManager: stackInfo().deployment.contracts.LicenseManager as string, datasetIds: [BigInt(quoted.chainDatasetId)], maxPricesPerSample: [BigInt(quoted.pricePerSample)], budget: 250_000_000n, expiry: Math.floor(Date.now() / 1000) + 86_400 }),
    );

    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toMatch(/LICENSE_PRICE_ABOVE_MAX/);
    expect(viaSdk).toBe('LICENSE_PRICE_ABOVE_MAX');
    expect(await token().balanceOf(lab.address)).toBe(before.usd);
    expect(await chain.getBalance(lab.address)).toBe(before.eth);
    await new Promise((r) => setTimeout(r, 1500)); // an indexer tick or two
    expect((await api.call(routes.listLicenses, { query: { holder: lab.address } })).items).toHaveLength(before.licenses);
  });

  it('reports the indexer lag in /v1/health', async () => {
    const health = await api.health();

    expect(health.components.indexer?.status).toBe('ok');
    expect(health.components.indexer?.detail).toMatch(/^lag \d+ blocks, \d+ s/);
  });

  it('answers LICENSE_NOT_FOUND for a license that does not exist', async () => {
    expect(await codeOf(api.call(routes.getLicense, { params: { id: '999999' } }))).toBe('LICENSE_NOT_FOUND');
  });
});
