/**
 * Lab: quote and buy a license from the wallet (approve + purchase, with the price cap), the lab's licenses, and a
 * job: `openJob` from the wallet, then `submitJob` (a signed API request) with a recipe the API's schema accepts.
 */
import { parseUnits } from 'ethers';
import { useEffect, useState, type FormEvent } from 'react';
import { LicenseManager__factory } from '../../../contracts/typechain/index.js';
import { routes } from '../../../shared/http/routes.js';
import type { Quote } from '../../../shared/schemas/license.js';
import type { Recipe } from '../../../shared/schemas/recipe.js';
import { buyLicense } from '../../../shared/sdk/license.js';
import { useApi, useHealth, useLoad } from '../api.js';
import { ConsoleError, ErrorBox } from '../errors.js';
import { TOKEN_DECIMALS, money, short, when } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { Amount, NeedWallet, Status, Tx } from '../ui.js';
import { keptOrNewModelKey } from '../modelKey.js';
import { useWallet } from '../wallet.js';
import { DEFAULT_RECIPE, RecipeForm, validateRecipe } from './RecipeForm.js';

function amountInput(text: string, what: string): bigint {
  try {
    const v = parseUnits(text.trim(), TOKEN_DECIMALS);
    if (v > 0n) return v;
  } catch {
    /* falls through */
  }
  throw new ConsoleError('VALIDATION_FAILED', `${what}: type a positive amount in USD (up to ${TOKEN_DECIMALS} decimals)`);
}

export function LabPage() {
  const wallet = useWallet();
  const [bought, setBought] = useState<string>();
  return (
    <section>
      <h1>Lab</h1>
      <BuyLicense onBought={setBought} />
      {wallet.state.kind === 'connected' ? <LabAccount address={wallet.state.address} awaiting={bought} /> : <NeedWallet what="Buying a license or submitting a job" />}
    </section>
  );
}

function BuyLicense({ onBought }: { onBought(licenseId: string): void }) {
  const { client } = useApi();
  const health = useHealth();
  const wallet = useWallet();
  const { query } = useLocation();
  const [datasets, setDatasets] = useState(query.get('datasets') ?? '');
  const [samples, setSamples] = useState('1000');
  const [budget, setBudget] = useState('10');
  const [days, setDays] = useState('30');
  const [cap, setCap] = useState('');
  const [quotes, setQuotes] = useState<Quote[]>();
  const [error, setError] = useState<unknown>();
  const [progress, setProgress] = useState<string[]>([]);
  const [bought, setBought] = useState<{ licenseId: string; txHash: string }>();
  const ids = datasets.split(/[\s,]+/).filter(Boolean);

  const quote = async (e?: FormEvent) => {
    e?.preventDefault();
    setError(undefined);
    setBought(undefined);
    try {
      const qs = await Promise.all(ids.map((id) => client.call(routes.quoteDataset, { params: { id }, query: { samples } })));
      setQuotes(qs);
      if (!cap && qs.length) setCap(money(qs.reduce((m, q) => (BigInt(q.pricePerSample) > m ? BigInt(q.pricePerSample) : m), 0n)));
    } catch (err) {
      setQuotes(undefined);
      setError(err);
    }
  };

  const buy = async () => {
    setError(undefined);
    setProgress([]);
    try {
      if (!quotes?.length) throw new ConsoleError('VALIDATION_FAILED', 'Get a quote first');
      const budgetUnits = amountInput(budget, 'Budget');
      const capUnits = amountInput(cap, 'Price cap per sample');
      const seconds = Number(days) * 86_400;
      if (!Number.isInteger(seconds) || seconds <= 0) throw new ConsoleError('VALIDATION_FAILED', 'Expiry: a whole number of days');
      for (const q of quotes) {
        if (!q.listed) throw new ConsoleError('DATASET_DELISTED', `${q.datasetId} is delisted`);
        if (BigInt(q.pricePerSample) > capUnits) throw new ConsoleError('LICENSE_PRICE_ABOVE_MAX', `${q.datasetId} costs ${money(q.pricePerSample)} per sample, above your cap of ${cap}`);
      }
      const signer = await wallet.txSigner();
      const lm = health.contracts.LicenseManager as string;
      const latest = await signer.provider.getBlock('latest');
      const expiry = (latest?.timestamp ?? Math.floor(Date.now() / 1000)) + seconds;
      await wallet.review({
        kind: 'transactions',
        title: 'Buy a training license',
        steps: [
          { call: `approve(${short(lm)}, ${money(budgetUnits)} USD)`, detail: `Lets the LicenseManager take the budget from your balance (skipped when already approved).` },
          {
            call: `purchase([${quotes.map((q) => q.chainDatasetId).join(', ')}], caps [${quotes.map(() => cap).join(', ')}] USD/sample, budget ${money(budgetUnits)} USD, expires ${new Date(expiry * 1000).toLocaleDateString()})`,
            detail: 'Escrows the budget; reverts, paying nothing, if a price went above your cap.',
          },
        ],
      });
      const result = await buyLicense({
        signer,
        licenseManager: lm,
        datasetIds: quotes.map((q) => BigInt(q.chainDatasetId)),
        maxPricesPerSample: quotes.map(() => capUnits),
        budget: budgetUnits,
        expiry,
        onSent: (step, hash) => setProgress((p) => [...p, `${step}: ${hash}`]),
      });
      setBought(result);
      onBought(result.licenseId);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="buy">
      <h2 id="buy">Buy a license</h2>
      <form onSubmit={quote} className="form">
        <label>
          Dataset ids
          <input name="datasets" value={datasets} onChange={(e) => setDatasets(e.target.value)} placeholder="ds_… (comma-separated)" required />
        </label>
        <label>
          Samples to price
          <input name="samples" inputMode="numeric" value={samples} onChange={(e) => setSamples(e.target.value)} />
        </label>
        <button type="submit">Get quote</button>
      </form>
      {quotes ? (
        <>
          <table data-testid="quotes">
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col">Price / sample</th>
                <th scope="col">{samples} samples</th>
                <th scope="col">Registry</th>
              </tr>
            </thead>
            <tbody>
              {quotes.map((q) => (
                <tr key={q.datasetId}>
                  <td>
                    <Link href={`/datasets/${q.datasetId}`}>{q.datasetId}</Link>
                  </td>
                  <td>
                    <Amount value={q.pricePerSample} />
                  </td>
                  <td>
                    <Amount value={q.cost} />
                  </td>
                  <td>
                    #{q.chainDatasetId} v{q.version} {q.listed ? '' : '(delisted)'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="form">
            <label>
              Budget (USD)
              <input name="budget" inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} />
            </label>
            <label>
              Expires in (days)
              <input name="days" inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} />
            </label>
            <label>
              Price cap per sample (USD)
              <input name="cap" inputMode="decimal" value={cap} onChange={(e) => setCap(e.target.value)} />
              <small>The purchase reverts, paying nothing, if a price rose above this.</small>
            </label>
            <button type="button" className="primary" onClick={buy} disabled={wallet.state.kind !== 'connected'}>
              Buy with wallet
            </button>
          </div>
        </>
      ) : null}
      {progress.length ? (
        <ul className="muted" aria-live="polite">
          {progress.map((p) => (
            <li key={p}>sent {p}</li>
          ))}
        </ul>
      ) : null}
      {bought ? (
        <p className="ok" role="status" data-testid="bought">
          License <strong>{bought.licenseId}</strong> bought (tx <Tx hash={bought.txHash} />).
        </p>
      ) : null}
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
    </section>
  );
}

/** The lab's model key: the finished model is sealed to it. Kept in this browser only (see modelKey.ts). */
function useModelKey(address: string): { publicKey: string; privateKey: string } {
  const [key] = useState(() => keptOrNewModelKey(address));
  return key;
}

function LabAccount({ address, awaiting }: { address: string; awaiting: string | undefined }) {
  const { client } = useApi();
  const licenses = useLoad(() => client.call(routes.listLicenses, { query: { holder: address, limit: 50 } }), [client, address]);
  // A license just bought shows up once the chain indexer has seen its block: look again until it does.
  const missing = awaiting !== undefined && !licenses.loading && !licenses.data?.items.some((l) => l.id === awaiting);
  useEffect(() => {
    if (!missing) return;
    const t = setTimeout(licenses.reload, 1000);
    return () => clearTimeout(t);
  }, [missing, licenses]);
  const jobs = useLoad(() => client.call(routes.listJobs, { query: { holder: address, limit: 50 } }), [client, address]);
  return (
    <>
      <section aria-labelledby="licenses">
        <h2 id="licenses">My licenses</h2>
        <button type="button" onClick={licenses.reload}>
          Refresh
        </button>
        <ErrorBox error={licenses.error} />
        {licenses.data && licenses.data.items.length === 0 ? <p>No license yet (a purchase appears a few seconds after it is mined).</p> : null}
        <ul className="cards" data-testid="licenses">
          {licenses.data?.items.map((l) => (
            <li key={l.id} className="card">
              <strong>License {l.id}</strong> · budget <Amount value={l.budget} /> · expires {when(l.expiry)}
              <div className="muted">
                datasets {l.datasets.map((d) => `#${d.datasetId} at ${money(d.pricePerSample)}`).join(', ')} · jobs {l.jobs.join(', ') || 'none'}
              </div>
            </li>
          ))}
        </ul>
      </section>
      <SubmitJob address={address} licenseIds={licenses.data?.items.map((l) => l.id) ?? []} />
      <section aria-labelledby="jobs">
        <h2 id="jobs">My jobs</h2>
        <ErrorBox error={jobs.error} />
        {jobs.data && jobs.data.items.length === 0 ? <p>No job yet.</p> : null}
        <ul className="cards">
          {jobs.data?.items.map((j) => (
            <li key={j.id} className="card">
              <Link href={`/jobs/${j.id}`}>Job {j.id}</Link> <Status value={j.status} /> · license {j.licenseId} · spent <Amount value={j.spent} /> of <Amount value={j.budget} />
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function SubmitJob({ address, licenseIds }: { address: string; licenseIds: string[] }) {
  const { signingClient } = useApi();
  const health = useHealth();
  const wallet = useWallet();
  const modelKey = useModelKey(address);
  const [licenseId, setLicenseId] = useState('');
  const [budget, setBudget] = useState('5');
  const [rate, setRate] = useState('1');
  const [recipe, setRecipe] = useState<Recipe | undefined>(() => {
    const r = validateRecipe(DEFAULT_RECIPE);
    return r.ok ? r.recipe : undefined;
  });
  const [error, setError] = useState<unknown>();
  const [step, setStep] = useState('');
  const chosen = licenseId || licenseIds[0] || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      if (!chosen) throw new ConsoleError('VALIDATION_FAILED', 'Choose a license (buy one first)');
      if (!recipe) throw new ConsoleError('VALIDATION_FAILED', 'Fix the recipe first');
      const budgetUnits = amountInput(budget, 'Job budget');
      const rateUnits = amountInput(rate, 'Rate cap');
      const signer = await wallet.txSigner();
      const lm = LicenseManager__factory.connect(health.contracts.LicenseManager as string, signer);
      await wallet.review({
        kind: 'transactions',
        title: 'Open a training job',
        steps: [{ call: `openJob(license ${chosen}, budget ${money(budgetUnits)} USD, at most ${money(rateUnits)} USD/s)`, detail: "Sets aside part of the license's budget for this job; royalties stream from it as the worker reports usage." }],
      });
      setStep('opening the job on chain …');
      const tx = await lm.openJob(BigInt(chosen), budgetUnits, rateUnits);
      const receipt = await tx.wait();
      let jobId: string | undefined;
      for (const log of receipt?.logs ?? []) {
        const parsed = (() => {
          try {
            return lm.interface.parseLog(log);
          } catch {
            return null;
          }
        })();
        if (parsed?.name === 'JobOpened') jobId = String(parsed.args[0]);
      }
      if (!jobId) throw new ConsoleError('DEPENDENCY_FAILED', `Transaction ${tx.hash} opened no job`);
      setStep(`job ${jobId} opened; submitting it to the API …`);
      const body = { jobId, recipe, modelKey: modelKey.publicKey };
      const client = signingClient(wallet.reviewingSigner(`Submit job ${jobId} to the Provena API`, body));
      await client.call(routes.submitJob, { body });
      navigate(`/jobs/${jobId}`);
    } catch (err) {
      setStep('');
      setError(err);
    }
  };

  return (
    <section aria-labelledby="submit">
      <h2 id="submit">Submit a job</h2>
      <form onSubmit={submit} className="form">
        <label>
          License
          <select name="license" value={chosen} onChange={(e) => setLicenseId(e.target.value)}>
            {licenseIds.length ? null : <option value="">(no license)</option>}
            {licenseIds.map((id) => (
              <option key={id} value={id}>
                License {id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Job budget (USD)
          <input name="jobBudget" inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} />
        </label>
        <label>
          Rate cap (USD / second)
          <input name="rate" inputMode="decimal" value={rate} onChange={(e) => setRate(e.target.value)} />
        </label>
        <RecipeForm onChange={setRecipe} />
        <p className="muted full">
          Model key (the model is sealed to it; kept in this browser): <span className="mono">{short(modelKey.publicKey, 12)}</span>{' '}
          <a download={`provena-model-key-${address}.txt`} href={`data:text/plain,${modelKey.privateKey}`}>
            Save the private key
          </a>
        </p>
        <button type="submit" className="primary" disabled={!recipe}>
          Open and submit job
        </button>
        {step ? (
          <p className="full" aria-live="polite">
            {step}
          </p>
        ) : null}
      </form>
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
    </section>
  );
}
