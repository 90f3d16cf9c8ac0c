/**
 * Metering and usage reports. A sample is one training example the trainer consumed (row × step that used it);
 * the trainer counts them exactly (`consumed` in its frames). Reports are cumulative per dataset, cover only what
 * a committed checkpoint covers, and stay within the job's rate cap as the contract computes it
 * (`LicenseManager._settleReport`: spent ≤ maxRatePerSecond × (now − startedAt + 1)); what the cap holds back is
 * reported later, and the last report (the final one) pays everything.
 */
import type { TypedDataDomain } from 'ethers';
import { ProvenaError } from '../../shared/errors.js';
import { type UsageReportMessage } from '../../shared/eip712.js';
import type { UsageReportWire } from '../../shared/schemas/job.js';

/** One dataset of a job with its snapshotted price (base units per sample). */
export interface PricedDataset {
  datasetId: string;
  chainDatasetId: string;
  pricePerSample: bigint;
}

/** Samples per dataset id. */
export type Samples = Readonly<Record<string, number>>;

/** Σ samples × price over the job's datasets. */
export function costOf(datasets: readonly PricedDataset[], samples: Samples): bigint {
  return datasets.reduce((sum, d) => sum + BigInt(samples[d.datasetId] ?? 0) * d.pricePerSample, 0n);
}

/**
 * Refuses a plan whose full cost (the trainer's exact `plannedConsumed` × snapshotted prices) is over the job's
 * budget: the job would run out of money before the model exists.
 *
 * @throws ProvenaError `WORKER_BUDGET_EXCEEDED`.
 */
export function assertPlanAffordable(datasets: readonly PricedDataset[], planned: Samples, budget: bigint): bigint {
  const cost = costOf(datasets, planned);
  if (cost > budget) {
    throw new ProvenaError('WORKER_BUDGET_EXCEEDED', `the plan costs ${cost} (${JSON.stringify(planned)} samples) and the job's budget is ${budget}`);
  }
  return cost;
}

/** What the job's rate cap allows to have been spent by `nowSeconds` (the contract's rule). */
export function allowedSpend(maxRatePerSecond: bigint, startedAtSeconds: number, nowSeconds: number): bigint {
  if (nowSeconds < startedAtSeconds) return 0n;
  return maxRatePerSecond * BigInt(nowSeconds - startedAtSeconds + 1);
}

/** The first second at which `spend` fits under the rate cap. */
export function affordableAt(spend: bigint, maxRatePerSecond: bigint, startedAtSeconds: number): number {
  if (spend <= 0n) return startedAtSeconds;
  const seconds = (spend + maxRatePerSecond - 1n) / maxRatePerSecond; // ceil
  return startedAtSeconds + Number(seconds) - 1;
}

export interface CapInput {
  datasets: readonly PricedDataset[];
  /** Cumulative samples a committed checkpoint covers. */
  covered: Samples;
  /** Cumulative samples already settled on chain for this job. */
  settled: Samples;
  /** What the rate cap allows in total now (see {@link allowedSpend}). */
  allowed: bigint;
}

/**
 * The largest cumulative report within the cap: each dataset advances from `settled` toward `covered` by the same
 * fraction r = (allowed − spent) / (cost of the whole increase), floored per dataset, so no dataset starves and
 * Σ increase × price ≤ allowed − spent, exactly (bigint). Never goes below `settled` or above `covered`.
 */
export function cappedSamples(input: CapInput): Record<string, number> {
  const { datasets, covered, settled, allowed } = input;
  const spent = costOf(datasets, settled);
  const out: Record<string, number> = {};
  let increaseCost = 0n;
  for (const d of datasets) {
    const s = settled[d.datasetId] ?? 0;
    const c = Math.max(s, covered[d.datasetId] ?? 0);
    increaseCost += BigInt(c - s) * d.pricePerSample;
  }
  const room = allowed > spent ? allowed - spent : 0n;
  for (const d of datasets) {
    const s = settled[d.datasetId] ?? 0;
    const inc = BigInt(Math.max(s, covered[d.datasetId] ?? 0) - s);
    const take = increaseCost === 0n || room >= increaseCost ? inc : (inc * room) / increaseCost;
    out[d.datasetId] = s + Number(take);
  }
  return out;
}

/** Whether `next` settles anything beyond `settled`. */
export function advances(next: Samples, settled: Samples): boolean {
  return Object.entries(next).some(([k, v]) => v > (settled[k] ?? 0));
}

/** The EIP-712 message and its wire form for cumulative `samples`. */
export function usageReport(jobId: string, datasets: readonly PricedDataset[], samples: Samples): { message: UsageReportMessage; wire: UsageReportWire } {
  const n = datasets.map((d) => BigInt(samples[d.datasetId] ?? 0));
  const amounts = datasets.map((d, i) => (n[i] as bigint) * d.pricePerSample);
  return {
    message: { jobId: BigInt(jobId), datasetIds: datasets.map((d) => BigInt(d.chainDatasetId)), samples: n, amounts },
    wire: { jobId, datasetIds: datasets.map((d) => d.chainDatasetId), samples: n.map(String), amounts: amounts.map(String) },
  };
}

/** The signing domain of usage and final reports. */
export type ReportDomain = TypedDataDomain;
