/**
 * The test as a worker, over the real worker routes: leases a given job (as a stack worker operator), attests a
 * fresh key with the development attestor, reports running and epoch metrics, commits a checkpoint, has usage
 * reports relayed, and finishes with a signed receipt and a sealed model. Each step is a separate call, so a page
 * watching the job sees it move.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { DevAttestor } from '../../shared/attestation/devAttestor.js';
import { licenseManagerDomain, signFinalReport, signUsageReport } from '../../shared/eip712.js';
import { canonicalJson } from '../../shared/encoding/canonicalJson.js';
import { cidOfBytes } from '../../shared/encoding/unixfs.js';
import { routes } from '../../shared/http/routes.js';
import type { ProvenaClient } from '../../shared/sdk/client.js';
import type { Job, ReceiptBody, UsageReportWire } from '../../shared/schemas/job.js';
import { devAccountKey } from '../../stack/embeddedChain.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS } from '../../stack/stack.js';
import { sealModel } from '../../gpu-workers/agent/delivery.js';
import { clientFor, stackInfo } from './stack.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function put(url: string, bytes: Uint8Array): Promise<void> {
  const res = await fetch(url, { method: 'PUT', body: bytes });
  if (!res.ok) throw new Error(`PUT ${url}: HTTP ${res.status}`);
}

/** A valid safetensors file: one 2×2 float32 tensor and metadata (8-byte LE header length, JSON header, data). */
export function tinySafetensors(): Uint8Array {
  const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt', by: 'provena test worker' }, weight: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.from(new Float32Array([0.5, -1, 2, 0.25]).buffer)]);
}

/** A worker for one job. `pauseMs` between steps lets a watching page render each state. */
export class TestWorker {
  readonly operator: ProvenaClient = clientFor(new Wallet(devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[1])));
  readonly key = Wallet.createRandom();
  private token = 0;
  private job!: Job;
  /** The encrypted-data manifest each dataset of the job is read from (its listing's current data version). */
  private manifests: Record<string, string> = {};
  private beating: ReturnType<typeof setInterval> | undefined;
  private readonly domain = licenseManagerDomain(stackInfo().chainId, stackInfo().deployment.contracts.LicenseManager as string);

  constructor(
    readonly jobId: string,
    private readonly pauseMs = 1500,
  ) {}

  /**
   * Leases until this job is the one assigned (another file's queued job, if any, is left to its lease's expiry).
   */
  async lease(deadlineMs = Date.now() + 60_000): Promise<void> {
    for (;;) {
      const r = await this.operator.call(routes.leaseJob, { body: { workerId: 'web-test-worker', modes: ['nitro'], waitSeconds: 2 } });
      if (r.assignment?.job.id === this.jobId) {
        this.token = r.assignment.lease.fencingToken;
        this.job = r.assignment.job;
        for (const d of this.job.datasets) {
          const listing = await clientFor().getDataset(d.datasetId);
          this.manifests[d.datasetId] = listing.data?.manifestCid ?? listing.manifestCid;
        }
        // Renew the lease as a real worker does (the test stack's leases last seconds).
        const every = Math.max(1, Math.floor(r.assignment.lease.heartbeatSeconds / 2)) * 1000;
        this.beating = setInterval(() => {
          this.operator.call(routes.heartbeatLease, { params: { jobId: this.jobId }, body: { fencingToken: this.token } }).catch(() => {});
        }, every);
        this.beating.unref();
        return;
      }
      if (Date.now() > deadlineMs) throw new Error(`job ${this.jobId} was not leasable in time`);
    }
  }

  private report(samples: number[]): UsageReportWire {
    return {
      jobId: this.jobId,
      datasetIds: this.job.datasets.map((d) => d.chainDatasetId),
      samples: samples.map(String),
      amounts: this.job.datasets.map((d, i) => String(BigInt(samples[i] ?? 0) * BigInt(d.pricePerSample))),
    };
  }

  private signReport(r: UsageReportWire): Promise<string> {
    return signUsageReport(this.key, this.domain, { jobId: BigInt(r.jobId), datasetIds: r.datasetIds.map(BigInt), samples: r.samples.map(BigInt), amounts: r.amounts.map(BigInt) });
  }

  /** Attests the worker key and reports `running` (the API approves the key on chain). */
  async attestAndRun(): Promise<void> {
    const jobId = this.jobId;
    await this.operator.call(routes.postJobEvent, { params: { jobId }, body: { fencingToken: this.token, event: { type: 'attesting' } } });
    await sleep(this.pauseMs);
    const nonce = (await clientFor().call(routes.issueAttestationNonce, { params: { jobId } })).nonce;
    const publicKey = this.key.signingKey.publicKey;
    const evidence = DevAttestor.open(stackInfo().dataDir, { now: new Date() }).bundle({ nonce, publicKey, now: new Date() });
    const attested = await clientFor().call(routes.attestWorker, { params: { jobId }, body: { evidence, workerPublicKey: publicKey, nonce } });
    const manifests = this.manifests;
    await this.operator.call(routes.postJobEvent, { params: { jobId }, body: { fencingToken: this.token, event: { type: 'running', manifests, worker: { address: this.key.address, mode: attested.mode } } } });
    await sleep(this.pauseMs);
  }

  /** One epoch: metrics, a checkpoint covering `samples` per dataset, then reports up to them in two steps. */
  async epoch(epoch: number, samples: number[]): Promise<void> {
    const jobId = this.jobId;
    await this.operator.call(routes.postJobEvent, { params: { jobId }, body: { fencingToken: this.token, event: { type: 'metrics', epoch, train: { loss: 1 / (epoch + 1) }, val: { accuracy: 0.6 + epoch / 10 } } } });
    const ciphertext = randomBytes(2048);
    const upload = await this.operator.call(routes.createArtifactUpload, { params: { jobId }, body: { fencingToken: this.token, kind: 'checkpoint', bytes: ciphertext.length, sha256: sha256(ciphertext) } });
    await put(upload.uploadUrl, ciphertext);
    const bySet = Object.fromEntries(this.job.datasets.map((d, i) => [d.datasetId, samples[i] ?? 0]));
    await this.operator.call(routes.commitCheckpoint, {
      params: { jobId },
      body: { fencingToken: this.token, objectKey: upload.objectKey, sha256: sha256(ciphertext), bytes: ciphertext.length, position: { epoch, step: 10, globalStep: 10 * epoch }, samples: bySet },
    });
    await sleep(this.pauseMs);
    for (const part of [0.5, 1]) {
      const r = this.report(samples.map((s) => Math.floor(s * part)));
      await this.operator.call(routes.submitUsageReport, { params: { jobId }, body: { fencingToken: this.token, report: r, signature: await this.signReport(r) } });
      await sleep(this.pauseMs);
    }
  }

  /**
   * Finishes: the model (`model`, else a small safetensors file) encrypted and its key sealed to the job's model
   * key as the agent does (gpu-workers/agent/delivery.ts), the receipt signed by the attested key, the final
   * report anchoring its CID.
   */
  async finish(samples: number[], model: Uint8Array = tinySafetensors()): Promise<{ receiptCid: string; modelSha256: string }> {
    const jobId = this.jobId;
    const job = await clientFor().call(routes.getJob, { params: { jobId } });
    const sealed = await sealModel(jobId, model, job.modelKey);
    const upload = await this.operator.call(routes.createArtifactUpload, { params: { jobId }, body: { fencingToken: this.token, kind: 'model', bytes: sealed.encryptedBytes, sha256: sealed.objectSha256 } });
    await put(upload.uploadUrl, sealed.object);
    const anonymization = { schema: 'provena.anonymization-report/v1' as const, rowsIn: 100, rowsOut: 100, rowsSuppressed: 0, planRows: 100, kAnonymity: null, columns: { dropped: [], pseudonymized: [], scannedForPii: [] }, piiCounts: { email: 0, phone: 0, card: 0, iban: 0, ipv4: 0, ipv6: 0, eth_address: 0, ssn: 0, dob: 0, name: 0, identifier: 0 } };
    const body: ReceiptBody = {
      schema: 'provena.receipt/v1',
      chainId: stackInfo().chainId,
      licenseManager: stackInfo().deployment.contracts.LicenseManager as string,
      jobId,
      licenseId: job.licenseId,
      datasets: job.datasets.map((d, i) => ({ datasetId: d.datasetId, chainDatasetId: d.chainDatasetId, version: 1, manifestCid: this.manifests[d.datasetId] as string, samples: samples[i] ?? 0, anonymization, anonymizationReportHash: `0x${sha256(Buffer.from(canonicalJson(anonymization)))}` })),
      recipeHash: job.recipeHash,
      model: { sha256: sha256(model), bytes: model.length },
      worker: { address: this.key.address, mode: 'nitro', evidenceHash: job.worker?.evidenceHash as string, measurement: 'ab'.repeat(48) },
      dp: null,
      metrics: { accuracy: 0.8 },
      createdAt: new Date().toISOString(),
    };
    const receipt = { body, signature: await this.key.signMessage(canonicalJson(body)) };
    const receiptCid = await cidOfBytes(new TextEncoder().encode(canonicalJson(receipt)));
    const final = this.report(samples);
    const signature = await signFinalReport(this.key, this.domain, { jobId: BigInt(jobId), datasetIds: final.datasetIds.map(BigInt), samples: final.samples.map(BigInt), amounts: final.amounts.map(BigInt), receiptCid });
    await this.operator.call(routes.submitJobResult, {
      params: { jobId },
      body: { fencingToken: this.token, model: { objectKey: upload.objectKey, sha256: sealed.sha256, bytes: sealed.bytes, encryptedBytes: sealed.encryptedBytes }, sealedKey: sealed.sealedKey, receipt, receiptCid, report: final, signature },
    });
    this.stop();
    return { receiptCid, modelSha256: sealed.sha256 };
  }

  /** Stops renewing the lease. */
  stop(): void {
    clearInterval(this.beating);
  }
}
