/**
 * `provena dataset royalties ds_…`: a listing's royalties as its owner sees them: one row per recipient of its
 * split (what `GET /v1/royalties/{recipient}` says for this dataset: units, accrued, claimed, claimable, rate), the
 * jobs that paid into its pool and its accruals with their transactions. Same figures, same sources (chain views
 * and the chain index) as `provena royalties show`.
 */
import type { Command } from 'commander';
import { ProvenaError } from '../../shared/errors.js';
import { routes } from '../../shared/http/routes.js';
import type { RoyaltiesReport } from '../../shared/schemas/royalties.js';
import { client, print } from '../context.js';

/** A listing's royalties across its recipients. */
export interface DatasetRoyalties {
  datasetId: string;
  chainDatasetId: string;
  recipients: { recipient: string; units: string; accrued: string; claimed: string; claimable: string; ratePerSecond: string }[];
  totals: { accrued: string; claimed: string; claimable: string; ratePerSecond: string };
  /** The pool's payments per job (the same for every recipient: taken from the first report naming it). */
  jobs: { jobId: string; samples: string; paidIn: string; running: boolean; lastReportTx: string }[];
  /** Accruals into the pool, newest first. */
  accruals: { jobId: string; poolAmount: string; txHash: string; blockNumber: number; at: string }[];
}

/** Combines the recipients' reports into the listing's view (rows of recipients the chain gives no units are left out). */
export function combineDatasetRoyalties(datasetId: string, reports: readonly RoyaltiesReport[]): DatasetRoyalties {
  const rows = reports.flatMap((r) => r.datasets.filter((d) => d.datasetId === datasetId).map((d) => ({ recipient: r.recipient, d, r })));
  const first = rows[0];
  if (!first) throw new ProvenaError('DATASET_NOT_REGISTERED', `No recipient of ${datasetId} has royalties on chain yet (is it registered?)`);
  const sum = (k: 'accrued' | 'claimed' | 'claimable' | 'ratePerSecond') => rows.reduce((s, x) => s + BigInt(x.d[k]), 0n).toString();
  return {
    datasetId,
    chainDatasetId: first.d.chainDatasetId,
    recipients: rows.map(({ recipient, d }) => ({ recipient, units: d.units, accrued: d.accrued, claimed: d.claimed, claimable: d.claimable, ratePerSecond: d.ratePerSecond })),
    totals: { accrued: sum('accrued'), claimed: sum('claimed'), claimable: sum('claimable'), ratePerSecond: sum('ratePerSecond') },
    jobs: first.d.jobs.map((j) => ({ jobId: j.jobId, samples: j.samples, paidIn: j.paidIn, running: j.running, lastReportTx: j.lastReport.txHash })),
    accruals: first.r.history.flatMap((h) => (h.kind === 'accrual' && h.datasetId === datasetId ? [{ jobId: h.jobId, poolAmount: h.poolAmount, txHash: h.txHash, blockNumber: h.blockNumber, at: h.at }] : [])),
  };
}

/** The listing's view as text. */
export function renderDatasetRoyalties(v: DatasetRoyalties): string {
  return [
    `royalties of ${v.datasetId} (registry #${v.chainDatasetId}; token base units)`,
    ...v.recipients.map((r) => `  ${r.recipient}  units ${r.units}  accrued ${r.accrued}  claimed ${r.claimed}  claimable ${r.claimable}  rate ${r.ratePerSecond}/s`),
    `  total  accrued ${v.totals.accrued}  claimed ${v.totals.claimed}  claimable ${v.totals.claimable}  rate ${v.totals.ratePerSecond}/s`,
    ...(v.jobs.length ? ['jobs:', ...v.jobs.map((j) => `  job ${j.jobId}: ${j.samples} samples, paid in ${j.paidIn}${j.running ? ', running' : ''} (last report ${j.lastReportTx})`)] : []),
    ...(v.accruals.length ? ['accruals (newest first):', ...v.accruals.slice(0, 10).map((a) => `  ${a.at}  +${a.poolAmount}  job ${a.jobId}  block ${a.blockNumber} tx ${a.txHash}`)] : []),
  ].join('\n');
}

/** Adds `royalties <id>` to the `dataset` command. */
export function registerDatasetRoyaltiesCommand(dataset: Command): void {
  dataset
    .command('royalties <id>')
    .description("a listing's royalties per recipient of its split, its paying jobs and accruals (chain views and index)")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, opts } = await client(cmd);
      const listing = await api.getDataset(id);
      const recipients = [...new Set(listing.royaltySplit.map((s) => s.recipient))];
      const reports = await Promise.all(recipients.map((address) => api.call(routes.getRoyalties, { params: { address } })));
      const view = combineDatasetRoyalties(listing.id, reports);
      print(opts, view, () => renderDatasetRoyalties(view));
    });
}
