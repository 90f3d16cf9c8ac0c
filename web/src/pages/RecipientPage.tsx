/**
 * Recipient: royalties per dataset (the API reads the chain's views), accrual over time and the current rate
 * (from the chain's `RoyaltyAccrued` events, read through the wallet's RPC), claim on chain (your gas) or gasless
 * (sign a `Claim`, the API relays it), and the claim history with transaction links.
 */
import { BrowserProvider, Contract, type EventLog } from 'ethers';
import { useState, type FormEvent } from 'react';
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { LicenseManager__factory } from '../../../contracts/typechain/index.js';
import { routes } from '../../../shared/http/routes.js';
import type { RoyaltiesReport } from '../../../shared/schemas/royalties.js';
import { useApi, useHealth, useLoad } from '../api.js';
import { ErrorBox } from '../errors.js';
import { money, when } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { Amount, NeedWallet, Tx } from '../ui.js';
import { useWallet } from '../wallet.js';

/** A point of the recipient's accrual: its share of every `RoyaltyAccrued` of its datasets, cumulated. */
interface History {
  points: { t: string; accrued: number }[];
  /** USD base units per second over the last five minutes of chain time. */
  ratePerSecond: bigint;
  claims: { txHash: string; amount: bigint; at: string; to: string }[];
}

const RATE_WINDOW_SECONDS = 300;

async function readHistory(licenseManager: string, report: RoyaltiesReport): Promise<History | undefined> {
  if (!window.ethereum) return undefined;
  const provider = new BrowserProvider(window.ethereum);
  const lm = new Contract(licenseManager, LicenseManager__factory.abi, provider);
  const share = new Map(report.datasets.map((d) => [d.chainDatasetId, BigInt(d.units)]));
  const accrued = (
    await Promise.all(report.datasets.map((d) => lm.queryFilter(lm.filters.RoyaltyAccrued?.(BigInt(d.chainDatasetId)) ?? 'RoyaltyAccrued', 0, 'latest')))
  ).flat() as EventLog[];
  const claims = (await lm.queryFilter(lm.filters.RoyaltiesClaimed?.(report.recipient) ?? 'RoyaltiesClaimed', 0, 'latest')) as EventLog[];
  const blocks = new Map<number, number>();
  for (const n of new Set([...accrued, ...claims].map((e) => e.blockNumber))) blocks.set(n, (await provider.getBlock(n))?.timestamp ?? 0);
  const latest = (await provider.getBlock('latest'))?.timestamp ?? Math.floor(Date.now() / 1000);
  const rows = accrued
    .map((e) => ({ ts: blocks.get(e.blockNumber) ?? 0, amount: ((e.args[3] as bigint) * (share.get(String(e.args[0])) ?? 0n)) / 10_000n }))
    .sort((a, b) => a.ts - b.ts);
  let total = 0n;
  let recent = 0n;
  const points = [{ t: rows[0] ? new Date((rows[0].ts - 1) * 1000).toLocaleTimeString() : 'now', accrued: 0 }];
  for (const r of rows) {
    total += r.amount;
    if (r.ts > latest - RATE_WINDOW_SECONDS) recent += r.amount;
    points.push({ t: new Date(r.ts * 1000).toLocaleTimeString(), accrued: Number(money(total)) });
  }
  return {
    points,
    ratePerSecond: recent / BigInt(RATE_WINDOW_SECONDS),
    claims: claims.map((e) => ({ txHash: e.transactionHash, amount: e.args[2] as bigint, to: String(e.args[1]), at: new Date((blocks.get(e.blockNumber) ?? 0) * 1000).toISOString() })).reverse(),
  };
}

export function RecipientPage() {
  const wallet = useWallet();
  const { query } = useLocation();
  const address = query.get('address') ?? (wallet.state.kind === 'connected' ? wallet.state.address : undefined);
  const onLookup = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const a = String(new FormData(e.currentTarget).get('address') ?? '').trim();
    navigate(a ? `/recipient?address=${a}` : '/recipient');
  };
  return (
    <section>
      <h1>Royalties</h1>
      <form className="form inline" onSubmit={onLookup} role="search" aria-label="Look up a recipient">
        <label>
          Recipient address
          <input name="address" defaultValue={address ?? ''} placeholder="0x… (default: your wallet)" pattern="^(0x[0-9a-fA-F]{40})?$" />
        </label>
        <button type="submit">Show</button>
      </form>
      {address ? <Recipient address={address} /> : <NeedWallet what="Seeing your own royalties" />}
    </section>
  );
}

function Recipient({ address }: { address: string }) {
  const { client } = useApi();
  const health = useHealth();
  const wallet = useWallet();
  const report = useLoad(() => client.call(routes.getRoyalties, { params: { address } }), [client, address]);
  const lm = health.contracts.LicenseManager as string;
  const history = useLoad(async () => (report.data ? readHistory(lm, report.data) : undefined), [report.data, lm, wallet.state.kind]);
  const [error, setError] = useState<unknown>();
  const [claimed, setClaimed] = useState<{ txHash: string; amount?: string }>();
  const mine = wallet.state.kind === 'connected' && wallet.state.address.toLowerCase() === address.toLowerCase();
  const claimable = report.data?.datasets.filter((d) => BigInt(d.claimable) > 0n) ?? [];

  const claimOnChain = async () => {
    setError(undefined);
    try {
      const signer = await wallet.txSigner();
      const ids = claimable.map((d) => BigInt(d.chainDatasetId));
      // Merkle shares not yet proven on chain are proven by this claim, with the proofs the API serves.
      const proofs = await Promise.all(
        claimable
          .filter((d) => d.proofRequired)
          .map(async (d) => {
            const share = await client.call(routes.getSplitShare, { params: { id: d.datasetId, address } });
            return { datasetId: BigInt(d.chainDatasetId), units: BigInt(share.units), proof: share.proof };
          }),
      );
      // One dataset without a proof to make: claimOne, the array-free entry point (about 3,200 gas less: no array,
      // no lock, no RoyaltiesClaimed; the indexer reads its claim from the token's Transfer), as the CLI sends it.
      const one = proofs.length === 0 && ids.length === 1 ? ids[0]! : undefined;
      const call = proofs.length
        ? `claimWithProofs([${proofs.map((p) => `{dataset ${p.datasetId}, ${p.units} units}`).join(', ')}], [${ids.join(', ')}])`
        : one !== undefined
          ? `claimOne(${one})`
          : `claim([${ids.join(', ')}])`;
      const proving = proofs.length ? ` It first proves your ${proofs.length === 1 ? 'Merkle share' : `${proofs.length} Merkle shares`} (once; later claims need no proof).` : '';
      await wallet.review({ kind: 'transactions', title: 'Claim royalties on chain', steps: [{ call, detail: `Pays what is claimable now (${money(report.data?.totals.claimable ?? '0')} USD) to your address; you pay the gas.${proving}` }] });
      const manager = LicenseManager__factory.connect(lm, signer);
      const tx = proofs.length ? await manager.claimWithProofs(proofs, ids) : one !== undefined ? await manager.claimOne(one) : await manager.claim(ids);
      await tx.wait();
      setClaimed({ txHash: tx.hash });
      report.reload();
    } catch (err) {
      setError(err);
    }
  };

  const claimGasless = async () => {
    setError(undefined);
    try {
      const typed = await client.call(routes.getClaimTypedData, { params: { address }, query: {} });
      const signer = wallet.reviewingSigner(`Claim ${money(typed.claimable)} USD of royalties (gasless)`);
      const { domain, types, message } = typed;
      const signature = await signer.signTypedData(domain, types, message);
      const result = await client.call(routes.claimRoyalties, {
        params: { address },
        body: { datasetIds: message.datasetIds, to: message.to, nonce: message.nonce, deadline: message.deadline, signature },
      });
      setClaimed({ txHash: result.txHash, amount: result.amount });
      report.reload();
    } catch (err) {
      setError(err);
    }
  };

  if (report.error) return <ErrorBox error={report.error} />;
  const r = report.data;
  if (!r) return <p aria-live="polite">Loading …</p>;
  return (
    <>
      <div className="totals" data-testid="royalty-totals">
        <div>
          Accrued <Amount value={r.totals.accrued} testId="total-accrued" />
        </div>
        <div>
          Claimed <Amount value={r.totals.claimed} testId="total-claimed" />
        </div>
        <div>
          Claimable now <Amount value={r.totals.claimable} testId="total-claimable" />
        </div>
        <div>
          Rate now {history.data ? <Amount value={history.data.ratePerSecond} /> : '—'} / s
        </div>
      </div>
      <p className="muted">Read from the chain at block {r.blockNumber}.</p>
      {mine ? (
        <div className="actions">
          <button type="button" className="primary" onClick={claimGasless} disabled={claimable.length === 0}>
            Claim gasless (sign)
          </button>
          <button type="button" onClick={claimOnChain} disabled={claimable.length === 0}>
            Claim on chain (pay gas)
          </button>
        </div>
      ) : (
        <p className="muted">Connect the recipient's wallet to claim.</p>
      )}
      {claimed ? (
        <p className="ok" role="status" data-testid="claimed">
          Claimed{claimed.amount ? ` ${money(claimed.amount)} USD` : ''}: tx <Tx hash={claimed.txHash} />
        </p>
      ) : null}
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
      <table data-testid="royalty-datasets">
        <caption>Per dataset</caption>
        <thead>
          <tr>
            <th scope="col">Dataset</th>
            <th scope="col">Share</th>
            <th scope="col">Accrued</th>
            <th scope="col">Claimed</th>
            <th scope="col">Claimable</th>
          </tr>
        </thead>
        <tbody>
          {r.datasets.map((d) => (
            <tr key={d.datasetId}>
              <td>
                <Link href={`/datasets/${d.datasetId}`}>{d.title}</Link> <span className="muted">#{d.chainDatasetId}</span>
              </td>
              <td>{(Number(d.units) / 100).toFixed(2)} %</td>
              <td>
                <Amount value={d.accrued} />
              </td>
              <td>
                <Amount value={d.claimed} />
              </td>
              <td>
                <Amount value={d.claimable} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <section aria-labelledby="accrual">
        <h2 id="accrual">Accrual over time</h2>
        <ErrorBox error={history.error} />
        {history.data ? (
          <div className="chart" role="img" aria-label={`Royalties accrued over time: ${money(r.totals.accrued)} USD in total`}>
            <ResponsiveContainer width="100%" height={220}>
              <AreaChart data={history.data.points}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="t" />
                <YAxis width={64} />
                <Tooltip />
                <Area type="stepAfter" dataKey="accrued" stroke="#16a34a" fill="#bbf7d0" isAnimationActive={false} />
              </AreaChart>
            </ResponsiveContainer>
          </div>
        ) : window.ethereum ? (
          <p>Loading …</p>
        ) : (
          <p>The history is read from the chain through a wallet: none is present.</p>
        )}
      </section>
      <section aria-labelledby="history">
        <h2 id="history">Claims</h2>
        {history.data && history.data.claims.length === 0 ? <p>No claim yet.</p> : null}
        <ol data-testid="claims">
          {history.data?.claims.map((c) => (
            <li key={c.txHash}>
              {when(c.at)} · <Amount value={c.amount} /> to <span className="mono">{c.to}</span> · tx <Tx hash={c.txHash} />
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
