/**
 * The user's wallet: any EIP-1193 provider (`window.ethereum`: a browser extension, or the dev key the tests
 * inject). Every signature goes through a review first: the console shows what is about to be signed (the
 * EIP-712 domain and fields, human-readable; for an API request, the body too) or which transactions are about to
 * be sent, and only then asks the wallet.
 */
import { BrowserProvider, TypedDataEncoder, type Eip1193Provider, type JsonRpcSigner, type TypedDataDomain, type TypedDataField } from 'ethers';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { TypedDataSigner } from '../../shared/auth/signedRequest.js';
import { useApi } from './api.js';
import { ConsoleError } from './errors.js';

declare global {
  interface Window {
    ethereum?: Eip1193Provider & { on?(event: string, cb: (...args: unknown[]) => void): void; removeListener?(event: string, cb: (...args: unknown[]) => void): void };
  }
}

/** What the console asks the user to approve before the wallet prompt. */
export type Review =
  | { kind: 'typed'; title: string; domain: TypedDataDomain; primaryType: string; types: Record<string, TypedDataField[]>; message: Record<string, unknown>; body?: unknown }
  | { kind: 'transactions'; title: string; steps: { call: string; detail: string }[] };

export type WalletState =
  | { kind: 'none' }
  | { kind: 'disconnected' }
  | { kind: 'connected'; address: string; chainId: number };

interface WalletContextValue {
  state: WalletState;
  connect(): Promise<void>;
  /** The wallet as an ethers signer for transactions (approve, purchase, openJob, claim). */
  txSigner(): Promise<JsonRpcSigner>;
  /** A typed-data signer that shows `title` (and `body`, for an API request) before each wallet prompt. */
  reviewingSigner(title: string, body?: unknown): TypedDataSigner;
  /** Shows `review` and resolves when the user continues (rejects with `CANCELLED` when not). */
  review(review: Review): Promise<void>;
  pending: { review: Review; resolve(): void; reject(): void; opener: HTMLElement | null } | undefined;
}

const Ctx = createContext<WalletContextValue | undefined>(undefined);

function provider(): BrowserProvider {
  if (!window.ethereum) throw new ConsoleError('NO_WALLET');
  return new BrowserProvider(window.ethereum);
}

export function WalletProvider({ children }: { children: ReactNode }) {
  const { state: api } = useApi();
  const [state, setState] = useState<WalletState>(() => (window.ethereum ? { kind: 'disconnected' } : { kind: 'none' }));
  const [pending, setPending] = useState<WalletContextValue['pending']>();

  const refresh = useCallback(async (ask: boolean) => {
    const eth = window.ethereum;
    if (!eth) return setState({ kind: 'none' });
    const accounts = (await eth.request({ method: ask ? 'eth_requestAccounts' : 'eth_accounts', params: [] })) as string[];
    const chainId = Number(await eth.request({ method: 'eth_chainId', params: [] }));
    const address = accounts[0];
    setState(address ? { kind: 'connected', address: (await provider().getSigner(address)).address, chainId } : { kind: 'disconnected' });
  }, []);

  useEffect(() => {
    refresh(false).catch(() => {});
    const eth = window.ethereum;
    const on = () => void refresh(false).catch(() => {});
    eth?.on?.('accountsChanged', on);
    eth?.on?.('chainChanged', on);
    return () => {
      eth?.removeListener?.('accountsChanged', on);
      eth?.removeListener?.('chainChanged', on);
    };
  }, [refresh]);

  const wantedChain = api.status === 'up' ? api.health.chainId : undefined;
  const connect = useCallback(async () => {
    if (!window.ethereum) throw new ConsoleError('NO_WALLET');
    await refresh(true);
    const chainId = Number(await window.ethereum.request({ method: 'eth_chainId', params: [] }));
    if (wantedChain !== undefined && chainId !== wantedChain) {
      await window.ethereum.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: `0x${wantedChain.toString(16)}` }] }).catch(() => {});
      await refresh(false);
    }
  }, [refresh, wantedChain]);

  const review = useCallback(
    (r: Review) =>
      new Promise<void>((resolve, reject) => {
        setPending({
          review: r,
          opener: document.activeElement as HTMLElement | null,
          resolve: () => {
            setPending(undefined);
            resolve();
          },
          reject: () => {
            setPending(undefined);
            reject(new ConsoleError('CANCELLED'));
          },
        });
      }),
    [],
  );

  const txSigner = useCallback(async () => {
    if (state.kind !== 'connected') throw new ConsoleError('WALLET_NOT_CONNECTED');
    if (wantedChain !== undefined && state.chainId !== wantedChain) {
      throw new ConsoleError('WALLET_WRONG_CHAIN', `Your wallet is on chain ${state.chainId}; this deployment runs on chain ${wantedChain}. Switch networks in the wallet.`);
    }
    return provider().getSigner(state.address);
  }, [state, wantedChain]);

  const reviewingSigner = useCallback(
    (title: string, body?: unknown): TypedDataSigner => ({
      getAddress: async () => (await txSigner()).getAddress(),
      signTypedData: async (domain, types, message) => {
        const signer = await txSigner();
        const clean = Object.fromEntries(Object.entries(types).filter(([k]) => k !== 'EIP712Domain'));
        await review({ kind: 'typed', title, domain, types: clean, primaryType: TypedDataEncoder.getPrimaryType(clean), message, ...(body === undefined ? {} : { body }) });
        return signer.signTypedData(domain, clean, message);
      },
    }),
    [txSigner, review],
  );

  const value = useMemo(() => ({ state, connect, txSigner, reviewingSigner, review, pending }), [state, connect, txSigner, reviewingSigner, review, pending]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useWallet(): WalletContextValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useWallet outside WalletProvider');
  return v;
}

function fieldValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(fieldValue).join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The review dialog: what is about to be signed or sent, then "Continue in wallet" or "Cancel". */
export function ReviewDialog() {
  const { pending } = useWallet();
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!pending) return;
    // Keyboard: Escape cancels, Tab stays inside the dialog, and focus goes back where it was when it closes.
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') return pending.reject();
      if (e.key !== 'Tab' || !dialog.current) return;
      const focusable = [...dialog.current.querySelectorAll<HTMLElement>('button, a[href], [tabindex]:not([tabindex="-1"])')];
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (!first || !last) return;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      pending.opener?.focus?.();
    };
  }, [pending]);
  if (!pending) return null;
  const r = pending.review;
  return (
    <div className="backdrop">
      <div className="dialog" role="dialog" ref={dialog} aria-modal="true" aria-labelledby="review-title">
        <h2 id="review-title">{r.title}</h2>
        {r.kind === 'typed' ? (
          <>
            <p>
              Your wallet will be asked to sign this <abbr title="EIP-712 typed data">EIP-712</abbr> message. Check it here: the wallet may show it less clearly.
            </p>
            <dl className="fields" data-testid="typed-domain">
              <dt>Signed for</dt>
              <dd>
                {String(r.domain.name ?? '')} v{String(r.domain.version ?? '')} on chain {String(r.domain.chainId ?? '')}
                {r.domain.verifyingContract ? ` (contract ${r.domain.verifyingContract})` : ''}
              </dd>
              <dt>Message type</dt>
              <dd>{r.primaryType}</dd>
              {(r.types[r.primaryType] ?? []).map((f) => (
                <FieldRow key={f.name} name={f.name} type={f.type} value={fieldValue(r.message[f.name])} />
              ))}
            </dl>
            {r.body !== undefined ? (
              <>
                <h3>Request body (its SHA-256 is the bodyHash above)</h3>
                <pre className="body">{JSON.stringify(r.body, null, 2)}</pre>
              </>
            ) : null}
          </>
        ) : (
          <>
            <p>Your wallet will be asked to send these transactions, in order (you pay the gas):</p>
            <ol>
              {r.steps.map((s) => (
                <li key={s.call}>
                  <code>{s.call}</code>
                  <div>{s.detail}</div>
                </li>
              ))}
            </ol>
          </>
        )}
        <div className="actions">
          <button type="button" onClick={pending.reject}>
            Cancel
          </button>
          <button type="button" className="primary" autoFocus onClick={pending.resolve}>
            Continue in wallet
          </button>
        </div>
      </div>
    </div>
  );
}

function FieldRow({ name, type, value }: { name: string; type: string; value: string }) {
  return (
    <>
      <dt>
        {name} <span className="type">{type}</span>
      </dt>
      <dd>{value}</dd>
    </>
  );
}
