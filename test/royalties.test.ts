/**
 * Recipients on the embedded stack: `GET /v1/royalties/{address}` against the LicenseManager's own views after a
 * seeded random sequence of usage reports and claims, on-chain and gasless claims paying exactly what was
 * claimable, replayed and concurrent gasless claims mining once, and foreign signatures refused with nothing paid.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, Wallet, type Signer } from 'ethers';
import { MockUSD__factory } from '../contracts/typechain/index.js';
import { rng } from '../scripts/demo/data.js';
import { verifyRoyaltyProof } from '../shared/domain/royaltyTree.js';
import { licenseManagerDomain, signUsageReport } from '../shared/eip712.js';
import { routes } from '../shared/http/routes.js';
import type { ClaimResult, ClaimTypedData, RoyaltiesReport } from '../shared/schemas/royalties.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { runCli } from './support/cli.js';
import { buyLicense, licenseManager, openAttestedJob } from './support/data.js';
import { codeOf } from './support/errors.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';

const PRICE = 25n; // the fixture listing's price per sample
/** Dev accounts this file owns: the lab, and a recipient that claims on chain with its own gas. */
const LAB_ACCOUNT = 19;
const ONCHAIN_RECIPIENT_ACCOUNT = 18;

const dir = mkdtempSync(join(tmpdir(), 'provena-royalties-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const api = clientFor();
const token = () => MockUSD__factory.connect(stackInfo().deployment.contracts.PaymentToken as string, provider());
const lmView = () => licenseManager(provider() as unknown as Signer);

const royaltiesOf = (address: string): Promise<RoyaltiesReport> => api.call(routes.getRoyalties, { params: { address } });

/** Fetches the typed data for `recipient`, signs it with `signer` and posts it. */
async function gaslessClaim(recipient: string, signer: Wallet, options: { to?: string; datasets?: string } = {}): Promise<{ typed: ClaimTypedData; body: Parameters<typeof postClaim>[1]; result: Promise<ClaimResult> }> {
  const typed = await api.call(routes.getClaimTypedData, { params: { address: recipient }, query: { ...(options.to ? { to: options.to } : {}), ...(options.datasets ? { datasets: options.datasets } : {}) } });
  const { domain, types, message } = typed;
  const signature = await signer.signTypedData(domain, types, message);
  const body = { datasetIds: message.datasetIds, to: message.to, nonce: message.nonce, deadline: message.deadline, signature };
  return { typed, body, result: postClaim(recipient, body) };
}

function postClaim(recipient: string, body: { datasetIds: string[]; to: string; nonce: string; deadline: string; signature: string }): Promise<ClaimResult> {
  return api.call(routes.claimRoyalties, { params: { address: recipient }, body });
}

/** Asserts that the API's figures for `recipient` equal the contract's views, dataset by dataset. */
async function expectApiEqualsViews(recipient: string, chainIds: readonly string[]): Promise<RoyaltiesReport> {
  const report = await royaltiesOf(recipient);
  const lm = lmView();
  const views = await Promise.all(
    chainIds.map(async (id) => {
      const [claimable, position] = await Promise.all([lm.claimable(BigInt(id), recipient), lm.positionOf(BigInt(id), recipient)]);
      return { chainDatasetId: id, claimable: claimable.toString(), claimed: position.claimed.toString(), accrued: (claimable + position.claimed).toString() };
    }),
  );
  expect(report.datasets.map(({ chainDatasetId, claimable, claimed, accrued }) => ({ chainDatasetId, claimable, claimed, accrued }))).toEqual(views);
  const sum = (k: 'claimable' | 'claimed' | 'accrued') => views.reduce((s, v) => s + BigInt(v[k]), 0n).toString();
  expect(report.totals).toEqual({ accrued: sum('accrued'), claimed: sum('claimed'), claimable: sum('claimable'), ratePerSecond: String(report.datasets.reduce((s, d) => s + BigInt(d.ratePerSecond), 0n)) });
  return report;
}

describe('royalties of recipients', () => {
  const owner = newWallet();
  const onchain = new Wallet(devAccountKey(ONCHAIN_RECIPIENT_ACCOUNT), provider());
  const b = newWallet();
  const c = newWallet();
  const d = newWallet();
  const worker = newWallet();
  /** Registry id -> the split in bps, per recipient address. */
  const splits = new Map<string, Map<string, number>>();
  const samples = new Map<string, bigint>(); // cumulative samples per registry dataset id
  let ds1: string;
  let ds2: string;
  let jobId: string;
  let lab: Signer;

  /** Settles a report adding `add[i]` samples to each dataset (cumulative, signed by the attested worker). */
  async function report(add: Record<string, bigint>): Promise<void> {
    const ids = Object.keys(add);
    for (const id of ids) samples.set(id, (samples.get(id) ?? 0n) + (add[id] as bigint));
    const message = { jobId: BigInt(jobId), datasetIds: ids.map(BigInt), samples: ids.map((id) => samples.get(id) as bigint), amounts: ids.map((id) => (samples.get(id) as bigint) * PRICE) };
    const domain = licenseManagerDomain(stackInfo().chainId, stackInfo().deployment.contracts.LicenseManager as string);
    const signature = await signUsageReport(worker, domain, message);
    const mined = await (await licenseManager(lab).submitReport(message, signature)).wait();
    // The history and rates come from the chain index: wait until it has seen this report, so that reads
    // compared before and after an action see the same accruals.
    const block = mined?.blockNumber ?? 0;
    for (let i = 0; i < 200 && ((await royaltiesOf(await lab.getAddress())).indexedThrough ?? -1) < block; i++) await new Promise((r) => setTimeout(r, 100));
  }

  /** What the split says `recipient` accrued in `id`: floor(bps × paid / 10,000) (exact for explicit splits). */
  const expectedAccrued = (id: string, recipient: string) => ((samples.get(id) ?? 0n) * PRICE * BigInt(splits.get(id)?.get(recipient) ?? 0)) / 10_000n;

  beforeAll(async () => {
    const ownerApi = clientFor(owner);
    const make = async (title: string, split: [string, number][]) => {
      const created = await ownerApi.createDataset(listing(owner.address, { title, royaltySplit: split.map(([recipient, bps]) => ({ recipient, bps })) }));
      const registered = await ownerApi.registerDataset(created.id);
      const id = registered.chainDatasetId as string;
      splits.set(id, new Map(split));
      return id;
    };
    ds1 = await make('Royalties one', [[onchain.address, 5000], [b.address, 3000], [c.address, 2000]]);
    ds2 = await make('Royalties two', [[b.address, 7000], [d.address, 3000]]);
    const bought = await buyLicense(LAB_ACCOUNT, [ds1, ds2]);
    lab = bought.lab;
    jobId = await openAttestedJob(lab, bought.licenseId, worker.address);
  }, 120_000);

  it('lists each dataset a recipient is paid from, with nothing accrued before any report', async () => {
    const report = await expectApiEqualsViews(b.address, [ds1, ds2]);
    expect(report.datasets.map((x) => [x.chainDatasetId, x.units, x.accrued])).toEqual([
      [ds1, '3000', '0'],
      [ds2, '7000', '0'],
    ]);
    expect((await royaltiesOf(newWallet().address)).datasets).toEqual([]);
  });

  it("answers the contract views' numbers for every recipient after a seeded random sequence of reports and claims", async () => {
    const random = rng(0x9e3779b9); // mulberry32: the same sequence on every run
    const recipients: Record<string, Wallet> = { [b.address]: b, [c.address]: c, [d.address]: d };
    const all = [onchain.address, b.address, c.address, d.address];
    const datasetsOf = (r: string) => [ds1, ds2].filter((id) => splits.get(id)?.has(r));
    const done = { reports: 0, gasless: 0, onchain: 0 };
    for (let step = 0; step < 14; step++) {
      if (random() < 0.6) {
        done.reports += 1;
        const add: Record<string, bigint> = {};
        for (const id of [ds1, ds2]) if (random() < 0.7) add[id] = BigInt(1 + Math.floor(random() * 400));
        if (Object.keys(add).length === 0) add[ds1] = 7n;
        await report(add);
      } else {
        const who = all[Math.floor(random() * all.length)] as string;
        const before = await royaltiesOf(who);
        if (before.totals.claimable === '0') continue;
        const balance = await token().balanceOf(who);
        if (who === onchain.address) {
          done.onchain += 1;
          await (await licenseManager(onchain).claim(before.datasets.map((x) => BigInt(x.chainDatasetId)))).wait();
        } else {
          done.gasless += 1;
          const claimed = await (await gaslessClaim(who, recipients[who] as Wallet)).result;
          expect(claimed.amount).toBe(before.totals.claimable);
        }
        expect((await token().balanceOf(who)) - balance).toBe(BigInt(before.totals.claimable));
      }
      for (const r of all) {
        const got = await expectApiEqualsViews(r, datasetsOf(r));
        for (const row of got.datasets) expect([step, r, row.chainDatasetId, row.accrued]).toEqual([step, r, row.chainDatasetId, expectedAccrued(row.chainDatasetId, r).toString()]);
      }
    }
    // The seed exercises every kind of step (a changed seed that did not would prove less).
    expect(done.reports).toBeGreaterThanOrEqual(4);
    expect(done.gasless).toBeGreaterThanOrEqual(1);
    expect(done.onchain).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('pays an on-chain claim from the recipient\'s own key exactly what the API said was claimable', async () => {
    await report({ [ds1]: 40n });
    const before = await royaltiesOf(onchain.address);
    expect(BigInt(before.totals.claimable)).toBeGreaterThan(0n);
    const balance = await token().balanceOf(onchain.address);
    await (await licenseManager(onchain).claim([BigInt(ds1)])).wait();
    expect((await token().balanceOf(onchain.address)) - balance).toBe(BigInt(before.totals.claimable));
    const after = await expectApiEqualsViews(onchain.address, [ds1]);
    expect(after.totals.claimable).toBe('0');
    expect(after.totals.claimed).toBe((BigInt(before.totals.claimed) + BigInt(before.totals.claimable)).toString());
  });

  it('pays a gasless claim exactly the claimable amount to the address the recipient named, and a replay mines nothing more', async () => {
    await report({ [ds1]: 30n, [ds2]: 20n });
    const to = newWallet().address;
    const before = await royaltiesOf(c.address);
    const nonce = await lmView().claimNonces(c.address);
    const { typed, body, result } = await gaslessClaim(c.address, c, { to });
    expect(typed.claimable).toBe(before.totals.claimable);
    const first = await result;
    expect(first).toMatchObject({ recipient: c.address, to, amount: before.totals.claimable, datasetIds: [ds1] });
    expect(await token().balanceOf(to)).toBe(BigInt(before.totals.claimable));
    expect(await provider().getBalance(c.address)).toBe(0n); // the recipient paid no gas

    const replay = await postClaim(c.address, body);
    expect(replay).toEqual(first);
    expect(await token().balanceOf(to)).toBe(BigInt(before.totals.claimable));
    expect(await lmView().claimNonces(c.address)).toBe(nonce + 1n);
    await expectApiEqualsViews(c.address, [ds1]);
  });

  it('mines each of several concurrent gasless claims once, duplicates included', async () => {
    await report({ [ds1]: 60n, [ds2]: 50n });
    const people = [b, c, d];
    const before = await Promise.all(people.map((p) => royaltiesOf(p.address)));
    const balances = await Promise.all(people.map((p) => token().balanceOf(p.address)));
    const signed = await Promise.all(people.map((p) => gaslessClaim(p.address, p)));
    // Each signed claim is also posted a second time at once, as a client retrying would.
    const results = await Promise.all(signed.flatMap((s, i) => [s.result, postClaim((people[i] as Wallet).address, s.body)]));
    for (let i = 0; i < people.length; i++) {
      const [one, two] = [results[2 * i] as ClaimResult, results[2 * i + 1] as ClaimResult];
      expect(two).toEqual(one);
      expect(one.amount).toBe(before[i]?.totals.claimable);
      expect((await token().balanceOf((people[i] as Wallet).address)) - (balances[i] as bigint)).toBe(BigInt(before[i]?.totals.claimable as string));
    }
    expect(new Set(results.map((r) => r.txHash)).size).toBe(people.length);
    for (const p of people) expect((await royaltiesOf(p.address)).totals.claimable).toBe('0');
  });

  it('refuses a claim signed by someone else with a code, and pays nothing', async () => {
    await report({ [ds2]: 10n });
    const before = await royaltiesOf(d.address);
    const nonce = await lmView().claimNonces(d.address);
    const balance = await token().balanceOf(d.address);
    const typed = await api.call(routes.getClaimTypedData, { params: { address: d.address }, query: {} });
    const thief = newWallet();
    const signature = await thief.signTypedData(typed.domain, typed.types, { ...typed.message, to: thief.address });
    const body = { datasetIds: typed.message.datasetIds, to: thief.address, nonce: typed.message.nonce, deadline: typed.message.deadline, signature };
    expect(await codeOf(postClaim(d.address, body))).toBe('CLAIM_SIGNATURE_INVALID');
    // d's own signature, but its `to` swapped by whoever relays it: also refused.
    const own = await d.signTypedData(typed.domain, typed.types, typed.message);
    expect(await codeOf(postClaim(d.address, { ...body, signature: own }))).toBe('CLAIM_SIGNATURE_INVALID');
    expect(await token().balanceOf(thief.address)).toBe(0n);
    expect(await token().balanceOf(d.address)).toBe(balance);
    expect(await lmView().claimNonces(d.address)).toBe(nonce);
    expect(await royaltiesOf(d.address)).toEqual({ ...before, blockNumber: expect.any(Number) });
  });

  it('refuses an expired claim, one at a future nonce and a malformed one with codes, and pays nothing', async () => {
    await report({ [ds1]: 5n });
    const before = await royaltiesOf(c.address);
    const typed = await api.call(routes.getClaimTypedData, { params: { address: c.address }, query: {} });
    const sign = (message: typeof typed.message) => c.signTypedData(typed.domain, typed.types, message);
    const post = async (message: typeof typed.message) =>
      postClaim(c.address, { datasetIds: message.datasetIds, to: message.to, nonce: message.nonce, deadline: message.deadline, signature: await sign(message) });
    expect(await codeOf(post({ ...typed.message, deadline: '1' }))).toBe('CLAIM_EXPIRED');
    expect(await codeOf(post({ ...typed.message, nonce: (BigInt(typed.message.nonce) + 1n).toString() }))).toBe('CLAIM_SIGNATURE_INVALID');
    const malformed = { datasetIds: ['0'], to: 'nobody', nonce: '-1', deadline: 'soon', signature: 'xyz' };
    expect(await codeOf(api.request('POST', `/v1/royalties/${c.address}/claims`, { body: malformed }))).toBe('VALIDATION_FAILED');
    expect(await royaltiesOf(c.address)).toEqual({ ...before, blockNumber: expect.any(Number) });
    expect(await lmView().claimNonces(c.address)).toBe(BigInt(typed.message.nonce));
  });

  it('refuses a claim with nothing to claim, and a dataset that does not pay the address', async () => {
    const stranger = newWallet();
    expect(await codeOf(api.call(routes.getClaimTypedData, { params: { address: stranger.address }, query: {} }))).toBe('ROYALTY_NOTHING_TO_CLAIM');
    expect(await codeOf(api.call(routes.getClaimTypedData, { params: { address: d.address }, query: { datasets: ds1 } }))).toBe('ROYALTY_NOT_RECIPIENT');
  });

  describe('the CLI', () => {
    const cli = (args: string[]) => runCli(args, { PROVENA_API_URL: stackInfo().apiUrl, PROVENA_RPC_URL: stackInfo().rpcUrl });

    it('shows royalties as JSON equal to the API and claims gaslessly', async () => {
      await report({ [ds2]: 12n });
      const key = join(dir, 'b.key');
      writeFileSync(key, b.privateKey, { mode: 0o600 });
      const shown = await cli(['--key-file', key, '--json', 'royalties', 'show']);
      expect(shown.stderr).toBe('');
      const report_ = JSON.parse(shown.stdout) as RoyaltiesReport;
      expect(report_.recipient).toBe(b.address);
      expect(report_).toEqual({ ...(await royaltiesOf(b.address)), blockNumber: expect.any(Number) });
      const balance = await token().balanceOf(b.address);
      const claimed = await cli(['--key-file', key, 'royalties', 'claim', '--gasless', '--dataset', ds2]);
      expect(claimed.stderr).toBe('');
      expect(claimed.code).toBe(0);
      expect(claimed.stdout).toContain(`claimed ${report_.datasets.find((x) => x.chainDatasetId === ds2)?.claimable}`);
      expect((await token().balanceOf(b.address)) - balance).toBe(BigInt(report_.datasets.find((x) => x.chainDatasetId === ds2)?.claimable as string));
    }, 60_000);

    it('watches: redraws until Ctrl-C, then exits cleanly', async () => {
      const child = spawn(process.execPath, ['bin/provena.js', '--json', 'royalties', 'watch', d.address, '--interval', '1'], {
        env: { ...process.env, PROVENA_API_URL: stackInfo().apiUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      let running = true;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((running = false), resolve(code))));
      while (running && stdout.split('\n').filter(Boolean).length < 2) await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      const frames = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as RoyaltiesReport);
      expect(frames[0]?.recipient).toBe(d.address);
      expect(frames[1]?.datasets.map((x) => x.chainDatasetId)).toEqual([ds2]);
    }, 60_000);

    it('claims on chain with the recipient\'s own key', async () => {
      await report({ [ds1]: 8n });
      const key = join(dir, 'onchain.key');
      writeFileSync(key, devAccountKey(ONCHAIN_RECIPIENT_ACCOUNT), { mode: 0o600 });
      const before = await royaltiesOf(onchain.address);
      const balance = await token().balanceOf(onchain.address);
      const claimed = await cli(['--key-file', key, '--json', 'royalties', 'claim']);
      expect(claimed.stderr).toMatch(/^sent 0x[0-9a-f]{64}, waiting for it to mine\n$/);
      expect(JSON.parse(claimed.stdout)).toMatchObject({ amount: before.totals.claimable });
      expect((await token().balanceOf(onchain.address)) - balance).toBe(BigInt(before.totals.claimable));
    }, 60_000);
  });
});

describe('Merkle split recipients', () => {
  const owner = newWallet();
  const onchain = new Wallet(devAccountKey(ONCHAIN_RECIPIENT_ACCOUNT), provider());
  const m1 = newWallet();
  const m2 = newWallet();
  const worker = newWallet();
  const UNITS: [Wallet, bigint][] = [[onchain, 5n], [m1, 3n], [m2, 2n]];
  const cli = (args: string[]) => runCli(args, { PROVENA_API_URL: stackInfo().apiUrl, PROVENA_RPC_URL: stackInfo().rpcUrl });
  let listingId: string;
  let chainId: string;
  let root: string;
  let jobId: string;
  let lab: Signer;
  let samples = 0n;
  /** floor(paid × units / 10) of everything paid in so far. */
  const accrued = (units: bigint) => (samples * PRICE * units) / 10n;

  async function report(add: bigint): Promise<void> {
    samples += add;
    const message = { jobId: BigInt(jobId), datasetIds: [BigInt(chainId)], samples: [samples], amounts: [samples * PRICE] };
    const domain = licenseManagerDomain(stackInfo().chainId, stackInfo().deployment.contracts.LicenseManager as string);
    await (await licenseManager(lab).submitReport(message, await signUsageReport(worker, domain, message))).wait();
  }

  beforeAll(async () => {
    const key = join(dir, 'merkle-owner.key');
    writeFileSync(key, owner.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'listing.json'), JSON.stringify(listing(owner.address, { title: 'Merkle royalties' })));
    writeFileSync(join(dir, 'shares.csv'), ['account,units', ...UNITS.map(([w, u]) => `${w.address.toLowerCase()},${u}`)].join('\n'));
    const created = await cli(['--key-file', key, '--json', 'dataset', 'create', '-f', join(dir, 'listing.json'), '--split-file', join(dir, 'shares.csv')]);
    expect(created.stderr).toBe('');
    const dataset = JSON.parse(created.stdout) as { id: string; merkleSplit: { root: string; totalUnits: string; recipients: number } };
    expect(dataset.merkleSplit).toMatchObject({ totalUnits: '10', recipients: 3 });
    listingId = dataset.id;
    root = dataset.merkleSplit.root;
    chainId = (await clientFor(owner).registerDataset(listingId)).chainDatasetId as string;
    const bought = await buyLicense(LAB_ACCOUNT, [chainId]);
    lab = bought.lab;
    jobId = await openAttestedJob(lab, bought.licenseId, worker.address);
  }, 120_000);

  it('registers the tree root and serves each recipient a proof of it, and a stranger a 404 code', async () => {
    const registry = new Contract(stackInfo().deployment.contracts.DatasetRegistry as string, ['function saleTerms(uint256) view returns (bool, uint128, uint64, bytes32)'], provider());
    const [, , totalUnits, onChainRoot] = (await registry.getFunction('saleTerms')(BigInt(chainId))) as [boolean, bigint, bigint, string];
    expect([onChainRoot, totalUnits]).toEqual([root, 10n]);
    const share = await api.call(routes.getSplitShare, { params: { id: listingId, address: m1.address } });
    expect(share).toMatchObject({ kind: 'merkle', chainDatasetId: chainId, units: '3', totalUnits: '10', root, proven: false });
    expect(verifyRoyaltyProof(root, m1.address, 3n, share.proof)).toBe(true);
    expect(await codeOf(api.call(routes.getSplitShare, { params: { id: listingId, address: newWallet().address } }))).toBe('SPLIT_ACCOUNT_NOT_FOUND');
  });

  it('counts an unproven recipient from its tree units, and its gasless first claim proves and pays exactly that', async () => {
    await report(100n);
    const before = await royaltiesOf(m1.address);
    expect(before.datasets).toEqual([expect.objectContaining({ chainDatasetId: chainId, units: '3', claimable: accrued(3n).toString(), proofRequired: true })]);
    expect(await lmView().claimable(BigInt(chainId), m1.address)).toBe(0n); // the chain alone does not know m1 yet
    const claimed = await (await gaslessClaim(m1.address, m1, { datasets: chainId })).result;
    expect(claimed.amount).toBe(accrued(3n).toString());
    expect(await token().balanceOf(m1.address)).toBe(accrued(3n));
    expect((await api.call(routes.getSplitShare, { params: { id: listingId, address: m1.address } })).proven).toBe(true);
    const after = await expectApiEqualsViews(m1.address, [chainId]);
    expect(after.datasets[0]?.proofRequired).toBeUndefined();
  }, 60_000);

  it('pays a proven recipient its second gasless claim without a proof', async () => {
    await report(40n);
    const claimed = await (await gaslessClaim(m1.address, m1, { datasets: chainId })).result;
    expect(BigInt(claimed.amount)).toBe(accrued(3n) - (100n * PRICE * 3n) / 10n);
    expect(await token().balanceOf(m1.address)).toBe(accrued(3n));
  }, 60_000);

  it('proves an unproven share in the CLI\'s on-chain claim, with the proof from the split route', async () => {
    const key = join(dir, 'merkle-onchain.key');
    writeFileSync(key, devAccountKey(ONCHAIN_RECIPIENT_ACCOUNT), { mode: 0o600 });
    const balance = await token().balanceOf(onchain.address);
    const claimed = await cli(['--key-file', key, '--json', 'royalties', 'claim', '--dataset', listingId]);
    expect(claimed.stderr).toMatch(/^proving 1 Merkle share\(s\) with this claim/);
    expect(JSON.parse(claimed.stdout)).toMatchObject({ amount: accrued(5n).toString() });
    expect((await token().balanceOf(onchain.address)) - balance).toBe(accrued(5n));
    const row = (await royaltiesOf(onchain.address)).datasets.find((x) => x.chainDatasetId === chainId);
    expect(row).toMatchObject({ units: '5', claimed: accrued(5n).toString(), claimable: '0' });
    expect(row?.proofRequired).toBeUndefined();
  }, 60_000);
});
