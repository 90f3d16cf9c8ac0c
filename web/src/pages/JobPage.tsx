/**
 * A job, live: polls `GET /v1/jobs/{id}` every two seconds until it ends; status, samples and royalties per
 * dataset, royalties paid over time (a chart of the relayed usage reports), checkpoints, metrics, the receipt
 * (verified in the browser) and the model (decrypted in the browser).
 */
import { useEffect, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { routes } from '../../../shared/http/routes.js';
import type { Job } from '../../../shared/schemas/job.js';
import { useApi } from '../api.js';
import { ErrorBox } from '../errors.js';
import { money, when } from '../format.js';
import { Link } from '../router.js';
import { Amount, Status, Tx } from '../ui.js';
import { ModelDownload, ReceiptPanel, useReceiptVerdict } from './JobResult.js';

const FINAL = new Set(['done', 'failed', 'cancelled']);

function useJob(id: string): { job?: Job; error?: unknown } {
  const { client } = useApi();
  const [state, setState] = useState<{ job?: Job; error?: unknown }>({});
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const job = await client.call(routes.getJob, { params: { jobId: id } });
        if (!live) return;
        setState({ job });
        if (FINAL.has(job.status)) return;
      } catch (error) {
        if (!live) return;
        setState((s) => ({ ...s, error }));
      }
      timer = setTimeout(tick, 2000);
    };
    void tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, id]);
  return state;
}

/** Cumulative royalties paid at each report, for the chart. */
export function paidSeries(job: Job): { t: string; paid: number }[] {
  let total = 0n;
  const points = [{ t: new Date(job.startedAt).toLocaleTimeString(), paid: 0 }];
  for (const r of [...job.reports].sort((a, b) => a.at.localeCompare(b.at))) {
    total += BigInt(r.paid);
    points.push({ t: new Date(r.at).toLocaleTimeString(), paid: Number(money(total)) });
  }
  return points;
}

export function JobPage({ id }: { id: string }) {
  const { job, error } = useJob(id);
  if (!job) return error ? <ErrorBox error={error} /> : <p aria-live="polite">Loading job {id} …</p>;
  return (
    <article>
      <p>
        <Link href="/lab">← Lab</Link>
      </p>
      <h1>
        Job {job.id} <Status value={job.status} />
      </h1>
      {FINAL.has(job.status) ? null : (
        <p className="muted" aria-live="polite">
          Updating live every 2 s.
        </p>
      )}
      <ErrorBox error={error} />
      {job.error ? (
        <div className="error" role="alert">
          <strong className="code">{job.error.code}</strong> {job.error.message}
        </div>
      ) : null}
      <div className="grid">
        <section aria-labelledby="money">
          <h2 id="money">Budget</h2>
          <dl className="fields">
            <dt>License</dt>
            <dd>{job.licenseId}</dd>
            <dt>Spent</dt>
            <dd>
              <Amount value={job.spent} testId="job-spent" /> of <Amount value={job.budget} />
            </dd>
            <dt>Rate now</dt>
            <dd>
              <Amount value={job.currentRatePerSecond} /> / s (cap <Amount value={job.maxRatePerSecond} /> / s)
            </dd>
            <dt>Started</dt>
            <dd>{when(job.startedAt)}</dd>
            <dt>Ended</dt>
            <dd>{when(job.endedAt)}</dd>
            <dt>Worker</dt>
            <dd>{job.worker ? `${job.worker.address} (${job.worker.mode}, attested ${when(job.worker.attestedAt)})` : 'not attested yet'}</dd>
            <dt>Attempts</dt>
            <dd>{job.attempts}</dd>
          </dl>
        </section>
        <section aria-labelledby="chart">
          <h2 id="chart">Royalties paid over time</h2>
          <div className="chart" role="img" aria-label={`Royalties paid: ${money(job.spent)} USD after ${job.reports.length} report(s)`}>
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={paidSeries(job)}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="t" />
                <YAxis width={64} />
                <Tooltip />
                <Line type="stepAfter" dataKey="paid" stroke="#2563eb" isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </section>
        <section aria-labelledby="datasets" className="wide">
          <h2 id="datasets">Datasets</h2>
          <table data-testid="job-datasets">
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col">Samples settled</th>
                <th scope="col">Paid</th>
                <th scope="col">Price</th>
              </tr>
            </thead>
            <tbody>
              {job.datasets.map((d) => (
                <tr key={d.datasetId}>
                  <td>
                    <Link href={`/datasets/${d.datasetId}`}>{d.datasetId}</Link>
                  </td>
                  <td>{d.settledSamples}</td>
                  <td>
                    <Amount value={d.paid} />
                  </td>
                  <td>
                    <Amount value={d.pricePerSample} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="checkpoints">
          <h2 id="checkpoints">Checkpoints</h2>
          {job.checkpoints.length === 0 ? <p>None yet.</p> : null}
          <ol data-testid="job-checkpoints">
            {job.checkpoints.map((c) => (
              <li key={c.objectKey}>
                epoch {c.position.epoch}, step {c.position.globalStep} · {c.bytes} bytes · {when(c.committedAt)}
              </li>
            ))}
          </ol>
          <h3>Metrics</h3>
          {job.metrics.length === 0 ? <p>None yet.</p> : null}
          <ol>
            {job.metrics.map((m) => (
              <li key={m.epoch}>
                epoch {m.epoch}: {Object.entries(m.train).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}
                {m.val ? ` · val ${Object.entries(m.val).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}` : ''}
                {m.epsilon !== undefined ? ` · ε ${m.epsilon.toFixed(2)}` : ''}
              </li>
            ))}
          </ol>
        </section>
        <section aria-labelledby="reports">
          <h2 id="reports">Usage reports</h2>
          {job.reports.length === 0 ? <p>None yet.</p> : null}
          <ol data-testid="job-reports">
            {job.reports.map((r) => (
              <li key={r.txHash}>
                {when(r.at)} · paid <Amount value={r.paid} /> · tx <Tx hash={r.txHash} /> {r.final ? '(final)' : ''}
              </li>
            ))}
          </ol>
        </section>
        <section aria-labelledby="result" className="wide">
          <h2 id="result">Receipt and model</h2>
          <JobResult job={job} />
        </section>
      </div>
    </article>
  );
}

/** The receipt, verified here, and the model, decrypted here (JobResult.tsx). */
function JobResult({ job }: { job: Job }) {
  const r = useReceiptVerdict(job);
  return (
    <>
      <ReceiptPanel job={job} verdict={r.verdict} error={r.error} loading={r.loading} />
      {job.model ? <ModelDownload job={job} verdict={r.verdict} /> : null}
    </>
  );
}
