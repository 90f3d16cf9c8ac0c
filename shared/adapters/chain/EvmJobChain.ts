/**
 * {@link JobChain} on ethers: the LicenseManager's job views, the license NFT's owner, the registry's manifests and
 * the AttestationRegistry's approvals by `eth_call`; usage and final reports encoded as `submitSingleReport` (one
 * dataset) or `submitReport`, and `finalizeJob`, and handed to the platform's {@link Relayer}. A contract refusal (seen when the relayer simulates
 * the call) is decoded with the contracts' error ABI and answered with a stable code.
 */
import { Signature, getAddress, type Provider } from 'ethers';
import { AttestationRegistry__abi, DatasetRegistry__abi, LicenseManager__abi, TrainingLicense__abi } from '../../../contracts/typechain/abis.js';
import { ConflictError, DependencyError, ErrorCodes, ForbiddenError, ProvenaError, hasCode, type ErrorCode } from '../../errors.js';
import type { ChainJob, ChainJobDataset, JobChain, MinedReport } from '../../ports/JobChain.js';
import type { Relayer } from '../../ports/Relayer.js';
import type { UsageReportWire } from '../../schemas/job.js';
import type { RelayReceipt } from '../../schemas/relay.js';

/** The contracts {@link EvmJobChain} reads and calls. */
export interface JobChainContracts {
  licenseManager: string;
  datasetRegistry: string;
  attestationRegistry: string;
}

/** Contract errors a report can revert with, and the code the API answers. */
const REFUSALS: Record<string, { code: ErrorCode; message: string }> = {
  LicenseManager_InvalidSignature: { code: 'JOB_REPORT_SIGNATURE_INVALID', message: 'The report signature is malformed' },
  LicenseManager_UnapprovedWorker: { code: 'JOB_WORKER_NOT_APPROVED', message: 'The report is not signed by a key the AttestationRegistry approved for this job' },
  LicenseManager_AmountMismatch: { code: 'JOB_REPORT_AMOUNT_MISMATCH', message: "An amount is not samples × the license's price per sample" },
  LicenseManager_RateCapExceeded: { code: 'JOB_REPORT_RATE_CAPPED', message: "The report would exceed the job's rate cap now: retry later" },
  LicenseManager_BudgetExceeded: { code: 'JOB_REPORT_BUDGET_EXCEEDED', message: "The report would exceed the job's budget" },
  LicenseManager_ReportWindowClosed: { code: 'JOB_REPORT_WINDOW_CLOSED', message: "The job's report window (license expiry plus grace period) is over" },
  LicenseManager_JobFinalized: { code: 'JOB_ALREADY_FINISHED', message: 'The job is finalized on chain: no more reports' },
  // The lab ended (cancelled) the job: the contract pays no report after its endJob, even one relayed before it.
  LicenseManager_JobEnded: { code: 'JOB_NOT_ACTIVE', message: 'The lab ended the job on chain: no report is paid after it' },
  LicenseManager_DatasetNotLicensed: { code: 'JOB_REPORT_MISMATCH', message: "A dataset of the report is not one of the job's license" },
  LicenseManager_LengthMismatch: { code: 'JOB_REPORT_MISMATCH', message: 'The report arrays differ in length' },
  LicenseManager_UnknownJob: { code: 'JOB_UNKNOWN_ON_CHAIN', message: 'The chain knows no such job' },
  LicenseManager_EmptyReceipt: { code: 'JOB_RECEIPT_INVALID', message: 'The receipt CID is empty' },
};

function errorFor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> }): ProvenaError {
  const status = ErrorCodes[code];
  if (status === 403) return new ForbiddenError(code, message, options);
  if (status === 409) return new ConflictError(code, message, options);
  return new ProvenaError(code, message, options);
}

/** See the module comment. `relayer` undefined: views work, relays answer `RELAYER_NOT_CONFIGURED`. */
export class EvmJobChain implements JobChain {
  private readonly manager;
  private readonly registry;
  private readonly attestations;
  private readonly iface = LicenseManager__abi.createInterface();
  private nft: Promise<ReturnType<typeof TrainingLicense__abi.connect>> | undefined;

  constructor(
    private readonly provider: Provider,
    private readonly contracts: JobChainContracts,
    private readonly relayer: Relayer | undefined,
  ) {
    this.manager = LicenseManager__abi.connect(contracts.licenseManager, provider);
    this.registry = DatasetRegistry__abi.connect(contracts.datasetRegistry, provider);
    this.attestations = AttestationRegistry__abi.connect(contracts.attestationRegistry, provider);
  }

  private async read<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', `The chain did not answer ${what}`, { cause: err });
    }
  }

  async job(jobId: string): Promise<ChainJob | undefined> {
    const id = BigInt(jobId);
    const [j, active] = await this.read(`getJob(${jobId})`, () => Promise.all([this.manager.getJob(id), this.manager.isJobActive(id)]));
    if (j.startedAt === 0n) return undefined;
    return {
      licenseId: String(j.licenseId),
      budget: String(j.budget),
      spent: String(j.spent),
      maxRatePerSecond: String(j.maxRatePerSecond),
      startedAt: Number(j.startedAt),
      endedAt: Number(j.endedAt),
      expiry: Number(j.expiry),
      refunded: j.refunded,
      finalized: j.finalized,
      active,
    };
  }

  async license(licenseId: string): Promise<{ holder: string; expiry: number; active: boolean } | undefined> {
    const id = BigInt(licenseId);
    const l = await this.read(`getLicense(${id})`, () => this.manager.getLicense(id));
    if (l.purchasedAt === 0n) return undefined;
    this.nft ??= this.read('contractsInUse', () => this.manager.contractsInUse()).then((c) => TrainingLicense__abi.connect(c.licenseToken, this.provider));
    const nft = await this.nft;
    const [holder, active] = await this.read(`ownerOf(${id})`, () => Promise.all([nft.ownerOf(id), this.manager.isLicenseActive(id)]));
    return { holder: getAddress(holder), expiry: Number(l.expiry), active };
  }

  async jobDatasets(jobId: string): Promise<ChainJobDataset[]> {
    const id = BigInt(jobId);
    return this.read(`the datasets of job ${jobId}`, async () => {
      const block = await this.provider.getBlockNumber();
      const at = { blockTag: block };
      const [job, ids] = await Promise.all([this.manager.getJob(id, at), this.manager.datasetsOfJob(id, at)]);
      return Promise.all(
        ids.map(async (d) => {
          const [terms, settled] = await Promise.all([this.manager.termsOf(job.licenseId, d, at), this.manager.settledSamples(id, d, at)]);
          return { chainDatasetId: String(d), pricePerSample: String(terms.pricePerSample), settledSamples: String(settled) };
        }),
      );
    });
  }

  manifestCidOf(chainDatasetId: string): Promise<string> {
    return this.read(`getDataset(${chainDatasetId})`, async () => (await this.registry.getDataset(BigInt(chainDatasetId))).manifestCid);
  }

  async approval(jobId: string, worker: string): Promise<{ approved: boolean; evidenceHash: string }> {
    const [approved, evidenceHash] = await this.read(`isApproved(${jobId})`, () => Promise.all([this.attestations.isApproved(BigInt(jobId), getAddress(worker)), this.attestations.evidenceOf(BigInt(jobId), getAddress(worker))]));
    return { approved, evidenceHash };
  }

  receiptOf(jobId: string): Promise<string> {
    return this.read(`receiptOf(${jobId})`, () => this.manager.receiptOf(BigInt(jobId)));
  }

  /**
   * A one-dataset report goes as `submitSingleReport(jobId, datasetId, samples, r, vs)` (the same signed
   * `UsageReport`, no arrays, no amount, the signature in EIP-2098 compact form: about 10k gas less than
   * `submitReport`); any other as `submitReport`. The single form cannot tell a wrong amount from a wrong key (a
   * signature over another amount recovers another key), so when it is refused as unapproved the array form is
   * simulated to name the reason.
   */
  async relayReport(report: UsageReportWire, signature: string, idempotencyKey: string): Promise<MinedReport> {
    const arrayForm = this.iface.encodeFunctionData('submitReport', [wire(report), signature]);
    const compact = report.datasetIds.length === 1 ? compactSignature(signature) : undefined;
    if (!compact) return this.relay(arrayForm, idempotencyKey);
    const single = this.iface.encodeFunctionData('submitSingleReport', [BigInt(report.jobId), BigInt(report.datasetIds[0]!), BigInt(report.samples[0]!), compact.r, compact.vs]);
    try {
      return await this.relay(single, idempotencyKey);
    } catch (err) {
      if (!hasCode(err, 'JOB_WORKER_NOT_APPROVED')) throw err;
      throw (await this.simulatedRefusal(arrayForm)) ?? err;
    }
  }

  relayFinalize(report: UsageReportWire, receiptCid: string, signature: string, idempotencyKey: string): Promise<MinedReport> {
    return this.relay(this.iface.encodeFunctionData('finalizeJob', [wire(report), receiptCid, signature]), idempotencyKey);
  }

  private async relay(data: string, idempotencyKey: string): Promise<MinedReport> {
    if (!this.relayer) throw new ProvenaError('RELAYER_NOT_CONFIGURED', 'No relayer key is configured (PROVENA_RELAYER_KEY)');
    let receipt: RelayReceipt;
    try {
      receipt = await (await this.relayer.submit({ to: getAddress(this.contracts.licenseManager), data, idempotencyKey })).wait();
    } catch (err) {
      throw this.refusal(err);
    }
    if (receipt.status !== 'success') {
      // Simulated fine, then reverted when mined: the chain changed in between (e.g. the lab's endJob mined first).
      // The same call now names the reason, so the caller gets the stable code (JOB_NOT_ACTIVE), not a retry.
      const reverted = new ProvenaError('RELAYER_REVERTED', `The report reverted on chain (${receipt.txHash})`, { details: { txHash: receipt.txHash } });
      throw (await this.simulatedRefusal(data)) ?? reverted;
    }
    const accrued: MinedReport['accrued'] = [];
    for (const log of receipt.logs) {
      if (getAddress(log.address) !== getAddress(this.contracts.licenseManager)) continue;
      const parsed = this.iface.parseLog(log);
      if (parsed?.name === 'RoyaltyAccrued') accrued.push({ chainDatasetId: String(parsed.args[0]), cumulativeSamples: String(parsed.args[2]), amount: String(parsed.args[3]) });
    }
    const block = await this.read('the report block', () => this.provider.getBlock(receipt.blockNumber));
    return { txHash: receipt.txHash, blockTimestamp: block?.timestamp ?? Math.floor(Date.now() / 1000), paid: String(accrued.reduce((s, a) => s + BigInt(a.amount), 0n)), accrued };
  }

  /** The mapped refusal of `data` simulated by `eth_call`, if it reverts with a known reason. */
  private async simulatedRefusal(data: string): Promise<unknown> {
    try {
      await this.provider.call({ to: getAddress(this.contracts.licenseManager), data });
      return undefined;
    } catch (err) {
      const revert = (err as { data?: unknown }).data;
      if (typeof revert !== 'string' || revert.length < 10) return undefined;
      let reason: string | undefined;
      try {
        reason = this.iface.parseError(revert)?.name;
      } catch {
        return undefined;
      }
      const known = reason ? REFUSALS[reason] : undefined;
      return known ? errorFor(known.code, known.message, { cause: err, details: { reason } }) : undefined;
    }
  }

  /** Maps the contract's refusals to the API's codes. */
  private refusal(err: unknown): unknown {
    if (!hasCode(err, 'RELAYER_REVERTED')) return err;
    const details = (err.details ?? {}) as { errorName?: unknown; data?: unknown };
    let reason = typeof details.errorName === 'string' ? details.errorName : undefined;
    if (!reason && typeof details.data === 'string' && details.data.length >= 10) {
      try {
        reason = this.iface.parseError(details.data)?.name;
      } catch {
        reason = undefined;
      }
    }
    const known = reason ? REFUSALS[reason.replace(/\(.*$/, '')] : undefined;
    return known ? errorFor(known.code, known.message, { cause: err, details: { reason } }) : err;
  }
}

/** `(r, vs)` of a 65-byte signature (EIP-2098), or undefined when it is not a well-formed low-s signature. */
function compactSignature(signature: string): { r: string; vs: string } | undefined {
  try {
    const sig = Signature.from(signature);
    return { r: sig.r, vs: sig.yParityAndS };
  } catch {
    return undefined;
  }
}

function wire(report: UsageReportWire) {
  return { jobId: BigInt(report.jobId), datasetIds: report.datasetIds.map(BigInt), samples: report.samples.map(BigInt), amounts: report.amounts.map(BigInt) };
}
