import { id } from 'ethers';
import { canonicalJson } from '../encoding/canonicalJson.js';
import { ConflictError, ForbiddenError, ProvenaError, type DependencyError } from '../errors.js';
import type { MinedReport } from '../ports/JobChain.js';
import type { JobRecord } from '../ports/JobRepo.js';
import type { JobReport, SamplesByDataset, UsageReportInput, UsageReportResult, UsageReportWire } from '../schemas/job.js';
import { checkLease, endedOnChain, requireJob, updateJob, type JobDeps } from './jobDeps.js';

export interface SubmitUsageReportParameters {
  caller: string;
  jobId: string;
  input: UsageReportInput;
}
export type SubmitUsageReportReturnType = UsageReportResult;
/**
 * The lease codes; `JOB_NOT_ACTIVE` (the lab cancelled: ended on chain, or refunded); `JOB_REPORT_MISMATCH`, `JOB_REPORT_AMOUNT_MISMATCH`, `JOB_REPORT_BEYOND_CHECKPOINT` (checked
 * here, before any gas); the contract's refusals `JOB_WORKER_NOT_APPROVED`, `JOB_REPORT_SIGNATURE_INVALID`,
 * `JOB_REPORT_RATE_CAPPED`, `JOB_REPORT_BUDGET_EXCEEDED`, `JOB_REPORT_WINDOW_CLOSED`, `JOB_ALREADY_FINISHED`; `RELAYER_*`.
 */
export type SubmitUsageReportErrorType = ConflictError | ForbiddenError | DependencyError | ProvenaError;

/** A report's samples by listing id, after checking it is this job's report and its amounts are samples × price. */
export function reportSamples(record: JobRecord, report: UsageReportWire): SamplesByDataset {
  if (report.jobId !== record.jobId) throw new ProvenaError('JOB_REPORT_MISMATCH', `The report is for job ${report.jobId}, not ${record.jobId}`);
  const n = report.datasetIds.length;
  if (report.samples.length !== n || report.amounts.length !== n) throw new ProvenaError('JOB_REPORT_MISMATCH', 'datasetIds, samples and amounts differ in length');
  const samples: SamplesByDataset = {};
  report.datasetIds.forEach((chainId, i) => {
    const d = record.datasets.find((x) => x.chainDatasetId === chainId);
    if (!d) throw new ProvenaError('JOB_REPORT_MISMATCH', `Registry dataset ${chainId} is not one of job ${record.jobId}'s`);
    const count = BigInt(report.samples[i] as string);
    if (BigInt(report.amounts[i] as string) !== count * BigInt(d.pricePerSample)) {
      throw new ProvenaError('JOB_REPORT_AMOUNT_MISMATCH', `Dataset ${d.datasetId}: amount must be ${count} × ${d.pricePerSample}`);
    }
    if (count > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProvenaError('JOB_REPORT_MISMATCH', `Dataset ${d.datasetId}: ${count} samples is beyond what a job can train on`);
    samples[d.datasetId] = Number(count);
  });
  return samples;
}

/** The last committed checkpoint must cover every dataset's cumulative samples. */
function requireCovered(record: JobRecord, samples: SamplesByDataset): void {
  const last = record.checkpoints.at(-1);
  for (const [datasetId, count] of Object.entries(samples)) {
    const covered = last?.samples[datasetId] ?? 0;
    if (count > covered) {
      throw new ConflictError('JOB_REPORT_BEYOND_CHECKPOINT', `Dataset ${datasetId}: ${count} samples reported, the last committed checkpoint covers ${covered}: commit a checkpoint first`);
    }
  }
}

/** Most reports kept in a job record (one DynamoDB item, at most 400 KB); the chain keeps every one as events. */
const MAX_REPORTS = 300;

/** Appends a mined report to the record once (a retried call finds its transaction there already). */
export async function recordReport(deps: JobDeps, jobId: string, mined: MinedReport, samples: SamplesByDataset, final: boolean, extra: (r: JobRecord) => Partial<JobRecord> = () => ({})): Promise<JobRecord> {
  const report: JobReport = { txHash: mined.txHash, samples, paid: mined.paid, at: new Date(mined.blockTimestamp * 1000).toISOString(), final };
  return updateJob(deps, jobId, (current) => ({ ...current, ...extra(current), reports: current.reports.some((r) => r.txHash === mined.txHash) ? current.reports : [...current.reports, report].slice(-MAX_REPORTS) }));
}

/**
 * Relays a usage report signed by the job's attested key (the contract checks the signature and the approval),
 * for progress a committed checkpoint covers, from the platform's relayer key. The relayer's idempotency key is
 * the job id and the report's hash: the same report sent again mines once and answers the same transaction.
 * Records what it paid (from the receipt's `RoyaltyAccrued` events). A job the lab cancelled (`endJob`, the CLI's
 * `job cancel`) or had refunded stops paying at once: no report is relayed after it (`JOB_NOT_ACTIVE`); one relayed
 * while the cancel was in flight and mined after it is refused by the contract (`LicenseManager_JobEnded`, answered
 * `JOB_NOT_ACTIVE` by the chain adapter) and pays nothing.
 */
export async function submitUsageReport(deps: JobDeps, params: SubmitUsageReportParameters): Promise<SubmitUsageReportReturnType> {
  const { input } = params;
  const record = await requireJob(deps, params.jobId);
  checkLease(record, params.caller, input.fencingToken, deps.now());
  const samples = reportSamples(record, input.report);
  requireCovered(record, samples);
  if (endedOnChain(await deps.chain.job(params.jobId))) throw new ForbiddenError('JOB_NOT_ACTIVE', `Job ${params.jobId} was cancelled on chain: no usage report is paid after it`);
  const key = `jobs:report:${id(`${params.jobId}:${canonicalJson(input.report)}`)}`;
  const mined = await deps.chain.relayReport(input.report, input.signature, key);
  await recordReport(deps, params.jobId, mined, samples, false);
  return { txHash: mined.txHash, paid: mined.paid, samples };
}
