/**
 * The API connection: one SDK client for the whole console (the project's typed `client.call(routes.x, …)`, no
 * hand-written paths), the deployment's chain id and contracts from `GET /v1/health`, and whether the API answers.
 */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import type { HealthReport } from '../../shared/schemas/health.js';
import { ProvenaClient } from '../../shared/sdk/client.js';
import type { TypedDataSigner } from '../../shared/auth/signedRequest.js';
import { chooseApiBaseUrl, type ConsoleConfig } from './consoleConfig.js';

let deployed: ConsoleConfig = {};

/** Sets the deployment's `config.json` (main.tsx reads it before the first render). */
export function configureApi(config: ConsoleConfig): void {
  deployed = config;
}

/** Where the API is: `?api=` (kept for the session), else the deployment's config.json, else the console's origin. */
export function apiBaseUrl(): string {
  const fromQuery = new URLSearchParams(window.location.search).get('api');
  if (fromQuery) sessionStorage.setItem('provena.api', fromQuery);
  return chooseApiBaseUrl({ session: sessionStorage.getItem('provena.api'), config: deployed, origin: window.location.origin });
}

export type ApiState =
  | { status: 'loading' }
  | { status: 'down'; error: unknown }
  | { status: 'up'; health: HealthReport };

interface ApiContextValue {
  baseUrl: string;
  state: ApiState;
  /** An unsigned client (public routes). */
  client: ProvenaClient;
  /** A client that signs with `signer` (signed routes). */
  signingClient(signer: TypedDataSigner): ProvenaClient;
  retry(): void;
}

const Ctx = createContext<ApiContextValue | undefined>(undefined);

export function ApiProvider({ children }: { children: ReactNode }) {
  const [baseUrl] = useState(apiBaseUrl);
  const [state, setState] = useState<ApiState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const chainId = state.status === 'up' ? state.health.chainId : 0;
  const [client, setClient] = useState(() => new ProvenaClient({ baseUrl, chainId: 0 }));
  useEffect(() => {
    let live = true;
    new ProvenaClient({ baseUrl, chainId: 0 }).health().then(
      (health) => {
        if (!live) return;
        setClient(new ProvenaClient({ baseUrl, chainId: health.chainId }));
        setState({ status: 'up', health });
      },
      (error: unknown) => live && setState({ status: 'down', error }),
    );
    return () => {
      live = false;
    };
  }, [baseUrl, attempt]);
  const signingClient = useCallback((signer: TypedDataSigner) => new ProvenaClient({ baseUrl, chainId, signer }), [baseUrl, chainId]);
  const retry = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((a) => a + 1);
  }, []);
  return <Ctx.Provider value={{ baseUrl, state, client, signingClient, retry }}>{children}</Ctx.Provider>;
}

export function useApi(): ApiContextValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useApi outside ApiProvider');
  return v;
}

/** The health report (only rendered once the API is up). */
export function useHealth(): HealthReport {
  const { state } = useApi();
  if (state.status !== 'up') throw new Error('useHealth before the API is up');
  return state.health;
}

/** Loads `load()` on mount and whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): { data?: T; error?: unknown; loading: boolean; reload(): void } {
  const [result, setResult] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setResult((r) => ({ ...r, loading: true }));
    load().then(
      (data) => live && setResult({ data, loading: false }),
      (error: unknown) => live && setResult({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what the load depends on
  }, [...deps, n]);
  return { ...result, reload: () => setN((x) => x + 1) };
}
