/**
 * The set-up the worker end-to-end tests (test/worker*.e2e.test.ts) share, on the test stack: a scratch folder and
 * the processes started in it (killed and removed after the file's tests), their log lines, tabular listings
 * published and uploaded, a job opened on chain and submitted, and polling with the logs on a timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from '@jest/globals';
import { SigningKey, Wallet } from 'ethers';
import { startLocalWorker, type LocalWorker } from '../../gpu-workers/agent/localWorker.js';
import { checkTrainerRuntime } from '../../gpu-workers/trainer/runtime.mjs';
import { routes } from '../../shared/http/routes.js';
import type { DatasetInputWire, Dataset } from '../../shared/schemas/dataset.js';
import type { Job, SignedReceipt } from '../../shared/schemas/job.js';
import type { Recipe } from '../../shared/schemas/recipe.js';
import { devAccountKey } from '../../stack/embeddedChain.js';
import { buyLicense, licenseManager, uploadBytes } from './data.js';
import { listing } from './fixtures.js';
import { clientFor, provider, stackInfo } from './stack.js';

/** The columns of the tabular task (workerData.ts), as a listing declares them. */
export const TABULAR_COLUMNS = [
  { name: 'x1', type: 'float' as const },
  { name: 'x2', type: 'float' as const },
  { name: 'city', type: 'categorical' as const },
  { name: 'y', type: 'string' as const },
];

/** One test file's workers, scratch folder and logs. */
export interface WorkerE2e {
  /** Scratch folder (removed after the file's tests). */
  readonly dir: string;
  /** Every log line of the processes started, in order. */
  readonly logs: string[];
  /** Kills `p` (its process group) after the file's tests. */
  track<P extends { kill(): void }>(p: P): P;
  /**
   * Starts a worker process (once mode: it exits after one job) against the test stack, working in `dir/name`; its
   * log lines go to `logs`, prefixed with `name ` when `tag` is set.
   */
  worker(operatorIndex: number, name: string, options?: { env?: Record<string, string>; tag?: boolean }): LocalWorker;
  /** Polls `f` every 300 ms until it returns a value; throws after `ms` with the last log lines. */
  until<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T>;
}

/**
 * The shared set-up of one worker e2e file: throws when the trainer venv is missing, and registers the clean-up
 * (`afterAll`). Call it at the top of the file. `prefix` names the scratch folder (keep it short where a Unix socket
 * lives there: at most 107 bytes).
 */
export function workerE2e(prefix: string): WorkerE2e {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const logs: string[] = [];
  const started: { kill(): void }[] = [];
  afterAll(() => {
    for (const p of started) p.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const track = <P extends { kill(): void }>(p: P): P => {
    started.push(p);
    return p;
  };
  return {
    dir,
    logs,
    track,
    worker(operatorIndex, name, options = {}) {
      const info = stackInfo();
      return track(
        startLocalWorker({
          apiUrl: info.apiUrl,
          operatorKey: devAccountKey(operatorIndex),
          devRootDir: info.dataDir,
          workerId: name,
          env: { PROVENA_WORKER_ONCE: 'true', PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: '10', PROVENA_WORKER_WORK_DIR: join(dir, name), ...options.env },
          onLog: (l) => logs.push(options.tag ? `${name} ${l}` : l),
        }),
      );
    },
    async until(what, f, ms) {
      const end = Date.now() + ms;
      for (;;) {
        const v = await f();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; logs:\n${logs.slice(-40).join('\n')}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    },
  };
}

/** Throws, naming the fix, when the trainer venv is missing (the worker processes need it). */
export function requireTrainer(): void {
  if (!checkTrainerRuntime().ok) throw new Error('the trainer venv is missing: npm run setup:trainer');
}

/**
 * Creates, registers and uploads `owner`'s tabular listing of `csv`; `overrides` go over the test listing with
 * {@link TABULAR_COLUMNS} and no identifier columns, `price` over its price per sample.
 */
export async function publishCsv(owner: Wallet, csv: string, options: { price?: string; overrides?: Partial<DatasetInputWire> } = {}): Promise<Dataset> {
  const api = clientFor(owner);
  const base = listing(owner.address);
  const created = await api.createDataset(
    listing(owner.address, {
      dataSchema: { kind: 'tabular', columns: TABULAR_COLUMNS },
      anonymization: { identifierColumns: [], redactTextPii: true },
      ...(options.price ? { license: { ...base.license, pricePerSample: options.price } } : {}),
      ...options.overrides,
    }),
  );
  await api.registerDataset(created.id);
  return uploadBytes(api, created.id, Buffer.from(csv));
}

/**
 * Opens a job on the lab's license (`budget`, rate 1,000,000) and submits it with `recipe`; returns its id and what
 * the API answered. The model key is `modelKey`'s (a fresh one by default).
 */
export async function openAndSubmitJob(
  bought: Awaited<ReturnType<typeof buyLicense>>,
  recipe: Recipe,
  options: { budget?: bigint; modelKey?: { signingKey: SigningKey } } = {},
): Promise<{ jobId: string; submitted: Job }> {
  const lm = licenseManager(bought.lab);
  const receipt = await (await lm.openJob(BigInt(bought.licenseId), options.budget ?? 5_000_000n, 1_000_000n)).wait();
  const jobId: string = receipt!.logs.map((l) => lm.interface.parseLog(l)).find((p) => p?.name === 'JobOpened')!.args[0].toString();
  const modelKey = options.modelKey ?? Wallet.createRandom();
  const submitted = await clientFor(bought.lab as unknown as Wallet).call(routes.submitJob, {
    body: { jobId, recipe, modelKey: SigningKey.computePublicKey(modelKey.signingKey.publicKey, true) },
  });
  return { jobId, submitted };
}

/** The job as the API shows it. */
export const getJob = (jobId: string): Promise<Job> => clientFor().call(routes.getJob, { params: { jobId } });

/**
 * Asserts that a done job paid to the wei: per dataset, the chain's settled samples are the receipt's and the owner
 * (the listing's only recipient) can claim exactly samples × price; the job spent the sum, and the relayed reports
 * add up to it (no sample paid twice).
 */
export async function expectPaidAtPrices(done: Job, receipt: SignedReceipt, paid: readonly (readonly [Dataset, bigint, { address: string }])[]): Promise<void> {
  const samples = Object.fromEntries(receipt.body.datasets.map((d) => [d.datasetId, BigInt(d.samples)]));
  const lmView = licenseManager(provider() as never);
  for (const [d, price, owner] of paid) {
    expect(await lmView.settledSamples(BigInt(done.id), BigInt(d.chainDatasetId as string))).toBe(samples[d.id]);
    expect(await lmView.claimable(BigInt(d.chainDatasetId as string), owner.address)).toBe(samples[d.id]! * price);
  }
  expect(BigInt(done.spent)).toBe(paid.reduce((sum, [d, price]) => sum + samples[d.id]! * price, 0n));
  expect(done.reports.reduce((sum, r) => sum + BigInt(r.paid), 0n)).toBe(BigInt(done.spent));
}
