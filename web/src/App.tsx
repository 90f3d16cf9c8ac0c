/** The console's shell: navigation, the API and wallet status, and the page for the current path. */
import type { ReactNode } from 'react';
import { ApiProvider, useApi } from './api.js';
import { ErrorBox, plain } from './errors.js';
import { short } from './format.js';
import { Link, useLocation } from './router.js';
import { ReviewDialog, WalletProvider, useWallet } from './wallet.js';
import { DatasetPage } from './pages/DatasetPage.js';
import { DatasetsPage } from './pages/DatasetsPage.js';
import { JobPage } from './pages/JobPage.js';
import { LabPage } from './pages/LabPage.js';
import { OwnerPage } from './pages/OwnerPage.js';
import { RecipientPage } from './pages/RecipientPage.js';

export function App() {
  return (
    <ApiProvider>
      <WalletProvider>
        <Shell />
        <ReviewDialog />
      </WalletProvider>
    </ApiProvider>
  );
}

const NAV = [
  { href: '/datasets', label: 'Datasets' },
  { href: '/lab', label: 'Lab' },
  { href: '/recipient', label: 'Recipient' },
  { href: '/owner', label: 'Owner' },
];

function Shell() {
  const { path } = useLocation();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <Link href="/datasets" className="brand">
          Provena
        </Link>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.href} href={n.href} aria-current={path.startsWith(n.href) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <WalletButton />
      </header>
      <main id="main" tabIndex={-1}>
        <ApiGate>
          <Page path={path} />
        </ApiGate>
      </main>
    </>
  );
}

function Page({ path }: { path: string }) {
  const [, first, second] = path.split('/');
  if (first === 'datasets' && second) return <DatasetPage id={decodeURIComponent(second)} />;
  if (first === 'lab') return <LabPage />;
  if (first === 'jobs' && second) return <JobPage id={decodeURIComponent(second)} />;
  if (first === 'recipient') return <RecipientPage />;
  if (first === 'owner') return <OwnerPage />;
  if (!first || first === 'datasets') return <DatasetsPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link href="/datasets">Browse datasets</Link>.
      </p>
    </section>
  );
}

/** Renders the pages only once the API answered; says clearly when it does not. */
function ApiGate({ children }: { children: ReactNode }) {
  const { state, baseUrl, retry } = useApi();
  if (state.status === 'loading') return <p aria-live="polite">Connecting to the API at {baseUrl} …</p>;
  if (state.status === 'down') {
    return (
      <section className="banner down" role="alert" data-testid="api-down">
        <h1>The API is down</h1>
        <p>
          The console could not reach the API at <code>{baseUrl}</code>.
        </p>
        <ErrorBox error={state.error} />
        <button type="button" onClick={retry}>
          Try again
        </button>
      </section>
    );
  }
  const down = Object.entries(state.health.components).filter(([, c]) => c.status !== 'ok');
  return (
    <>
      {down.length ? (
        <p className="banner degraded" role="status">
          Some of the API is degraded: {down.map(([n, c]) => `${n} (${c.error ?? c.status})`).join(', ')}. Pages that need it may fail.
        </p>
      ) : null}
      {children}
    </>
  );
}

function WalletButton() {
  const { state, connect } = useWallet();
  const api = useApi();
  if (state.kind === 'none') {
    return (
      <span className="wallet none" data-testid="no-wallet" title={plain('NO_WALLET')}>
        No wallet
      </span>
    );
  }
  if (state.kind === 'disconnected') {
    return (
      <button type="button" className="wallet" onClick={() => connect().catch(() => {})}>
        Connect wallet
      </button>
    );
  }
  const wrong = api.state.status === 'up' && api.state.health.chainId !== state.chainId;
  return (
    <span className={`wallet ${wrong ? 'wrong' : ''}`} data-testid="wallet-address" title={state.address}>
      {short(state.address)}
      {wrong ? ` (wrong network: ${state.chainId})` : ''}
    </span>
  );
}

