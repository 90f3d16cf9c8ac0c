/**
 * The web console in a real browser (headless Chromium from Debian, driven by playwright-core) against the
 * embedded stack, with an EIP-1193 wallet injected into the page and backed by a test key: browse and open a
 * listing, buy a license (approve + purchase from the wallet, with the price cap), submit a job (openJob from the
 * wallet, then the signed submitJob), the receipt verified in the browser (a tampered one fails its checks), the
 * model decrypted in the browser and saved, claim royalties gaslessly as a recipient, an owner's uploads in
 * progress; a clear message with no wallet and with the API down; API errors with their code; phone width;
 * keyboard. Screenshots go to docs/screenshots/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NonceManager, Wallet, type Signer } from 'ethers';
import type { Browser, Page } from 'playwright-core';
import { MockUSD__factory } from '../contracts/typechain/index.js';
import { licenseManagerDomain, signUsageReport } from '../shared/eip712.js';
import { routes } from '../shared/http/routes.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import { ROOT } from '../stack/stack.js';
import { launchBrowser, injectWallet, newPage, type WalletLog } from './support/browser.js';
import { licenseManager, uploadBytes } from './support/data.js';
import { listing } from './support/fixtures.js';
import { clientFor, provider, stackInfo } from './support/stack.js';

const SHOTS = join(ROOT, 'docs', 'screenshots');
const PRICE = 25n; // the fixture listing's price per sample (base units)
/** A tag only this run's listings carry (the stack may hold listings of earlier runs). */
const TAG = `web-${Date.now().toString(36)}`;
const CSV = new TextEncoder().encode('age,zip,label\n34,02139,1\n51,94110,0\n29,10001,1\n');

/** Fresh keys funded with `hardhat_setBalance` (no dev account is shared with other test files). */
async function funded(): Promise<Wallet> {
  const w = Wallet.createRandom().connect(provider()) as unknown as Wallet;
  await provider().send('hardhat_setBalance', [w.address, '0x56BC75E2D63100000']);
  return w;
}

const token = (s: Signer) => MockUSD__factory.connect(stackInfo().deployment.contracts.PaymentToken as string, s);

let browser: Browser;
const api = clientFor();
let owner: Wallet; // lists the dataset and receives its royalties
let lab: Wallet; // buys and trains from the console
let dataset: Dataset;
let other: Dataset; // bought and reported on from Node, so the owner has royalties to claim
/** The job the console submitted and the test worker finished (later tests read its receipt and model). */
let done: { jobId: string; receiptCid: string; modelSha256: string; modelKey: string } | undefined;

beforeAll(async () => {
  // The console the stack serves at / is web/dist: build it from this checkout (vite, a few seconds).
  const vite = join(createRequire(join(ROOT, 'package.json')).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
  mkdirSync(SHOTS, { recursive: true });
  [owner, lab] = await Promise.all([funded(), funded()]);
  const ownerApi = clientFor(owner);
  const make = async (title: string, tags: string[]) => {
    const created = await ownerApi.createDataset(listing(owner.address, { title, tags, description: `${title}: point-of-sale rows, anonymized before training.` }));
    await ownerApi.registerDataset(created.id);
    const uploaded = await uploadBytes(ownerApi, created.id, CSV);
    return ownerApi.registerDataset(uploaded.id);
  };
  dataset = await make('Web console retail rows', ['retail', TAG]);
  other = await make('Web console pharmacy rows', ['pharmacy', TAG]);
  await (await token(lab).mint(lab.address, 50_000_000n)).wait();
  browser = await launchBrowser();
}, 180_000);

/** Clean-ups of the test that is running (a worker's heartbeat), run after it whether it passed or not. */
const afterTest: (() => void)[] = [];
afterEach(() => {
  for (const f of afterTest.splice(0)) f();
});

afterAll(async () => {
  await browser?.close();
});

/** A desktop page whose wallet is `key`'s. */
async function walletPage(key: Wallet): Promise<{ page: Page; log: WalletLog }> {
  const { context, page } = await newPage(browser);
  const log = await injectWallet(context, key.privateKey, provider(), stackInfo().chainId);
  return { page, log };
}

const url = (path: string) => `${stackInfo().apiUrl}${path}`;

describe('the web console, in Chromium against the embedded stack', () => {
  it('lists datasets filtered by tag and text, and opens a listing with its terms, policy, manifest and registration', async () => {
    const { page } = await walletPage(lab);
    await page.goto(url(`/datasets?tag=${TAG}`));
    await page.getByTestId('dataset-card').first().waitFor();
    expect(await page.getByTestId('dataset-card').count()).toBe(2);
    await page.getByLabel('Text').fill('pharmacy');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=pharmacy/);
    // The pharmacy card is on the unfiltered list too: wait for the filtered answer to replace it (the retail card
    // gone), not for a card that may still be the old list's (a run counted 2 here).
    await page.getByRole('link', { name: 'Web console retail rows' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Web console pharmacy rows' }).waitFor();
    expect(await page.getByTestId('dataset-card').count()).toBe(1);
    await page.goto(url(`/datasets?tag=${TAG}`));
    await page.getByTestId('dataset-card').nth(1).waitFor();
    await page.screenshot({ path: join(SHOTS, 'datasets.png'), fullPage: true });

    await page.getByRole('link', { name: 'Web console retail rows' }).click();
    await page.getByTestId('dataset-title').waitFor();
    expect(await page.getByTestId('manifest-cid').textContent()).toBe(dataset.manifestCid);
    expect(await page.getByTestId('registration').textContent()).toContain(`registered as #${dataset.chainDatasetId}; the chain holds this version`);
    expect(await page.getByTestId('anonymization').textContent()).toContain('age, zip generalized to k = 5');
    expect(await page.getByTestId('price').getAttribute('title')).toBe(`${PRICE} base units`);
    expect(await page.getByTestId('earned').getAttribute('title')).toBe('0 base units');
    await page.screenshot({ path: join(SHOTS, 'dataset.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('buys a license from the wallet: shows both transactions first, then approve and purchase at the price cap', async () => {
    const { page, log } = await walletPage(lab);
    await page.goto(url(`/lab?datasets=${dataset.id}`));
    await page.getByRole('button', { name: 'Get quote' }).click();
    await page.getByTestId('quotes').waitFor();
    expect(await page.getByLabel('Price cap per sample (USD)').inputValue()).toBe('0.000025');
    await page.getByLabel('Budget (USD)', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Buy with wallet' }).click();
    const dialog = page.getByRole('dialog', { name: 'Buy a training license' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`purchase([${dataset.chainDatasetId}], caps [0.000025] USD/sample, budget 10 USD`);
    expect(log.filter((c) => c.method === 'eth_sendTransaction')).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'review-transactions.png') });
    // The dialog's default button is "Continue in wallet": the keyboard alone completes the purchase.
    await page.keyboard.press('Enter');
    const bought = page.getByTestId('bought');
    await bought.waitFor({ timeout: 60_000 });
    const licenseId = /License (\d+) bought/.exec((await bought.textContent()) ?? '')?.[1] as string;
    expect(log.filter((c) => c.method === 'eth_sendTransaction')).toHaveLength(2);
    const license = await waitFor(() => api.call(routes.getLicense, { params: { id: licenseId } }));
    expect(license).toMatchObject({ holder: lab.address, budget: '10000000', datasets: [{ datasetId: dataset.chainDatasetId, pricePerSample: String(PRICE) }] });
    // The page lists it by itself once the chain indexer has seen it.
    await page.getByTestId('licenses').getByText(`License ${licenseId}`, { exact: true }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'lab.png'), fullPage: true });
    await page.close();
  }, 90_000);

  it('refuses to buy above the price cap before sending anything, with the code and a plain sentence', async () => {
    const { page, log } = await walletPage(lab);
    const balance = await token(lab).balanceOf(lab.address);
    await page.goto(url(`/lab?datasets=${dataset.id}`));
    await page.getByRole('button', { name: 'Get quote' }).click();
    await page.getByTestId('quotes').waitFor();
    await page.getByLabel('Price cap per sample (USD)').fill('0.00001');
    await page.getByRole('button', { name: 'Buy with wallet' }).click();
    const alert = page.locator('[role=alert][data-code=LICENSE_PRICE_ABOVE_MAX]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('nothing was bought or paid');
    expect(log.filter((c) => c.method === 'eth_sendTransaction')).toEqual([]);
    expect(await token(lab).balanceOf(lab.address)).toBe(balance);
    await page.close();
  }, 60_000);

  it('keeps keyboard focus in the review dialog, and sends nothing when it is cancelled with Escape', async () => {
    const { page, log } = await walletPage(lab);
    await page.goto(url(`/lab?datasets=${dataset.id}`));
    await page.getByRole('button', { name: 'Get quote' }).click();
    await page.getByTestId('quotes').waitFor();
    await page.getByRole('button', { name: 'Buy with wallet' }).click();
    await page.getByRole('dialog').waitFor();
    // Tab cycles inside the dialog; Escape closes it and gives focus back to the button that opened it.
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.closest('[role=dialog]') !== null)).toBe(true);
    await page.keyboard.press('Escape');
    await page.locator('[role=alert][data-code=CANCELLED]').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent)).toBe('Buy with wallet');
    expect(log.filter((c) => c.method === 'eth_sendTransaction' || c.method === 'eth_signTypedData_v4')).toEqual([]);
    await page.close();
  }, 60_000);

  it('validates the recipe with the API\'s schema as it is typed, opens the job from the wallet, submits it signed, and follows it live to its verified receipt', async () => {
    const { page, log } = await walletPage(lab);
    await page.goto(url('/lab'));
    await page.getByTestId('licenses').locator('li').first().waitFor({ timeout: 30_000 });
    await page.getByLabel('Epochs').fill('0');
    await page.getByText('Too small: expected number to be >=1').waitFor();
    expect(await page.getByRole('button', { name: 'Open and submit job' }).isDisabled()).toBe(true);
    await page.getByLabel('Epochs').fill('2');
    await page.getByText('The recipe is valid.').waitFor();
    await page.getByRole('button', { name: 'Open and submit job' }).click();
    await page.getByRole('dialog', { name: 'Open a training job' }).waitFor();
    await page.getByRole('button', { name: 'Continue in wallet' }).click();
    const review = page.getByRole('dialog', { name: /^Submit job \d+ to the Provena API$/ });
    await review.waitFor({ timeout: 60_000 });
    const text = (await review.textContent()) ?? '';
    expect(text).toContain(`on chain ${stackInfo().chainId}`);
    expect(text).toContain('Message typeRequest');
    expect(text).toContain('POST');
    expect(text).toContain('/v1/jobs');
    expect(text).toContain('"kind": "tabular-classifier"');
    await page.screenshot({ path: join(SHOTS, 'review-signature.png') });
    await page.getByRole('button', { name: 'Continue in wallet' }).click();
    // The job page, or the API's error (with its code) on the Lab page: whichever comes first.
    const refused = page.locator('section[aria-labelledby=submit] [role=alert][data-code]');
    const first = await Promise.race([
      page.waitForURL(/\/jobs\/\d+$/, { timeout: 60_000 }).then(() => 'job page', () => 'timeout'),
      refused.waitFor({ timeout: 60_000 }).then(() => 'refused', () => 'timeout'),
    ]);
    if (first === 'refused') throw new Error(`submitting the job failed: ${await refused.textContent()}`);
    expect(first).toBe('job page');
    const jobId = /\/jobs\/(\d+)$/.exec(page.url())?.[1] as string;
    await page.getByTestId('status').filter({ hasText: 'queued' }).waitFor();
    const job = await api.call(routes.getJob, { params: { jobId } });
    expect(job).toMatchObject({ id: jobId, holder: lab.address, status: 'queued', recipe: { kind: 'tabular-classifier', epochs: 2 } });
    expect(log.filter((c) => c.method === 'eth_signTypedData_v4')).toHaveLength(1);

    // The test plays the worker over the real routes; the page, never reloaded, follows the job to its end.
    const { TestWorker } = await import('./support/jobWorker.js');
    const worker = new TestWorker(jobId);
    await worker.lease();
    afterTest.push(() => worker.stop());
    await worker.attestAndRun();
    await page.getByTestId('status').filter({ hasText: /^(running|checkpointed)$/ }).waitFor({ timeout: 30_000 });
    await worker.epoch(1, [100]);
    await page.getByTestId('job-checkpoints').getByText('epoch 1, step 10').waitFor({ timeout: 30_000 });
    await page.getByTestId('job-reports').locator('li').nth(1).waitFor({ timeout: 30_000 });
    const { receiptCid } = await worker.finish([120]);
    await page.getByTestId('status').filter({ hasText: 'done' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('job-spent').getAttribute('title')).toBe(`${120n * PRICE} base units`);
    expect(await page.getByTestId('job-datasets').textContent()).toContain(dataset.id);
    expect(await page.getByTestId('receipt').textContent()).toContain(receiptCid);
    // Verified in the browser: CID from the bytes, the worker key's signature, the chain's anchoring and approval,
    // the published manifests, and the job, license, worker and model hash it names.
    await page.getByTestId('receipt-verdict').filter({ hasText: 'Verified in this browser: all 9 checks passed.' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('receipt-checks').locator('li[data-state=pass]').count()).toBe(9);
    expect(await page.locator('.chart svg path').count()).toBeGreaterThan(0);
    // The model: decrypted here with the key this browser kept at submit, checked against the receipt, saved.
    await page.getByRole('button', { name: 'Download and decrypt the model' }).click();
    await page.getByTestId('model-ready').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'job.png'), fullPage: true });
    const bytes = await saveModel(page);
    const receiptBody = await receiptOf(receiptCid);
    expect(sha256(bytes)).toBe(receiptBody.model.sha256);
    expect(bytes.length).toBe(receiptBody.model.bytes);
    expect(safetensorsTensors(bytes)).toEqual({ weight: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } });
    const modelKey = (await page.evaluate((slot) => (globalThis as unknown as PageGlobals).localStorage.getItem(slot), `provena.modelKey.${lab.address.toLowerCase()}`)) as string;
    done = { jobId, receiptCid, modelSha256: receiptBody.model.sha256, modelKey };
    await page.close();
  }, 240_000);

  it('shows a tampered receipt failing its CID and signature checks, and then offers no model', async () => {
    if (!done) throw new Error('needs the finished job of the test before');
    const { receiptCid, jobId } = done;
    const { page } = await walletPage(lab);
    // The API (or anything between) answers altered bytes: the metrics are changed after signing.
    await page.route(`**/v1/receipts/${receiptCid}`, async (route) => {
      const stored = (await (await route.fetch()).json()) as { cid: string; size: number; base64: string };
      const receipt = JSON.parse(Buffer.from(stored.base64, 'base64').toString('utf8')) as { body: { metrics: Record<string, number> } };
      receipt.body.metrics = { accuracy: 0.99 };
      const base64 = Buffer.from(JSON.stringify(receipt)).toString('base64');
      await route.fulfill({ json: { ...stored, size: Buffer.from(base64, 'base64').length, base64 } });
    });
    await page.goto(url(`/jobs/${jobId}`));
    const verdict = page.getByTestId('receipt-verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.textContent()).toContain('Not verified');
    const checks = page.getByTestId('receipt-checks');
    expect(await checks.locator('li[data-check=cid]').getAttribute('data-state')).toBe('fail');
    expect(await checks.locator('li[data-check=cid]').textContent()).toContain('RECEIPT_CID_MISMATCH');
    expect(await checks.locator('li[data-check=signature]').getAttribute('data-state')).toBe('fail');
    expect(await checks.locator('li[data-check=signature]').textContent()).toContain('RECEIPT_SIGNATURE_INVALID');
    // The chain still anchors the real CID for the job; the checks that do not depend on the bytes pass.
    expect(await checks.locator('li[data-check=anchored]').getAttribute('data-state')).toBe('pass');
    expect(await page.getByRole('button', { name: 'Download and decrypt the model' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'receipt-tampered.png'), fullPage: true });
    await page.close();
  }, 90_000);

  it('opens the model in a browser that did not keep the key, from the key file the lab picks, and refuses another key file', async () => {
    if (!done) throw new Error('needs the finished job of the test before');
    const { page } = await walletPage(lab);
    await page.goto(url(`/jobs/${done.jobId}`));
    await page.getByTestId('receipt-verdict').filter({ hasText: 'Verified' }).waitFor({ timeout: 30_000 });
    const picker = page.getByTestId('model-key-file');
    await picker.setInputFiles({ name: 'other.key', mimeType: 'text/plain', buffer: Buffer.from(Wallet.createRandom().privateKey) });
    await page.locator('[role=alert][data-code=MODEL_KEY_MISMATCH]').waitFor();
    expect(await page.getByRole('button', { name: 'Download and decrypt the model' }).isDisabled()).toBe(true);
    await picker.setInputFiles({ name: 'provena-model-key.txt', mimeType: 'text/plain', buffer: Buffer.from(`${done.modelKey}\n`) });
    await page.getByText('Key file accepted').waitFor();
    await page.getByRole('button', { name: 'Download and decrypt the model' }).click();
    await page.getByTestId('model-ready').waitFor({ timeout: 30_000 });
    expect(sha256(await saveModel(page))).toBe(done.modelSha256);
    await page.close();
  }, 90_000);

  it('shows a recipient its royalties, then claims them gaslessly by signature and on chain from the wallet, each reviewed first', async () => {
    // A job from Node on the other dataset: an attested worker's usage report pays the owner's pool.
    const lab2 = new NonceManager(await funded());
    const worker = Wallet.createRandom();
    await (await token(lab2).mint(await lab2.getAddress(), 10_000_000n)).wait();
    const lm = licenseManager(lab2);
    await (await token(lab2).approve(await lm.getAddress(), 10_000_000n)).wait();
    const latest = await provider().getBlock('latest');
    const receipt = await (await lm.purchase([BigInt(other.chainDatasetId as string)], [PRICE], 10_000_000n, (latest?.timestamp ?? 0) + 86_400)).wait();
    const licenseId = String(receipt?.logs.map((l) => lm.interface.parseLog(l)).find((p) => p?.name === 'LicensePurchased')?.args[0]);
    const { openAttestedJob } = await import('./support/data.js');
    // What the owner had before (the job test paid it royalties too), to compare against exactly.
    const prior = BigInt((await api.call(routes.getRoyalties, { params: { address: owner.address } })).totals.claimable);
    const jobId = await openAttestedJob(lab2, licenseId, worker.address);
    const message = { jobId: BigInt(jobId), datasetIds: [BigInt(other.chainDatasetId as string)], samples: [400n], amounts: [400n * PRICE] };
    const signature = await signUsageReport(worker as unknown as Signer, licenseManagerDomain(stackInfo().chainId, await lm.getAddress()), message);
    await (await lm.submitReport(message, signature)).wait();
    const before = await api.call(routes.getRoyalties, { params: { address: owner.address } });
    const claimable = prior + 400n * PRICE;
    expect(before.totals.claimable).toBe(String(claimable));
    const balance = await token(owner).balanceOf(owner.address);

    const { page, log } = await walletPage(owner);
    await page.goto(url('/recipient'));
    await page.getByTestId('total-claimable').waitFor();
    expect(await page.getByTestId('total-claimable').getAttribute('title')).toBe(`${claimable} base units`);
    await page.locator('.chart svg').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'recipient.png'), fullPage: true });
    await page.getByRole('button', { name: 'Claim gasless (sign)' }).click();
    const review = page.getByRole('dialog', { name: /^Claim [0-9.]+ USD of royalties \(gasless\)$/ });
    await review.waitFor();
    expect(await review.textContent()).toContain('Claim');
    expect(await review.textContent()).toContain(owner.address);
    await page.getByRole('button', { name: 'Continue in wallet' }).click();
    await page.getByTestId('claimed').waitFor({ timeout: 60_000 });
    expect(await token(owner).balanceOf(owner.address)).toBe(balance + claimable);
    expect((await api.call(routes.getRoyalties, { params: { address: owner.address } })).totals.claimable).toBe('0');
    expect(log.filter((c) => c.method === 'eth_sendTransaction')).toEqual([]);
    // The claim shows in the history, read back from the chain's RoyaltiesClaimed events.
    await page.getByTestId('claims').locator('li').first().waitFor();
    expect(await page.getByTestId('claims').textContent()).toContain(` USD to ${owner.address}`);

    // More usage, then a claim on chain from the wallet (the recipient pays the gas).
    const more = { ...message, samples: [600n], amounts: [600n * PRICE] };
    await (await lm.submitReport(more, await signUsageReport(worker as unknown as Signer, licenseManagerDomain(stackInfo().chainId, await lm.getAddress()), more))).wait();
    await page.reload();
    await page.getByTestId('total-claimable').waitFor();
    expect(await page.getByTestId('total-claimable').getAttribute('title')).toBe(`${200n * PRICE} base units`);
    await page.getByRole('button', { name: 'Claim on chain (pay gas)' }).click();
    expect(await page.getByRole('dialog', { name: 'Claim royalties on chain' }).textContent()).toContain(`claimOne(${other.chainDatasetId})`);
    await page.getByRole('button', { name: 'Continue in wallet' }).click();
    await page.getByTestId('claimed').waitFor({ timeout: 60_000 });
    expect(await token(owner).balanceOf(owner.address)).toBe(balance + claimable + 200n * PRICE);
    const sent = log.filter((c) => c.method === 'eth_sendTransaction');
    expect(sent).toHaveLength(1);
    // One dataset, no proof to make: claimOne (the array-free entry point), not claim([id]).
    expect(String((sent[0]!.params[0] as { data?: string }).data).slice(0, 10)).toBe(lm.interface.getFunction('claimOne')!.selector);
    await page.close();
  }, 120_000);

  it("shows an owner its datasets, their registration and data, its uploads in progress, and its earnings", async () => {
    // An upload of the retail listing's next version, started and one part of two sent, not completed.
    const ownerApi = clientFor(owner);
    const session = await ownerApi.startUpload(dataset.id, { format: 'csv', plaintextSize: 12 * 1024 * 1024, chunkSize: 4 * 1024 * 1024 });
    const part = session.parts[0] as { url?: string; size: number };
    expect(session.parts).toHaveLength(2);
    const sent = await fetch(part.url as string, { method: 'PUT', body: new Uint8Array(part.size) });
    expect(sent.ok).toBe(true);
    // The API lists it for its owner only; the completed uploads of both listings are not in progress.
    const listed = await api.listUploads({ owner: owner.address });
    expect(listed.items.map((u) => [u.uploadId, u.datasetId, u.dataVersion, u.partsDone, u.partsTotal])).toEqual([[session.uploadId, dataset.id, 2, 1, 2]]);
    expect((await api.listUploads({ owner: lab.address })).items).toEqual([]);
    // A second one (the pharmacy listing's): pages of one, newest first, followed by the sealed cursor.
    const second = await ownerApi.startUpload(other.id, { format: 'csv', plaintextSize: 1024 });
    const page1 = await api.listUploads({ owner: owner.address, limit: 1 });
    const page2 = await api.listUploads({ owner: owner.address, limit: 1, cursor: page1.nextCursor as string });
    expect([...page1.items, ...page2.items].map((u) => u.uploadId)).toEqual([second.uploadId, session.uploadId]);
    expect(await api.listUploads({ owner: lab.address, limit: 1, cursor: page1.nextCursor as string }).then(() => 'OK', (e: { code?: string }) => e.code)).toBe('CURSOR_INVALID');

    const { page } = await walletPage(owner);
    await page.goto(url('/owner'));
    const list = page.getByTestId('owner-datasets');
    await list.getByText('Web console pharmacy rows').waitFor();
    expect(await list.textContent()).toContain('Web console retail rows');
    expect(await list.textContent()).toContain(`On chain as #${dataset.chainDatasetId}`);
    const row = page.getByTestId('uploads').locator(`tr[data-upload=${session.uploadId}]`);
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('Web console retail rows');
    expect(text).toContain('v2');
    expect(text).toContain('1 / 2');
    expect(await page.getByTestId('uploads').locator(`tr[data-upload=${second.uploadId}]`).textContent()).toContain('0 / 1');
    expect(await row.getByRole('progressbar').getAttribute('aria-label')).toBe('1 of 2 parts uploaded');
    await page.getByTestId('earnings').waitFor();
    await page.screenshot({ path: join(SHOTS, 'owner.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('says plainly that there is no wallet, and still lets the visitor browse', async () => {
    const { page } = await newPage(browser);
    await page.goto(url('/lab'));
    await page.getByTestId('need-wallet').waitFor();
    expect(await page.getByTestId('need-wallet').textContent()).toContain('No wallet found');
    expect(await page.getByTestId('no-wallet').textContent()).toBe('No wallet');
    await page.screenshot({ path: join(SHOTS, 'no-wallet.png') });
    await page.goto(url(`/datasets?tag=${TAG}`));
    await page.getByTestId('dataset-card').first().waitFor();
    await page.close();
  }, 60_000);

  it('says plainly that the API is down when it does not answer', async () => {
    const { context, page } = await newPage(browser);
    await context.route('**/v1/**', (route) => route.abort('connectionrefused'));
    await page.goto(url('/datasets'));
    const banner = page.getByTestId('api-down');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('The API is down');
    expect(await banner.locator('[data-code]').getAttribute('data-code')).toBe('API_UNREACHABLE');
    await page.screenshot({ path: join(SHOTS, 'api-down.png') });
    await page.close();
  }, 60_000);

  it("shows an API error with its code and a plain sentence", async () => {
    const { page } = await newPage(browser);
    await page.goto(url('/datasets/ds_0000000000000000000000000z'));
    const alert = page.locator('[role=alert][data-code=DATASET_NOT_FOUND]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('There is no dataset with this id.');
    await page.close();
  }, 60_000);

  it('fits a phone screen without sideways scrolling, and starts keyboard navigation at a skip link', async () => {
    const { context, page } = await newPage(browser, { phone: true });
    await injectWallet(context, owner.privateKey, provider(), stackInfo().chainId);
    for (const path of [`/datasets?tag=${TAG}`, `/datasets/${dataset.id}`, '/recipient', '/lab', '/owner', ...(done ? [`/jobs/${done.jobId}`] : [])]) {
      await page.goto(url(path));
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      const width = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth);
      expect([path, width]).toEqual([path, 375]);
    }
    await page.goto(url(`/datasets?tag=${TAG}`));
    await page.getByTestId('dataset-card').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'phone.png'), fullPage: true });
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent)).toBe('Skip to content');
    await page.close();
  }, 90_000);
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Clicks the console's save link and reads back what Chromium downloaded. */
async function saveModel(page: Page): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Save model.safetensors' }).click()]);
  expect(download.suggestedFilename()).toBe('model.safetensors');
  const path = join(mkdtempSync(join(tmpdir(), 'provena-web-')), 'model.safetensors');
  await download.saveAs(path);
  return readFileSync(path);
}

/** The receipt's body, read from the API in Node (the test's own reference). */
async function receiptOf(cid: string): Promise<{ model: { sha256: string; bytes: number } }> {
  const stored = await api.call(routes.getReceipt, { params: { cid } });
  return (JSON.parse(Buffer.from(stored.base64, 'base64').toString('utf8')) as { body: { model: { sha256: string; bytes: number } } }).body;
}

/**
 * The tensors of a safetensors file, checking its layout: an 8-byte little-endian header length, a JSON header,
 * and data offsets that tile the data section exactly.
 */
function safetensorsTensors(bytes: Buffer): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const { __metadata__: _meta, ...tensors } = header as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const end = Math.max(...Object.values(tensors).map((t) => t.data_offsets[1]));
  expect(8 + n + end).toBe(bytes.length);
  return tensors;
}

/** What the page-side callbacks read (this file is type-checked without the DOM library). */
interface PageGlobals {
  localStorage: { getItem(key: string): string | null };
  document: { documentElement: { scrollWidth: number }; activeElement: { textContent: string | null; closest(selector: string): unknown } | null };
}

/** Retries `f` until it resolves (the chain index catches up within a second or two). */
async function waitFor<T>(f: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
