/** Datasets: search by text, tag and owner (the API's filters) and by price (on the page of results). */
import { parseUnits } from 'ethers';
import { useState, type FormEvent } from 'react';
import { routes } from '../../../shared/http/routes.js';
import type { Dataset } from '../../../shared/schemas/dataset.js';
import { useApi, useLoad } from '../api.js';
import { ErrorBox } from '../errors.js';
import { TOKEN_DECIMALS, short } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { Amount } from '../ui.js';

function priceWithin(d: Dataset, min: string, max: string): boolean {
  const p = BigInt(d.license.pricePerSample);
  try {
    if (min && p < parseUnits(min, TOKEN_DECIMALS)) return false;
    if (max && p > parseUnits(max, TOKEN_DECIMALS)) return false;
  } catch {
    return true;
  }
  return true;
}

export function DatasetsPage() {
  const { client } = useApi();
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const tag = query.get('tag') ?? '';
  const owner = query.get('owner') ?? '';
  const minPrice = query.get('minPrice') ?? '';
  const maxPrice = query.get('maxPrice') ?? '';
  const [cursor, setCursor] = useState<string | undefined>();
  const page = useLoad(
    () => client.call(routes.listDatasets, { query: { ...(q ? { q } : {}), ...(tag ? { tag } : {}), ...(owner ? { owner } : {}), limit: 50, ...(cursor ? { cursor } : {}) } }),
    [client, q, tag, owner, cursor],
  );
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const next = new URLSearchParams();
    for (const k of ['q', 'tag', 'owner', 'minPrice', 'maxPrice']) {
      const v = String(f.get(k) ?? '').trim();
      if (v) next.set(k, v);
    }
    setCursor(undefined);
    navigate(`/datasets${next.size ? `?${next}` : ''}`);
  };
  const items = (page.data?.items ?? []).filter((d) => priceWithin(d, minPrice, maxPrice));
  return (
    <section>
      <h1>Datasets</h1>
      <form className="filters" onSubmit={onSubmit} role="search" aria-label="Search datasets" key={`${q}|${tag}|${owner}|${minPrice}|${maxPrice}`}>
        <label>
          Text
          <input name="q" type="search" defaultValue={q} placeholder="words in title or description" />
        </label>
        <label>
          Tag
          <input name="tag" defaultValue={tag} placeholder="e.g. health" />
        </label>
        <label>
          Owner
          <input name="owner" defaultValue={owner} placeholder="0x…" pattern="^0x[0-9a-fA-F]{40}$" title="an address: 0x and 40 hex digits" />
        </label>
        <label title="Filters the results shown (the API searches by text, tag and owner)">
          Min price / sample
          <input name="minPrice" inputMode="decimal" defaultValue={minPrice} placeholder="USD" />
        </label>
        <label>
          Max price / sample
          <input name="maxPrice" inputMode="decimal" defaultValue={maxPrice} placeholder="USD" />
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <ErrorBox error={page.error} />
      {page.loading && !page.data ? <p aria-live="polite">Loading …</p> : null}
      {page.data && items.length === 0 ? <p>No dataset matches.</p> : null}
      <ul className="cards" aria-label="Datasets found">
        {items.map((d) => (
          <li key={d.id} className="card" data-testid="dataset-card">
            <h2>
              <Link href={`/datasets/${d.id}`}>{d.title}</Link>
            </h2>
            <p className="muted">{d.description.slice(0, 160)}</p>
            <p>
              <Amount value={d.license.pricePerSample} /> per sample · owner <span className="mono">{short(d.owner)}</span>
            </p>
            <p className="tags">
              {d.tags.map((t) => (
                <Link key={t} href={`/datasets?tag=${encodeURIComponent(t)}`} className="tag">
                  {t}
                </Link>
              ))}
              {d.chainDatasetId ? <span className="badge ok">on chain #{d.chainDatasetId}</span> : <span className="badge">not registered</span>}
              {d.data ? <span className="badge ok">data uploaded</span> : <span className="badge">no data yet</span>}
            </p>
          </li>
        ))}
      </ul>
      {page.data?.nextCursor ? (
        <button type="button" onClick={() => setCursor(page.data?.nextCursor)}>
          Next page
        </button>
      ) : null}
    </section>
  );
}
