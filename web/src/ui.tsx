/** Small shared pieces of the pages. */
import { plain } from './errors.js';
import { money, short, txUrl } from './format.js';
import { useApi } from './api.js';
import { useWallet } from './wallet.js';

/** Shown by pages that need a wallet when there is none or it is not connected. */
export function NeedWallet({ what }: { what: string }) {
  const { state, connect } = useWallet();
  if (state.kind === 'none') {
    return (
      <div className="banner" role="status" data-testid="need-wallet">
        <strong>No wallet found.</strong> {plain('NO_WALLET')} You can still browse datasets; {what} needs a wallet.
      </div>
    );
  }
  return (
    <div className="banner" role="status" data-testid="need-wallet">
      {what} needs your wallet.{' '}
      <button type="button" onClick={() => connect().catch(() => {})}>
        Connect wallet
      </button>
    </div>
  );
}

/** An amount of the payment token. */
export function Amount({ value, testId }: { value: string | bigint; testId?: string }) {
  return (
    <span className="amount" data-testid={testId} title={`${String(value)} base units`}>
      {money(value)} <span className="unit">USD</span>
    </span>
  );
}

/** A transaction hash, linked to the chain's explorer when it has one. */
export function Tx({ hash }: { hash: string }) {
  const { state } = useApi();
  const url = state.status === 'up' ? txUrl(state.health.chainId, hash) : undefined;
  return url ? (
    <a href={url} target="_blank" rel="noreferrer" className="mono" title={hash}>
      {short(hash, 10)}
    </a>
  ) : (
    <code className="mono" title={`${hash} (local chain: no explorer)`}>
      {short(hash, 10)}
    </code>
  );
}

export function Status({ value }: { value: string }) {
  return (
    <span className={`status status-${value}`} data-testid="status">
      {value}
    </span>
  );
}
