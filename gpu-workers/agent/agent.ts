/**
 * The worker agent's job loop: lease → fresh attested key → nonce → evidence → `attesting` → keys and data per
 * dataset (job grant, signed by the attested key) → anonymize per listing → train → on each checkpoint: encrypt,
 * upload, commit, report usage (capped) → model: seal to the lab, receipt, final report, result. A heartbeat
 * renews the lease; `cancel` or an interruption notice stops at the next checkpoint (or the last committed one
 * when the notice's deadline is near), reports what it covers, and releases the lease as `interrupted`.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hkdfSync, randomBytes } from 'node:crypto';
import { Wallet, hexlify } from 'ethers';
import { deriveCheckpointKey } from '../../shared/crypto/artifact.js';
import { licenseManagerDomain } from '../../shared/eip712.js';
import { ProvenaError } from '../../shared/errors.js';
import { routes } from '../../shared/http/routes.js';
import type { ProvenaClient } from '../../shared/sdk/client.js';
import type { Job, JobCheckpoint, LeaseResult, ReceiptBody } from '../../shared/schemas/job.js';
import type { AnonymizationReport } from '../../shared/schemas/anonymizationReport.js';
import { anonymizationReportHash, anonymizeTable, type Cell } from './anonymizer/index.js';
import type { Attestor } from './attestor.js';
import { commitCheckpoint, putObject, restoreCheckpoint, type ArtifactApi } from './checkpoints.js';
import { maxDatasetBytes, type WorkerConfig } from './config.js';
import { fetchJobDataset, type FetchedDataset } from './dataFetch.js';
import { sealModel, signReceipt } from './delivery.js';
import type { InterruptionNotice } from './interruptions.js';
import { assertPlanAffordable, type PricedDataset, type Samples } from './metering.js';
import { UsageReporter, chainClockOffset } from './reporter.js';
import { train } from './training.js';
import { startTrainer, type TrainerProcess } from './trainerDriver.js';
import { LatestOnly } from './latest.js';
import type { TrainerOutputFrame } from '../../shared/schemas/trainerProtocol.js';

type CheckpointFrame = Extract<TrainerOutputFrame, { type: 'checkpoint' }>;

type Assignment = NonNullable<LeaseResult['assignment']>;

/** What the agent needs; `api` signs requests with the operator key. */
export interface AgentDeps {
  config: WorkerConfig;
  api: ProvenaClient;
  attestor: Attestor;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Spawns the trainer (tests may pass one with other thread counts). */
  startTrainer?: () => TrainerProcess;
}

/** How a job ended for this worker. */
export type JobOutcome =
  | { kind: 'done'; receiptCid: string }
  | { kind: 'interrupted'; committed?: JobCheckpoint }
  | { kind: 'cancelled'; committed?: JobCheckpoint }
  | { kind: 'failed'; code: string; message: string }
  | { kind: 'lost'; code: string };

/** Shared state of a running job the heartbeat and the notice handler write and the loop reads. */
interface Control {
  cancel: boolean;
  notice?: InterruptionNotice;
  lost?: string;
  /** Set when the trainer was killed for a near deadline. */
  stopNow?: boolean;
}

const secondsOf = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** A per-job secret every attested worker of the job derives alike (HKDF over the data keys), for `purpose`. */
function jobSecret(jobId: string, keys: readonly FetchedDataset[], purpose: string): Buffer {
  const ikm = Buffer.concat([...keys].sort((a, b) => (a.datasetId < b.datasetId ? -1 : 1)).map((k) => k.dataKey));
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.from(`provena/${purpose}/v1`), Buffer.from(jobId, 'utf8'), 32));
}

/** Numbers only, names ≤ 32 characters (the event schema). */
function numeric(m: Record<string, unknown> | null | undefined): Record<string, number> | null {
  if (!m) return null;
  return Object.fromEntries(
    Object.entries(m)
      .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
      .map(([k, v]) => [k.slice(0, 32), v]),
  );
}

/**
 * Runs one leased job to its end for this worker. Never throws for a job-level failure: the lease is released as
 * `failed` with a code; throws only when the API cannot be reached at all.
 */
export async function runJob(deps: AgentDeps, assignment: Assignment, control: Control = { cancel: false }): Promise<JobOutcome> {
  const { api, config, log } = deps;
  const job: Job = assignment.job;
  const jobId = job.id;
  let fencingToken = assignment.lease.fencingToken;
  const workDir = join(config.PROVENA_WORKER_WORK_DIR, `job-${jobId}-${randomBytes(4).toString('hex')}`);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const fetched: FetchedDataset[] = [];
  let lastCommitted: JobCheckpoint | undefined = assignment.resumeFrom;

  // Heartbeat: renews the lease; `cancel` from the API stops the job at its next checkpoint.
  const beatEvery = Math.max(1, Math.min(config.PROVENA_WORKER_HEARTBEAT_SECONDS, assignment.lease.heartbeatSeconds));
  const heartbeat = setInterval(() => {
    api
      .call(routes.heartbeatLease, { params: { jobId }, body: { fencingToken } })
      .then((r) => {
        fencingToken = r.lease.fencingToken;
        if (r.cancel && !control.cancel) {
          control.cancel = true;
          log('job cancelled: stopping at the next checkpoint', { jobId });
        }
      })
      .catch((e: unknown) => {
        const code = (e as { code?: string }).code ?? 'INTERNAL';
        if (code === 'JOB_LEASE_STALE' || code === 'JOB_LEASE_EXPIRED' || code === 'JOB_LEASE_NOT_HOLDER') control.lost = code;
        log('heartbeat failed', { jobId, code });
      });
  }, beatEvery * 1000);
  heartbeat.unref();

  const release = async (reason: 'interrupted' | 'failed', error?: { code: string; message: string }): Promise<void> => {
    try {
      await api.call(routes.releaseLease, {
        params: { jobId },
        body: { fencingToken, reason, ...(error ? { error: { code: error.code, message: error.message.slice(0, 500) || error.code } } : {}) },
      });
    } catch (e) {
      log('lease release failed', { jobId, code: (e as { code?: string }).code });
    }
  };

  // The trainer starts now: its interpreter and torch load while this job attests, fetches and anonymizes (it reads
  // nothing but its stdin, and gets no row before the `start` frame). Killed below if the job ends before training.
  let trainer: TrainerProcess | undefined;
  let modelReceived = false;
  try {
    // Every license covers a dataset: a job without any was recorded from a stale chain read (submitJob now refuses
    // it). Said plainly here, rather than failing later for want of a data key to derive the checkpoint key from.
    if (job.datasets.length === 0) throw new ProvenaError('WORKER_DATA_INVALID', `job ${jobId} names no dataset`);
    trainer = (deps.startTrainer ?? startTrainer)();
    const health = await api.health();
    const licenseManager = health.contracts.LicenseManager;
    if (!licenseManager) throw new ProvenaError('CONFIG_INVALID', 'the API names no LicenseManager');

    // A fresh key for this job only; its private half never leaves this process.
    const attested = new Wallet(hexlify(randomBytes(32)));
    await api.call(routes.postJobEvent, { params: { jobId }, body: { fencingToken, event: { type: 'attesting' } } });
    const { nonce } = await api.call(routes.issueAttestationNonce, { params: { jobId } });
    const attestation = await deps.attestor.attest({ publicKey: attested.signingKey.publicKey, nonce });
    const approval = await api.call(routes.attestWorker, {
      params: { jobId },
      body: { evidence: attestation.evidence, workerPublicKey: attested.signingKey.publicKey, nonce },
    });
    log('attested', { jobId, worker: approval.worker, mode: approval.mode });

    // Keys and data, each dataset through the key gate under the job grant.
    const listings = await Promise.all(job.datasets.map((d) => api.getDataset(d.datasetId)));
    // All of them are held in memory at once: a job this worker cannot hold fails before any key is requested. (A
    // resumed job may train on an older version; each version's own manifest is checked too, in fetchJobDataset.)
    const declared = listings.reduce((n, l) => n + (l.data?.plaintextSize ?? 0), 0);
    if (declared > config.PROVENA_WORKER_MAX_DATA_BYTES) {
      throw new ProvenaError('WORKER_DATA_TOO_LARGE', `the job's datasets hold ${declared} bytes of plaintext, more than this worker's ${config.PROVENA_WORKER_MAX_DATA_BYTES} (PROVENA_WORKER_MAX_DATA_BYTES)`, {
        details: { bytes: declared, maxBytes: config.PROVENA_WORKER_MAX_DATA_BYTES },
      });
    }
    const settled = await Promise.allSettled(
      job.datasets.map((d, i) =>
        fetchJobDataset(api, attested, health.chainId, { jobId, licenseId: job.licenseId }, listings[i]!, assignment.resumeFrom ? d.manifestCid : undefined, maxDatasetBytes(config)),
      ),
    );
    for (const r of settled) if (r.status === 'fulfilled') fetched.push(r.value); // every key is zeroed below
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    await api.call(routes.postJobEvent, {
      params: { jobId },
      body: {
        fencingToken,
        event: {
          type: 'running',
          manifests: Object.fromEntries(fetched.map((f) => [f.datasetId, f.manifestCid])),
          worker: { address: approval.worker, mode: approval.mode },
        },
      },
    });

    log('data fetched', { jobId, datasets: fetched.length });

    // Anonymize per each listing's policy, under a per-job key every attested worker of this job derives alike
    // (a resumed run must feed the trainer the same rows).
    const pseudonymKey = jobSecret(jobId, fetched, 'pseudonym');
    const reports = new Map<string, AnonymizationReport>();
    const anonymized = fetched.map((f, i) => {
      const { rows, report } = anonymizeTable(f.rows, listings[i]!.anonymization, pseudonymKey);
      reports.set(f.datasetId, report);
      f.rows = [];
      return { datasetId: f.datasetId, rows: rows as Record<string, Cell>[] };
    });
    pseudonymKey.fill(0);
    log('anonymized', { jobId, rows: anonymized.reduce((n, a) => n + a.rows.length, 0) });

    const checkpointKey = deriveCheckpointKey(jobId, new Map(fetched.map((f) => [f.datasetId, f.dataKey])));
    const resumeFrom = assignment.resumeFrom ? await restoreCheckpoint(assignment.resumeFrom, checkpointKey, jobId, workDir) : undefined;

    const priced: PricedDataset[] = job.datasets.map((d) => ({
      datasetId: d.datasetId,
      chainDatasetId: d.chainDatasetId,
      pricePerSample: BigInt(d.pricePerSample),
    }));
    const reporter = new UsageReporter({
      jobId,
      datasets: priced,
      settled: Object.fromEntries(job.datasets.map((d) => [d.datasetId, Number(d.settledSamples)])),
      maxRatePerSecond: BigInt(job.maxRatePerSecond),
      startedAtSeconds: secondsOf(job.startedAt),
      clockOffsetSeconds: chainClockOffset(job),
      domain: licenseManagerDomain(health.chainId, licenseManager),
      signer: attested,
      submit: (report, signature) => api.call(routes.submitUsageReport, { params: { jobId }, body: { fencingToken, report, signature } }),
      log: (m) => log(m, { jobId }),
    });
    const artifacts: ArtifactApi = {
      createUpload: (kind, bytes, sha256) => api.call(routes.createArtifactUpload, { params: { jobId }, body: { fencingToken, kind, bytes, sha256 } }),
      commit: (input) => api.call(routes.commitCheckpoint, { params: { jobId }, body: { fencingToken, ...input } }),
    };
    const reportFailed = (e: unknown): true => {
      const code = (e as { code?: string }).code;
      if (code === 'JOB_NOT_ACTIVE') {
        // The lab cancelled on chain and the contract (or the API) refused the report: a clean stop, as a heartbeat's
        // cancel (no retry: nothing after the cancel is paid; what was mined before it stays settled).
        if (!control.cancel) log('job cancelled on chain (report refused): stopping at the next checkpoint', { jobId });
        control.cancel = true;
        return true;
      }
      log('usage report failed; the next one covers it', { jobId, code });
      return true;
    };
    // A cancelled job pays nothing more (the API refuses with JOB_NOT_ACTIVE): commit, but do not report.
    const reportCommitted = async (samples: Samples): Promise<void> => {
      if (control.cancel) return;
      await reporter.report(samples).catch(reportFailed);
    };
    // Training never waits on an upload or a transaction: commits and usage reports run beside it, newest first. A
    // checkpoint that a newer one overtook before its upload started is skipped (its file deleted), and a report
    // waits for the one in flight and the configured interval (a newer committed checkpoint replaces it).
    const usage = new LatestOnly<Samples>((samples) => reporter.report(samples).then(() => undefined), {
      minIntervalMs: config.PROVENA_WORKER_REPORT_MIN_SECONDS * 1000,
      onError: reportFailed,
    });
    const commits = new LatestOnly<CheckpointFrame>(
      async (frame) => {
        try {
          lastCommitted = await commitCheckpoint(artifacts, checkpointKey, jobId, frame.path, frame.position, frame.consumed);
        } finally {
          await rm(frame.path, { force: true });
        }
        if (!control.cancel) usage.offer(frame.consumed);
      },
      { onDrop: (frame) => rm(frame.path, { force: true }) },
    );
    const trainerProcess = trainer;
    // The trainer is ours to kill: a notice whose deadline is near does not wait for the next checkpoint.
    const watchdog = setInterval(() => {
      if (control.notice && control.notice.deadline.getTime() - Date.now() < config.PROVENA_WORKER_NOTICE_MARGIN_SECONDS * 1000 && !control.stopNow) {
        control.stopNow = true;
        log('interruption deadline near: stopping without a new checkpoint', { jobId });
        trainerProcess.kill();
      }
    }, 250);
    watchdog.unref();
    let lastMetrics: { train: Record<string, number> | null; val: Record<string, number> | null; epsilon?: number; delta?: number } | undefined;
    const run = train(
      {
        jobId,
        recipe: job.recipe,
        datasets: anonymized,
        outDir: workDir,
        device: config.PROVENA_TRAINER_DEVICE,
        checkpointEverySteps: config.PROVENA_WORKER_CHECKPOINT_EVERY_STEPS,
        // The trainer runs ahead of the uploads: it must not delete a file the agent has yet to read. The agent
        // deletes each checkpoint file once it is committed (or skipped).
        keepCheckpoints: 1_000_000,
        ...(resumeFrom ? { resumeFrom } : {}),
        // The listings' privacy budgets as the lease gives them (this job's reservations): the trainer refuses a
        // plan above the smallest, or a job without DP.
        ...(assignment.privacyBudgets ? { privacyBudget: Math.min(...Object.values(assignment.privacyBudgets)) } : {}),
      },
      trainerProcess,
    );
    try {
      for await (const frame of run) {
        if (control.lost) return { kind: 'lost', code: control.lost };
        commits.throwIfFailed();
        if (frame.type === 'plan') {
          assertPlanAffordable(priced, frame.plannedConsumed, BigInt(job.budget));
          log('training', { jobId, device: frame.device, rows: frame.rows, resumedAt: frame.resumedAt.globalStep });
        } else if (frame.type === 'metrics') {
          lastMetrics = {
            train: numeric(frame.train),
            val: numeric(frame.val),
            ...(typeof frame.epsilon === 'number' ? { epsilon: frame.epsilon } : {}),
            ...(frame.delta !== undefined ? { delta: frame.delta } : {}),
          };
          await api
            .call(routes.postJobEvent, {
              params: { jobId },
              body: {
                fencingToken,
                event: {
                  type: 'metrics',
                  epoch: frame.epoch,
                  train: lastMetrics.train ?? {},
                  val: lastMetrics.val,
                  ...(lastMetrics.epsilon !== undefined ? { epsilon: lastMetrics.epsilon } : {}),
                },
              },
            })
            .catch((e: unknown) => log('metrics event failed', { jobId, code: (e as { code?: string }).code }));
        } else if (frame.type === 'checkpoint') {
          // Stop after the first checkpoint taken once the notice (or cancel) was known: a notice that arrives while
          // this one is being committed waits for the next, so the job leaves with the newest state it can.
          const stopAfter = Boolean(control.notice || control.cancel);
          const near = control.notice && control.notice.deadline.getTime() - Date.now() < config.PROVENA_WORKER_NOTICE_MARGIN_SECONDS * 1000;
          if (near) await rm(frame.path, { force: true });
          else commits.offer(frame);
          if (stopAfter) {
            await commits.drain(!near);
            break;
          }
        } else if (frame.type === 'model') {
          modelReceived = true;
          log('model', { jobId, bytes: frame.bytes });
          // The model covers every checkpoint still waiting; the one uploading finishes first, as does a report in
          // flight (the final report comes after it).
          await commits.drain(false);
          await usage.drain(false);
          return await deliver(deps, {
            job,
            fencingToken: () => fencingToken,
            frame,
            attested,
            approval,
            attestation,
            fetched,
            reports,
            reporter,
            lastMetrics,
            licenseManager,
            chainId: health.chainId,
            artifacts,
          });
        }
        if (control.stopNow) break;
      }
    } catch (e) {
      if (!control.stopNow) throw e; // the trainer was killed on purpose: wind down below
    } finally {
      clearInterval(watchdog);
    }
    // Stopped early: a notice or a cancel. What the last committed checkpoint covers is reported; the lease goes back.
    await run.return(undefined);
    await commits.drain(false).catch((e: unknown) => log('checkpoint commit failed', { jobId, code: (e as { code?: string }).code }));
    await usage.drain(false);
    if (lastCommitted) await reportCommitted(lastCommitted.samples);
    await release('interrupted');
    return control.cancel && !control.notice
      ? { kind: 'cancelled', ...(lastCommitted ? { committed: lastCommitted } : {}) }
      : { kind: 'interrupted', ...(lastCommitted ? { committed: lastCommitted } : {}) };
  } catch (e) {
    const code = (e as { trainerCode?: string }).trainerCode ?? (e as { code?: string }).code ?? 'INTERNAL';
    const message = (e as Error).message ?? String(e);
    if (control.lost || code === 'JOB_LEASE_STALE' || code === 'JOB_LEASE_EXPIRED') return { kind: 'lost', code: control.lost ?? code };
    if (code === 'JOB_NOT_ACTIVE') {
      // Cancelled on chain while the model or final report was under way (the contract refuses reports after the
      // lab's endJob): the same clean stop as a cancel, not a failure.
      log('job cancelled on chain: stopping, nothing more is reported', { jobId });
      await release('interrupted');
      return { kind: 'cancelled', ...(lastCommitted ? { committed: lastCommitted } : {}) };
    }
    log('job failed', { jobId, code });
    await release('failed', { code: /^[A-Z][A-Z0-9_]{2,63}$/.test(code) ? code : 'INTERNAL', message: message.replace(/[^\x20-\x7e]/g, ' ') });
    return { kind: 'failed', code, message };
  } finally {
    // After its model the trainer exits by itself (it may still be flushing); give it a moment before the kill, so a
    // finished trainer is not cut off (in Nitro mode the kill crosses the vsock and the parent would record a signal).
    if (trainer && modelReceived) await Promise.race([trainer.exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    trainer?.kill();
    clearInterval(heartbeat);
    for (const f of fetched) f.dataKey.fill(0);
    await rm(workDir, { recursive: true, force: true });
  }
}

interface DeliverInput {
  job: Job;
  fencingToken: () => number;
  frame: { path: string; sha256: string; bytes: number; consumed: Record<string, number> };
  attested: Wallet;
  approval: { worker: string; mode: 'nitro' | 'confidential-gpu'; evidenceHash: string };
  attestation: { measurement: string };
  fetched: readonly FetchedDataset[];
  reports: ReadonlyMap<string, AnonymizationReport>;
  reporter: UsageReporter;
  lastMetrics: { train: Record<string, number> | null; val: Record<string, number> | null; epsilon?: number; delta?: number } | undefined;
  licenseManager: string;
  chainId: number;
  artifacts: ArtifactApi;
}

/** The model to the lab, the receipt, the final report, the result. */
async function deliver(deps: AgentDeps, d: DeliverInput): Promise<JobOutcome> {
  const { job } = d;
  const model = await readFile(d.frame.path);
  const sealed = await sealModel(job.id, model, job.modelKey);
  model.fill(0);
  const upload = await d.artifacts.createUpload('model', sealed.encryptedBytes, sealed.objectSha256);
  await putObject(upload.uploadUrl, sealed.object);

  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(d.lastMetrics?.train ?? {})) metrics[`train.${k}`] = v;
  for (const [k, v] of Object.entries(d.lastMetrics?.val ?? {})) metrics[`val.${k}`] = v;
  const dp = job.recipe.dp?.enabled ? { epsilon: d.lastMetrics?.epsilon ?? 0, delta: job.recipe.dp.delta } : null;
  const body: ReceiptBody = {
    schema: 'provena.receipt/v1',
    chainId: d.chainId,
    licenseManager: d.licenseManager,
    jobId: job.id,
    licenseId: job.licenseId,
    datasets: job.datasets.map((jd) => {
      const f = d.fetched.find((x) => x.datasetId === jd.datasetId)!;
      const report = d.reports.get(jd.datasetId)!;
      return {
        datasetId: jd.datasetId,
        chainDatasetId: jd.chainDatasetId,
        version: f.version,
        manifestCid: f.manifestCid,
        samples: d.frame.consumed[jd.datasetId] ?? 0,
        anonymization: report,
        anonymizationReportHash: `0x${anonymizationReportHash(report)}`,
      };
    }),
    recipeHash: job.recipeHash,
    model: { sha256: d.frame.sha256, bytes: d.frame.bytes },
    worker: { address: d.approval.worker, mode: d.approval.mode, evidenceHash: d.approval.evidenceHash, measurement: d.attestation.measurement },
    dp,
    metrics: Object.keys(metrics).length ? metrics : null,
    createdAt: new Date().toISOString(),
  };
  const { receipt, cid } = await signReceipt(body, d.attested);
  const result = await d.reporter.final(d.frame.consumed, cid, (report, signature) =>
    deps.api.call(routes.submitJobResult, {
      params: { jobId: job.id },
      body: {
        fencingToken: d.fencingToken(),
        model: { objectKey: upload.objectKey, sha256: sealed.sha256, bytes: sealed.bytes, encryptedBytes: sealed.encryptedBytes },
        sealedKey: sealed.sealedKey,
        receipt,
        receiptCid: cid,
        report,
        signature,
      },
    }),
  );
  deps.log('job done', { jobId: job.id, receiptCid: result.receiptCid, paid: result.paid });
  return { kind: 'done', receiptCid: result.receiptCid };
}

/**
 * The worker's main loop: lease (long poll), run the job, repeat; with `PROVENA_WORKER_ONCE`, one lease request
 * (and its job) only. A notice (spot interruption, SIGTERM) ends the loop after the running job wound down.
 */
export async function runWorker(deps: AgentDeps, control: Control = { cancel: false }): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  const { config, api } = deps;
  do {
    // A notice while idle ends the long poll at once (a job leased in that instant goes back when its lease expires).
    let noticed: NodeJS.Timeout | undefined;
    const lease = await Promise.race([
      api.call(routes.leaseJob, {
        body: { workerId: config.PROVENA_WORKER_ID, modes: config.PROVENA_WORKER_MODES, waitSeconds: config.PROVENA_WORKER_LEASE_WAIT_SECONDS },
      }),
      new Promise<null>((resolve) => {
        noticed = setInterval(() => control.notice && resolve(null), 100);
      }),
    ]).finally(() => clearInterval(noticed));
    if (lease === null) break;
    if (lease.assignment) {
      deps.log('leased', { jobId: lease.assignment.job.id, fencingToken: lease.assignment.lease.fencingToken, resume: Boolean(lease.assignment.resumeFrom) });
      const jobControl: Control = { cancel: false };
      const forward = setInterval(() => {
        if (control.notice && !jobControl.notice) jobControl.notice = control.notice;
      }, 100);
      try {
        outcomes.push(await runJob(deps, lease.assignment, jobControl));
      } finally {
        clearInterval(forward);
      }
    }
  } while (!config.PROVENA_WORKER_ONCE && !control.notice);
  return outcomes;
}

export type { Control as AgentControl };
