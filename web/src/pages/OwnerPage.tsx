/**
 * Owner: my listings (active and delisted) with their data and registration state, gasless registration (sign the
 * registry's EIP-712 message; the API relays it), uploads in progress (`GET /v1/uploads?owner=`: parts S3 holds of
 * the plan, started, expires), and earnings across my datasets.
 */
import { useState } from 'react';
import { routes } from '../../../shared/http/routes.js';
import type { Dataset } from '../../../shared/schemas/dataset.js';
import type { UploadSummary } from '../../../shared/schemas/upload.js';
import { useApi, useLoad } from '../api.js';
import { ErrorBox } from '../errors.js';
import { when } from '../format.js';
import { Link } from '../router.js';
import { Amount, NeedWallet } from '../ui.js';
import { useWallet } from '../wallet.js';

export function OwnerPage() {
  const wallet = useWallet();
  return (
    <section>
      <h1>My datasets</h1>
      {wallet.state.kind === 'connected' ? <Owner address={wallet.state.address} /> : <NeedWallet what="Seeing your datasets" />}
    </section>
  );
}

function Owner({ address }: { address: string }) {
  const { client } = useApi();
  const listings = useLoad(async () => {
    const [active, delisted] = await Promise.all([
      client.call(routes.listDatasets, { query: { owner: address, status: 'active', limit: 100 } }),
      client.call(routes.listDatasets, { query: { owner: address, status: 'delisted', limit: 100 } }),
    ]);
    return [...active.items, ...delisted.items];
  }, [client, address]);
  const earnings = useLoad(() => client.call(routes.getRoyalties, { params: { address } }), [client, address]);
  return (
    <>
      <section aria-labelledby="earnings">
        <h2 id="earnings">Earnings</h2>
        <ErrorBox error={earnings.error} />
        {earnings.data ? (
          <p data-testid="earnings">
            Accrued <Amount value={earnings.data.totals.accrued} />, claimed <Amount value={earnings.data.totals.claimed} />, claimable now{' '}
            <Amount value={earnings.data.totals.claimable} /> (<Link href="/recipient">claim</Link>).
          </p>
        ) : null}
      </section>
      <ErrorBox error={listings.error} />
      {listings.data && listings.data.length === 0 ? <p>You have no listing. Create one with <code>provena dataset create</code>.</p> : null}
      <ul className="cards" data-testid="owner-datasets">
        {listings.data?.map((d) => <OwnedDataset key={d.id} dataset={d} onChange={listings.reload} />)}
      </ul>
      <Uploads owner={address} titles={new Map(listings.data?.map((d) => [d.id, d.title]) ?? [])} />
    </>
  );
}

/** The owner's uploads in progress, newest first, a page at a time. */
function Uploads({ owner, titles }: { owner: string; titles: ReadonlyMap<string, string> }) {
  const { client } = useApi();
  const [pages, setPages] = useState<{ items: UploadSummary[]; next?: string }>({ items: [] });
  const [error, setError] = useState<unknown>();
  const first = useLoad(() => client.call(routes.listUploads, { query: { owner, limit: 10 } }), [client, owner]);
  const items = [...(first.data?.items ?? []), ...pages.items];
  const next = pages.items.length ? pages.next : first.data?.nextCursor;
  const more = async () => {
    setError(undefined);
    try {
      const page = await client.call(routes.listUploads, { query: { owner, limit: 10, ...(next ? { cursor: next } : {}) } });
      setPages((p) => ({ items: [...p.items, ...page.items], ...(page.nextCursor ? { next: page.nextCursor } : {}) }));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="uploads">
      <h2 id="uploads">Uploads in progress</h2>
      <p className="muted">
        Uploads run from the CLI (<code>provena dataset upload</code>), which encrypts on your machine and resumes where it stopped; a listing shows
        &ldquo;no data yet&rdquo; until its first upload completes.
      </p>
      <ErrorBox error={first.error ?? error} />
      {first.data && items.length === 0 ? <p data-testid="no-uploads">No upload in progress.</p> : null}
      {items.length ? (
        <table data-testid="uploads">
          <caption className="sr">Your open upload sessions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">Version</th>
              <th scope="col">Parts done</th>
              <th scope="col">Size</th>
              <th scope="col">Started</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {items.map((u) => (
              <tr key={u.uploadId} data-upload={u.uploadId}>
                <td>
                  <Link href={`/datasets/${u.datasetId}`}>{titles.get(u.datasetId) ?? u.datasetId}</Link>
                </td>
                <td>v{u.dataVersion}</td>
                <td>
                  <progress max={u.partsTotal} value={u.partsDone} aria-label={`${u.partsDone} of ${u.partsTotal} parts uploaded`} /> {u.partsDone} / {u.partsTotal}
                </td>
                <td>
                  {u.plaintextSize} bytes ({u.format})
                </td>
                <td>{when(u.createdAt)}</td>
                <td>{when(u.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {next ? (
        <button type="button" onClick={more}>
          More uploads
        </button>
      ) : null}
      <button
        type="button"
        onClick={() => {
          setPages({ items: [] });
          first.reload();
        }}
      >
        Refresh
      </button>
    </section>
  );
}

function OwnedDataset({ dataset: d, onChange }: { dataset: Dataset; onChange(): void }) {
  const { signingClient } = useApi();
  const wallet = useWallet();
  const [error, setError] = useState<unknown>();
  const stale = d.chainDatasetId !== undefined && d.chainManifestCid !== d.manifestCid;
  const register = async () => {
    setError(undefined);
    try {
      await signingClient(wallet.reviewingSigner(`Register "${d.title}" on chain (gasless)`)).registerDataset(d.id);
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <li className="card">
      <h2>
        <Link href={`/datasets/${d.id}`}>{d.title}</Link> <span className={`badge ${d.status === 'active' ? 'ok' : ''}`}>{d.status}</span>
      </h2>
      <p>
        v{d.version} · updated {when(d.updatedAt)} · <Amount value={d.license.pricePerSample} /> per sample
      </p>
      <p>{d.data ? `Data v${d.data.version}: ${d.data.plaintextSize} bytes (${d.data.format}), uploaded ${when(d.data.uploadedAt)}` : 'No data yet (upload pending).'}</p>
      <p>
        {d.chainDatasetId ? `On chain as #${d.chainDatasetId}${stale ? ': the chain holds an older version' : ''}` : 'Not registered on chain.'}{' '}
        {d.status === 'active' && (!d.chainDatasetId || stale) ? (
          <button type="button" onClick={register}>
            {d.chainDatasetId ? 'Update on chain' : 'Register on chain'} (gasless)
          </button>
        ) : null}
      </p>
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
    </li>
  );
}
