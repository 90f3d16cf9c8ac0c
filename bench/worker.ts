/**
 * npm run bench:worker — the worker pipeline's overhead, one bounded run on loopback (issues 10 and 11, Measured):
 *
 * 1. one job through the full secure pipeline (a real worker process against a fresh embedded stack: lease,
 *    attest, key fetch, decrypt and verify, anonymize, meter, checkpoint, settle) against the same trainer fed the
 *    same plaintext rows directly (same recipe, seed, checkpoint cadence; no stack calls; run just before the job,
 *    with the stack up and the worker idle), with the phases read from the
 *    worker's log lines; timed from the lab's submitJob to the API showing the job done, the worker process
 *    already started and waiting (its own start-up is reported apart, once per worker);
 * 2. key release latency for an attested job key (`POST /v1/datasets/{id}/keys`) against the health route and a
 *    bare node:http floor;
 * 3. checkpoint encrypt + upload + commit time and size (the trainer's own checkpoint file, under a held lease);
 * 4. SIGTERM to lease released, with a job in progress;
 * 5. the anonymizer's rows/s on the same rows, and the trainer's pipe-vs-memory and DP-SGD-vs-SGD figures
 *    (gpu-workers/trainer/bench_trainer.py, folded in).
 *
 * Writes bench/results/worker.json. BENCH_WORKER_ROWS (default 1500 per dataset), BENCH_WORKER_KEYS (default 200),
 * BENCH_WORKER_TRAINER_ROWS (default 20000: rows of the trainer's pipe-vs-memory and DP-SGD runs);
 * BENCH_WORKER_PIPELINE_ONLY=1 stops after part 1 and prints its figures (writes nothing).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { JsonRpcProvider, NonceManager, SigningKey, Wallet, hexlify, type Signer } from 'ethers';
import { LicenseManager__factory, MockUSD__factory } from '../contracts/typechain/index.js';
import { routes } from '../shared/http/routes.js';
import type { Job } from '../shared/schemas/job.js';
import type { Recipe } from '../shared/schemas/recipe.js';
import { ProvenaClient } from '../shared/sdk/client.js';
import { requestDataKey } from '../shared/sdk/fetchData.js';
import { buyLicense } from '../shared/sdk/license.js';
import { uploadDataset } from '../shared/sdk/upload.js';
import { devAccountKey } from '../stack/embeddedChain.js';
import { startFreshStack } from '../stack/freshStack.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS, type RunningStack } from '../stack/stack.js';
import { anonymizeTable, type Cell } from '../gpu-workers/agent/anonymizer/index.js';
import { devAttestor } from '../gpu-workers/agent/attestor.js';
import { commitCheckpoint } from '../gpu-workers/agent/checkpoints.js';
import { startLocalWorker } from '../gpu-workers/agent/localWorker.js';
import { parseRows } from '../gpu-workers/agent/rows.js';
import { train } from '../gpu-workers/agent/training.js';
import { trainerVenvDir, venvPython } from '../gpu-workers/trainer/runtime.mjs';
import { reviewsCsv, ticketsJsonl } from '../scripts/demo/data.js';
import { machineNow } from './lib/figures.js';
import { percentile, startFloor } from './lib/load.js';

const ROOT = resolve(import.meta.dirname, '..');
const ROWS = Number(process.env.BENCH_WORKER_ROWS ?? 1500);
const KEYS = Number(process.env.BENCH_WORKER_KEYS ?? 200);
// The trainer's pipe-vs-memory runs: 2 × 1500 rows train in 0.2 s at 46k samples/s, so a run's fixed costs (the start
// frame, the validator, process-level set-up: 10-20 ms) swung the ratio by ±10 %; 20,000 rows make each run ~1.3 s.
const TRAINER_ROWS = Number(process.env.BENCH_WORKER_TRAINER_ROWS ?? 20000);
const CHECKPOINT_EVERY = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number) => +x.toFixed(2);
const ACCOUNTS = { ownerA: 10, ownerB: 11, lab: 15 } as const;

const recipe: Recipe = {
  kind: 'text-classifier', label: 'sentiment', textColumn: 'text', vocabSize: 256, maxTokens: 32, embeddingDim: 16,
  convChannels: 16, kernelSize: 3, epochs: 3, batchSize: 32, lr: 0.01, hiddenSizes: [16], seed: 7, validationFraction: 0.2,
};
const reviewColumns = [
  { name: 'customer_name', type: 'string' }, { name: 'email', type: 'string' }, { name: 'phone', type: 'string' },
  { name: 'age', type: 'integer' }, { name: 'postcode', type: 'string' }, { name: 'text', type: 'string' }, { name: 'sentiment', type: 'string' },
];
const ticketColumns = [{ name: 'text', type: 'string' }, { name: 'sentiment', type: 'string' }];
const reviewPolicy = {
  identifierColumns: ['email', 'phone'], nameColumns: ['customer_name'], quasiIdentifiers: { columns: ['age', 'postcode'], k: 5 },
  freeTextColumns: ['text'], redactTextPii: true,
};
const ticketPolicy = { identifierColumns: [], freeTextColumns: ['text'], redactTextPii: true };

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50Ms: r2(percentile(s, 50)), p99Ms: r2(percentile(s, 99)), meanMs: r2(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  const machine = machineNow();
  const t0 = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'provena-bench-worker-'));
  let stack: RunningStack | undefined;
  const kills: (() => void)[] = [];
  try {
    // ------------------------------------------------------------------ data, plaintext rows, anonymizer
    const reviews = reviewsCsv(ROWS, 11);
    const tickets = ticketsJsonl(ROWS, 22);
    const plain = [
      { datasetId: 'reviews', rows: parseRows('csv', reviews.bytes, reviewColumns) },
      { datasetId: 'tickets', rows: parseRows('jsonl', tickets.bytes, ticketColumns) },
    ];
    const jobKey = randomBytes(32);
    const anonStart = performance.now();
    const anonymized = [anonymizeTable(plain[0]!.rows, reviewPolicy, jobKey), anonymizeTable(plain[1]!.rows, ticketPolicy, jobKey)];
    const anonMs = performance.now() - anonStart;
    const anonRows = anonymized.reduce((s, a) => s + a.rows.length, 0);

    // ------------------------------------------------------------------ the stack, two datasets, a license, three jobs
    stack = await startFreshStack(dataDir, { PROVENA_JOB_LEASE_SECONDS: '120' });
    const { info } = stack;
    const provider = new JsonRpcProvider(info.rpcUrl, info.chainId, { staticNetwork: true, cacheTimeout: -1 });
    const signer = (i: number): Signer => new NonceManager(new Wallet(devAccountKey(i), provider));
    const wallet = (i: number) => new Wallet(devAccountKey(i), provider);
    const clientFor = (i: number) => new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, signer: wallet(i) });
    const tokenAddress = info.deployment.contracts.PaymentToken as string;
    const lmAddress = info.deployment.contracts.LicenseManager as string;
    const license = (p: bigint) => ({ paymentToken: tokenAddress, pricePerSample: String(p), allowedUses: ['training' as const], expiryOptionsDays: [30, 365] });
    const ownerA = clientFor(ACCOUNTS.ownerA);
    const ownerB = clientFor(ACCOUNTS.ownerB);
    const files = { reviews: join(dataDir, 'reviews.csv'), tickets: join(dataDir, 'tickets.jsonl') };
    writeFileSync(files.reviews, reviews.bytes);
    writeFileSync(files.tickets, tickets.bytes);
    const dsA = await ownerA.createDataset({
      title: 'Bench reviews', description: 'Reviews with personal data.', tags: ['bench'],
      dataSchema: { kind: 'tabular', columns: reviewColumns as any }, sizeBytes: reviews.bytes.length, sampleCount: reviews.rows,
      license: license(20n), royaltySplit: [{ recipient: wallet(ACCOUNTS.ownerA).address, bps: 10_000 }], anonymization: reviewPolicy,
    });
    const dsB = await ownerB.createDataset({
      title: 'Bench tickets', description: 'Support tickets with personal data.', tags: ['bench'],
      dataSchema: { kind: 'tabular', columns: ticketColumns as any }, sizeBytes: tickets.bytes.length, sampleCount: tickets.rows,
      license: license(30n), royaltySplit: [{ recipient: wallet(ACCOUNTS.ownerB).address, bps: 10_000 }], anonymization: ticketPolicy,
    });
    for (const [client, d, file] of [[ownerA, dsA, files.reviews], [ownerB, dsB, files.tickets]] as const) {
      await client.registerDataset(d.id);
      await uploadDataset(client, d.id, file, { stateDir: join(dataDir, 'upload-state'), chunkSize: 64 * 1024 });
    }
    const registered = await Promise.all([ownerA.getDataset(dsA.id), ownerB.getDataset(dsB.id)]);
    const chainIds = registered.map((d) => BigInt(d.chainDatasetId as string));
    const labSigner = signer(ACCOUNTS.lab);
    const manager = LicenseManager__factory.connect(lmAddress, labSigner);
    const lab = clientFor(ACCOUNTS.lab);
    const labModelKey = SigningKey.computePublicKey(new Wallet(devAccountKey(ACCOUNTS.lab)).signingKey.publicKey, true);
    // One license per job: a second job opened on the same license was submitted with no datasets in this run
    // (the worker then failed with DATA_KEY_MISMATCH), so each job gets its own, as the demo does.
    const openAndSubmit = async (): Promise<{ jobId: string; licenseId: string; submittedAt: number }> => {
      const budget = 2_000_000n;
      await (await MockUSD__factory.connect(tokenAddress, labSigner).mint(wallet(ACCOUNTS.lab).address, budget)).wait();
      const expiry = (await provider.getBlock('latest'))!.timestamp + 30 * 86_400;
      const bought = await buyLicense({ signer: labSigner, licenseManager: lmAddress, datasetIds: chainIds, maxPricesPerSample: [20n, 30n], budget, expiry });
      const tx = await (await manager.openJob(BigInt(bought.licenseId), 1_500_000n, 1_000_000n)).wait();
      const opened = tx!.logs.map((l) => manager.interface.parseLog(l)).find((p) => p?.name === 'JobOpened');
      const jobId = String(opened!.args[0]);
      const submittedAt = performance.now();
      const submitted = await lab.call(routes.submitJob, { body: { jobId, recipe, modelKey: labModelKey } });
      if (submitted.datasets.length !== 2) throw new Error(`job ${jobId} was accepted with ${submitted.datasets.length} datasets, not 2`);
      return { jobId, licenseId: String(bought.licenseId), submittedAt };
    };
    const getJob = (jobId: string): Promise<Job> => lab.call(routes.getJob, { params: { jobId } });
    console.log(`stack up, datasets uploaded, license bought: +${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // ------------------------------------------------------------------ the secure pipeline: one worker, one job
    // The worker process starts first and waits for work, as a deployed worker does: its start-up (node + tsx) is
    // a per-worker cost, timed apart. The job's wall time runs from the lab's submitJob call to the API showing it
    // done; the trainer process is spawned per job, so its start-up is in both this and the baseline.
    const phases: { msg: string; atMs: number }[] = [];
    const startW = performance.now();
    let started!: () => void;
    const workerUp = new Promise<void>((r) => (started = r));
    let ended!: () => void;
    const jobEnded = new Promise<void>((r) => (ended = r));
    const w = startLocalWorker({
      apiUrl: info.apiUrl, operatorKey: devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[0]), devRootDir: dataDir, workerId: 'bench-worker',
      env: { PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: String(CHECKPOINT_EVERY), PROVENA_WORKER_LEASE_WAIT_SECONDS: '2', PROVENA_WORKER_WORK_DIR: join(dataDir, 'work-a') },
      onLog: (l) => {
        try {
          const j = JSON.parse(l) as { msg: string };
          phases.push({ msg: j.msg, atMs: performance.now() });
          if (j.msg === 'worker started') started();
          if (j.msg === 'job done' || j.msg === 'job failed') ended();
        } catch { /* not JSON */ }
      },
    });
    kills.push(() => w.kill());
    await workerUp;
    const workerStartMs = performance.now() - startW;

    // ------------------------------------------------------------------ baseline: the trainer fed plaintext rows directly
    // Right before the pipeline job, in the same machine state (the stack up and the worker idle, long-polling), so
    // that the two differ by the secure pipeline only.
    const baseDir = join(dataDir, 'baseline');
    let baseCkpt: { path: string; position: any; consumed: Record<string, number> } | undefined;
    let baseCheckpoints = 0;
    const keepDir = join(dataDir, 'ckpt-keep');
    mkdirSync(baseDir, { recursive: true, mode: 0o700 });
    const baseStart = performance.now();
    for await (const f of train({ jobId: '1', recipe, datasets: plain, outDir: baseDir, checkpointEverySteps: CHECKPOINT_EVERY, keepCheckpoints: 1_000_000, device: 'cpu' })) {
      if (f.type === 'checkpoint') {
        baseCheckpoints++;
        if (!baseCkpt) {
          mkdirSync(keepDir, { recursive: true });
          const path = join(keepDir, 'ckpt');
          copyFileSync(f.path, path);
          baseCkpt = { path, position: f.position, consumed: f.consumed as Record<string, number> };
        }
      }
    }
    const baselineMs = performance.now() - baseStart;
    console.log(`baseline: trainer fed plaintext rows directly: ${(baselineMs / 1000).toFixed(1)} s, ${baseCheckpoints} checkpoints`);

    const { jobId: jobA, submittedAt } = await openAndSubmit();
    let jobDone: Job;
    for (;;) {
      jobDone = await getJob(jobA);
      if (jobDone.status === 'done') break;
      if (['failed', 'cancelled'].includes(jobDone.status)) throw new Error(`job ${jobA} ${jobDone.status}: ${jobDone.error?.code} ${jobDone.error?.message}`);
      if (performance.now() - submittedAt > 240_000) throw new Error('the pipeline job did not finish in 240 s');
      // Polling the API costs CPU on the same two cores (chain reads): fast only once the worker logged the end.
      const ended = phases.some((p) => p.msg === 'job done' || p.msg === 'job failed');
      await (ended ? sleep(50) : Promise.race([sleep(2000), jobEnded]));
    }
    const pipelineMs = performance.now() - submittedAt;
    await w.stop();
    // The stopped worker's last long poll (PROVENA_WORKER_LEASE_WAIT_SECONDS) may still be open on the server: a job
    // submitted now could be leased to it. Let it end first.
    await sleep(3000);
    console.log(`pipeline: ${(pipelineMs / 1000).toFixed(1)} s; ${jobDone.checkpoints.length} checkpoints; worker start-up ${(workerStartMs / 1000).toFixed(1)} s`);

    const ph = (m: string) => {
      const at = phases.find((p) => p.msg === m && p.atMs >= submittedAt)?.atMs;
      return at === undefined ? undefined : r2(at - submittedAt);
    };
    const phasesMs = Object.fromEntries(
      ['leased', 'attested', 'data fetched', 'anonymized', 'training', 'model', 'job done'].map((m) => [m, ph(m)]).concat([['statusDone', r2(pipelineMs)]]),
    );
    if (process.env.BENCH_WORKER_PIPELINE_ONLY) {
      console.log(JSON.stringify({ pipelineMs: r2(pipelineMs), baselineMs: r2(baselineMs), ratio: r2(pipelineMs / baselineMs), workerStartMs: r2(workerStartMs), phasesMs, loadavg: loadavg() }));
      return;
    }

    // ------------------------------------------------------------------ key releases and checkpoint commits under a held lease (job C)
    const { jobId: jobC, licenseId: licenseC } = await openAndSubmit();
    const operator = new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, signer: wallet(STACK_WORKER_OPERATOR_ACCOUNTS[1]) });
    const lease = await operator.call(routes.leaseJob, { body: { workerId: 'bench', modes: ['nitro'], waitSeconds: 0 } });
    if (lease.assignment?.job.id !== jobC) throw new Error(`the bench leased ${lease.assignment?.job.id ?? 'nothing'}, not job ${jobC}`);
    const fencingToken = lease.assignment.lease.fencingToken;
    const attested = new Wallet(hexlify(randomBytes(32)));
    const { nonce } = await operator.call(routes.issueAttestationNonce, { params: { jobId: jobC } });
    const attestation = await devAttestor(dataDir).attest({ publicKey: attested.signingKey.publicKey, nonce });
    await operator.call(routes.attestWorker, { params: { jobId: jobC }, body: { evidence: attestation.evidence, workerPublicKey: attested.signingKey.publicKey, nonce } });
    const grant = { type: 'job' as const, jobId: jobC, licenseId: licenseC };
    const keyMs = await timeEach(KEYS, () => requestDataKey(operator, attested, info.chainId, dsA.id, registered[0]!.data!.version, grant));
    const healthMs = await timeEach(KEYS, async () => (await fetch(`${info.apiUrl}/v1/health`)).arrayBuffer());
    const floor = await startFloor();
    const floorMs = await timeEach(KEYS, async () => (await fetch(floor.url)).arrayBuffer());
    await floor.close();
    console.log(`key release p50 ${stats(keyMs).p50Ms} ms (health ${stats(healthMs).p50Ms}, floor ${stats(floorMs).p50Ms})`);
    const ckptMs: number[] = [];
    let ckptBytes = 0;
    const ckptKey = randomBytes(32);
    const artifacts = {
      createUpload: (kind: 'checkpoint' | 'model', bytes: number, sha256: string) => operator.call(routes.createArtifactUpload, { params: { jobId: jobC }, body: { fencingToken, kind, bytes, sha256 } }),
      commit: (input: any) => operator.call(routes.commitCheckpoint, { params: { jobId: jobC }, body: { fencingToken, ...input } }),
    };
    const consumedC = { [dsA.id]: baseCkpt!.consumed.reviews ?? 0, [dsB.id]: baseCkpt!.consumed.tickets ?? 0 };
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const c = await commitCheckpoint(artifacts as any, ckptKey, jobC, baseCkpt!.path, baseCkpt!.position, consumedC as any);
      ckptMs.push(performance.now() - t);
      ckptBytes = c.bytes;
    }
    const ckptPlainBytes = statSync(baseCkpt!.path).size;
    await operator.call(routes.releaseLease, { params: { jobId: jobC }, body: { fencingToken, reason: 'failed', error: { code: 'BENCH_DONE', message: 'bench lease' } } }).catch(() => undefined);

    // ------------------------------------------------------------------ SIGTERM to lease released (job B)
    const { jobId: jobB } = await openAndSubmit();
    const wb = startLocalWorker({
      apiUrl: info.apiUrl, operatorKey: devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[0]), devRootDir: dataDir, workerId: 'bench-sigterm',
      env: { PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: String(CHECKPOINT_EVERY), PROVENA_WORKER_LEASE_WAIT_SECONDS: '2', PROVENA_WORKER_WORK_DIR: join(dataDir, 'work-b') },
    });
    kills.push(() => wb.kill());
    for (let t = performance.now(); ; ) {
      const j = await getJob(jobB);
      if (j.checkpoints.length >= 1) break;
      if (performance.now() - t > 120_000) throw new Error(`job ${jobB} did not start training in 120 s (${j.status})`);
      await sleep(100);
    }
    const termAt = performance.now();
    process.kill(wb.child.pid!, 'SIGTERM');
    // Released = the job can be leased again (the view has no lease field): another operator polls for it.
    let releasedLease;
    for (;;) {
      const l = await operator.call(routes.leaseJob, { body: { workerId: 'bench-probe', modes: ['nitro'], waitSeconds: 0 } });
      if (l.assignment) {
        releasedLease = l.assignment;
        break;
      }
      if (performance.now() - termAt > 90_000) throw new Error('the lease was not released within 90 s of SIGTERM');
      await sleep(50);
    }
    const sigtermMs = performance.now() - termAt;
    if (releasedLease.job.id !== jobB) throw new Error(`leased ${releasedLease.job.id}, not job ${jobB}`);
    const released = releasedLease.job;
    const sigtermExitMs = (await wb.exited, performance.now() - termAt);
    console.log(`SIGTERM -> lease released: ${sigtermMs.toFixed(0)} ms (status ${released.status})`);

    // ------------------------------------------------------------------ the trainer's own bench (pipe vs memory, DP-SGD vs SGD)
    const py = venvPython(trainerVenvDir());
    const tb = await promisify(execFile)(py, [join(ROOT, 'gpu-workers', 'trainer', 'bench_trainer.py')], {
      cwd: ROOT, maxBuffer: 16 * 2 ** 20,
      env: { ...process.env, OMP_NUM_THREADS: '1', BENCH_TRAINER_ROWS: String(TRAINER_ROWS), BENCH_TRAINER_REPEATS: '7' },
    });
    const trainer = JSON.parse(tb.stdout);

    const result = {
      bench: 'worker',
      measuredAt: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: loadavg().map((l) => +l.toFixed(2)) },
      settings: { rowsPerDataset: ROWS, datasets: 2, recipe: recipe.kind, epochs: recipe.epochs, batchSize: recipe.batchSize, checkpointEverySteps: CHECKPOINT_EVERY, keyReleases: KEYS, trainerThreads: 1, trainerRows: TRAINER_ROWS },
      pipeline: {
        ms: r2(pipelineMs),
        baselineMs: r2(baselineMs),
        ratio: r2(pipelineMs / baselineMs),
        baselineCheckpoints: baseCheckpoints,
        checkpoints: jobDone.checkpoints.length,
        checkpointBytes: jobDone.checkpoints.map((c) => c.bytes),
        workerStartMs: r2(workerStartMs),
        phasesMs,
        note: 'pipeline: from the lab\'s submitJob call to the API showing the job done, with the worker process already started and waiting for work (its node + tsx start-up is workerStartMs, once per worker); baseline: from spawning the trainer to its model frame, run just before the job with the stack up and the worker idle (both include the trainer process start-up). Phases are the worker log lines, in ms after submitJob.',
      },
      keyRelease: { ...stats(keyMs), health: stats(healthMs), floor: stats(floorMs), dataset: dsA.id, bytes: reviews.bytes.length },
      checkpoint: { ...stats(ckptMs), encryptedBytes: ckptBytes, plaintextBytes: ckptPlainBytes, samples: ckptMs.map(r2) },
      sigterm: { toLeaseReleasedMs: r2(sigtermMs), toExitMs: r2(sigtermExitMs), statusOnReLease: released.status, resumeFrom: Boolean(releasedLease.resumeFrom), checkpointsAtTerm: released.checkpoints.length },
      anonymizer: { rows: plain[0]!.rows.length + plain[1]!.rows.length, rowsOut: anonRows, ms: r2(anonMs), rowsPerSec: r2((plain[0]!.rows.length + plain[1]!.rows.length) / (anonMs / 1000)) },
      trainer,
      seconds: r2((performance.now() - t0) / 1000),
    };
    writeFileSync(join(ROOT, 'bench', 'results', 'worker.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify({ ...result, trainer: undefined }, null, 1));
  } finally {
    for (const k of kills) k();
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
