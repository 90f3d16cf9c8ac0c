/**
 * One listing: description, schema, license terms, anonymization policy, version and manifest CIDs, on-chain
 * registration, and the royalties it has earned (the sum over its recipients, read from the chain's views).
 */
import { routes } from '../../../shared/http/routes.js';
import type { Dataset } from '../../../shared/schemas/dataset.js';
import { useApi, useLoad } from '../api.js';
import { ErrorBox } from '../errors.js';
import { when } from '../format.js';
import { Link } from '../router.js';
import { Amount } from '../ui.js';

async function earned(client: ReturnType<typeof useApi>['client'], d: Dataset): Promise<{ accrued: bigint; claimed: bigint }> {
  const reports = await Promise.all(d.royaltySplit.map((r) => client.call(routes.getRoyalties, { params: { address: r.recipient } })));
  let accrued = 0n;
  let claimed = 0n;
  for (const rep of reports) {
    for (const row of rep.datasets) {
      if (row.datasetId !== d.id) continue;
      accrued += BigInt(row.accrued);
      claimed += BigInt(row.claimed);
    }
  }
  return { accrued, claimed };
}

export function DatasetPage({ id }: { id: string }) {
  const { client } = useApi();
  const ds = useLoad(() => client.call(routes.getDataset, { params: { id } }), [client, id]);
  const royalties = useLoad(async () => (ds.data?.chainDatasetId ? earned(client, ds.data) : undefined), [client, ds.data]);
  if (ds.error) return <ErrorBox error={ds.error} />;
  const d = ds.data;
  if (!d) return <p aria-live="polite">Loading …</p>;
  const a = d.anonymization;
  return (
    <article>
      <p>
        <Link href="/datasets">← All datasets</Link>
      </p>
      <h1 data-testid="dataset-title">{d.title}</h1>
      <p className="tags">
        {d.tags.map((t) => (
          <span key={t} className="tag">
            {t}
          </span>
        ))}
        <span className={`badge ${d.status === 'active' ? 'ok' : ''}`}>{d.status}</span>
      </p>
      <p className="prewrap">{d.description}</p>
      {d.status === 'active' && d.chainDatasetId ? (
        <p>
          <Link className="button primary" href={`/lab?datasets=${d.id}`}>
            License this dataset
          </Link>
        </p>
      ) : null}
      <div className="grid">
        <section aria-labelledby="terms">
          <h2 id="terms">License terms</h2>
          <dl className="fields">
            <dt>Price per sample</dt>
            <dd>
              <Amount value={d.license.pricePerSample} testId="price" />
            </dd>
            <dt>Payment token</dt>
            <dd className="mono">{d.license.paymentToken}</dd>
            <dt>Allowed uses</dt>
            <dd>{d.license.allowedUses.join(', ')}</dd>
            <dt>Expiry options</dt>
            <dd>{d.license.expiryOptionsDays.map((n) => `${n} days`).join(', ')}</dd>
            <dt>Raw data access</dt>
            <dd>{d.license.rawAccess ? 'yes: holders may decrypt the data themselves' : 'no: training in attested workers only'}</dd>
            <dt>Worker modes</dt>
            <dd>{d.license.workerModes?.join(', ') ?? 'any attested mode'}</dd>
            <dt>Samples</dt>
            <dd>{d.data?.measured ? `${d.data.measured.rows} (measured at upload)` : (d.sampleCount ?? '—')}</dd>
          </dl>
        </section>
        <section aria-labelledby="anon">
          <h2 id="anon">Anonymization policy</h2>
          <dl className="fields" data-testid="anonymization">
            <dt>Identifier columns (dropped)</dt>
            <dd>{a.identifierColumns.length ? a.identifierColumns.join(', ') : 'none'}</dd>
            <dt>Quasi-identifiers</dt>
            <dd>{a.quasiIdentifiers ? `${a.quasiIdentifiers.columns.join(', ')} generalized to k = ${a.quasiIdentifiers.k}` : 'none'}</dd>
            <dt>PII in free text</dt>
            <dd>{a.redactTextPii ? 'redacted' : 'kept'}</dd>
            <dt>Join keys (keyed hash per job)</dt>
            <dd>{a.joinKeyColumns?.join(', ') || 'none'}</dd>
            <dt>Name columns</dt>
            <dd>{a.nameColumns?.join(', ') || 'none'}</dd>
          </dl>
        </section>
        <section aria-labelledby="chain">
          <h2 id="chain">Versions and registration</h2>
          <dl className="fields">
            <dt>Listing version</dt>
            <dd data-testid="version">v{d.version}, updated {when(d.updatedAt)} (created {when(d.createdAt)})</dd>
            <dt>Manifest CID</dt>
            <dd className="mono wrap" data-testid="manifest-cid">{d.manifestCid}</dd>
            <dt>Registry</dt>
            <dd data-testid="registration">
              {d.chainDatasetId
                ? `registered as #${d.chainDatasetId}; ${d.chainManifestCid === d.manifestCid ? 'the chain holds this version' : `the chain holds ${d.chainManifestCid ?? 'an older manifest'}`}`
                : 'not registered on chain'}
            </dd>
            <dt>Data</dt>
            <dd>{d.data ? `version ${d.data.version}, ${d.data.format}, ${d.data.plaintextSize} bytes, uploaded ${when(d.data.uploadedAt)}; encrypted manifest ${d.data.manifestCid}` : 'not uploaded yet'}</dd>
            {d.data?.declaredMismatch ? (
              <>
                <dt>Warning</dt>
                <dd className="warn">The owner's declared size or sample count differs from what the data holds.</dd>
              </>
            ) : null}
          </dl>
        </section>
        <section aria-labelledby="royalties">
          <h2 id="royalties">Royalties</h2>
          <ErrorBox error={royalties.error} />
          {royalties.data ? (
            <p>
              Earned so far: <Amount value={royalties.data.accrued} testId="earned" /> (claimed <Amount value={royalties.data.claimed} />)
            </p>
          ) : d.chainDatasetId ? (
            <p>Loading …</p>
          ) : (
            <p>None: the listing is not on chain.</p>
          )}
          {d.merkleSplit ? (
            <p>
              Merkle split: {d.merkleSplit.recipients} recipients, {d.merkleSplit.totalUnits} units in all, root{' '}
              <span className="mono">{d.merkleSplit.root}</span>, tree <span className="mono">{d.merkleSplit.treeCid}</span>. Each
              recipient proves its share on its first claim (the proof comes from the API); the earnings above count the
              explicit recipients only.
            </p>
          ) : null}
          <table hidden={d.royaltySplit.length === 0}>
            <caption>Recipients</caption>
            <thead>
              <tr>
                <th scope="col">Recipient</th>
                <th scope="col">Share</th>
              </tr>
            </thead>
            <tbody>
              {d.royaltySplit.map((r) => (
                <tr key={r.recipient}>
                  <td className="mono">{r.recipient}</td>
                  <td>{(r.bps / 100).toFixed(2)} %</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        {d.dataSchema.kind === 'tabular' ? (
          <section aria-labelledby="schema">
            <h2 id="schema">Columns</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {d.dataSchema.columns.map((c) => (
                  <tr key={c.name}>
                    <td>{c.name}</td>
                    <td>{c.type}</td>
                    <td>{c.description ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ) : (
          <section>
            <h2>Text</h2>
            <p>{d.dataSchema.description}</p>
          </section>
        )}
      </div>
    </article>
  );
}
