/**
 * Submits cumulative usage reports for one job: each covers only samples a committed checkpoint covers, is capped
 * by what the rate cap allows now (the rest waits for a later report), and is signed by the attested key. A
 * report refused for the rate cap (`JOB_REPORT_RATE_CAPPED`: e.g. mined in the job's opening second, or the
 * chain's clock behind ours) is retried, never fatal. The final report pays everything: it waits until the cap
 * allows the whole cost.
 */
import type { TypedDataDomain } from 'ethers';
import { FINAL_REPORT_TYPES, USAGE_REPORT_TYPES } from '../../shared/eip712.js';
import type { UsageReportWire } from '../../shared/schemas/job.js';
import { advances, affordableAt, allowedSpend, cappedSamples, costOf, usageReport, type PricedDataset, type Samples } from './metering.js';

/** Signs typed data (the attested key). */
export interface TypedSigner {
  signTypedData(domain: TypedDataDomain, types: Record<string, { name: string; type: string }[]>, value: Record<string, unknown>): Promise<string>;
}

export interface ReporterOptions {
  jobId: string;
  datasets: readonly PricedDataset[];
  /** Samples settled on chain when this worker took the job. */
  settled: Samples;
  maxRatePerSecond: bigint;
  startedAtSeconds: number;
  domain: TypedDataDomain;
  signer: TypedSigner;
  /** Relays one signed report (the API's submitUsageReport). */
  submit: (report: UsageReportWire, signature: string) => Promise<unknown>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Seconds subtracted from our clock when computing the cap (the chain's block time may lag). */
  clockMarginSeconds?: number;
  /**
   * Seconds the chain's clock runs ahead of ours (local chains that mine several blocks a second move their
   * timestamps ahead of the wall clock): see {@link chainClockOffset}.
   */
  clockOffsetSeconds?: number;
  log?: (msg: string) => void;
}

const types = (t: Record<string, readonly { name: string; type: string }[]>): Record<string, { name: string; type: string }[]> =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [k, [...v]]));

const isRateCapped = (e: unknown): boolean => (e as { code?: string }).code === 'JOB_REPORT_RATE_CAPPED';

/** A job's usage reporter. */
export class UsageReporter {
  private settledNow: Record<string, number>;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: ReporterOptions) {
    this.settledNow = { ...o.settled };
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** What has been settled so far (cumulative). */
  get settled(): Samples {
    return this.settledNow;
  }

  private nowSeconds(): number {
    const ours = Math.floor(this.now() / 1000) + (this.o.clockOffsetSeconds ?? 0) - (this.o.clockMarginSeconds ?? 1);
    // The job has started on chain by now: its opening second counts (the contract's rule), whatever our clock says.
    return Math.max(ours, this.o.startedAtSeconds);
  }

  /**
   * Reports what `covered` (a committed checkpoint's counts) allows under the cap now. Returns the samples
   * reported, or null when nothing could be (nothing new, or the cap holds everything back; a refusal for the
   * cap leaves it for the next report).
   */
  async report(covered: Samples): Promise<Samples | null> {
    const allowed = allowedSpend(this.o.maxRatePerSecond, this.o.startedAtSeconds, this.nowSeconds());
    const next = cappedSamples({ datasets: this.o.datasets, covered, settled: this.settledNow, allowed });
    if (!advances(next, this.settledNow)) return null;
    const { message, wire } = usageReport(this.o.jobId, this.o.datasets, next);
    const signature = await this.o.signer.signTypedData(this.o.domain, types(USAGE_REPORT_TYPES), { ...message });
    try {
      await this.o.submit(wire, signature);
    } catch (e) {
      if (isRateCapped(e)) {
        this.o.log?.('usage report refused for the rate cap; it is retried with the next checkpoint');
        return null;
      }
      throw e;
    }
    this.settledNow = { ...next };
    return next;
  }

  /**
   * The final report over `total` (the model frame's counts): waits until the rate cap allows the whole cost,
   * signs the `FinalReport` naming `receiptCid`, and calls `finish` with it; retries `finish` while it is refused
   * for the cap (at most `attempts` times).
   */
  async final<T>(total: Samples, receiptCid: string, finish: (report: UsageReportWire, signature: string) => Promise<T>, attempts = 30): Promise<T> {
    const cost = costOf(this.o.datasets, total);
    const at = affordableAt(cost, this.o.maxRatePerSecond, this.o.startedAtSeconds);
    const wait = (at - this.nowSeconds()) * 1000;
    if (wait > 0) {
      this.o.log?.(`final report waits ${Math.ceil(wait / 1000)} s for the rate cap`);
      await this.sleep(wait);
    }
    const { message, wire } = usageReport(this.o.jobId, this.o.datasets, total);
    const signature = await this.o.signer.signTypedData(this.o.domain, types(FINAL_REPORT_TYPES), { ...message, receiptCid });
    for (let i = 1; ; i++) {
      try {
        const out = await finish(wire, signature);
        this.settledNow = { ...total };
        return out;
      } catch (e) {
        if (!isRateCapped(e) || i >= attempts) throw e;
        await this.sleep(1000);
      }
    }
  }
}

/**
 * How far the chain's clock is ahead of ours, at least: the job was submitted to the API (our clock, `submittedAt`)
 * after it opened on chain (the chain's clock, `startedAt`), so a `startedAt` later than `submittedAt` shows the
 * chain running ahead by that much. 0 when it does not.
 */
export function chainClockOffset(job: { startedAt: string; submittedAt: string }): number {
  return Math.max(0, Math.ceil((Date.parse(job.startedAt) - Date.parse(job.submittedAt)) / 1000));
}
