/**
 * Headless Chromium (Debian's `chromium` package) driven by playwright-core, and an EIP-1193 wallet injected into
 * the page, backed by a private key held by the test (Node side): accounts, chain id, `eth_signTypedData_v4` and
 * `eth_sendTransaction` are answered with that key; every other call goes to the stack's chain.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Wallet, type JsonRpcProvider } from 'ethers';

export const CHROMIUM = process.env.PROVENA_CHROMIUM ?? '/usr/bin/chromium';

/** Launches headless Chromium (playwright gives it a fresh temporary profile, removed on close). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** What the injected wallet was asked, in order (to assert what the page requested). */
export type WalletLog = { method: string; params: unknown[] }[];

/**
 * Injects `window.ethereum` into every page of `context`, answering with `key` on `provider`'s chain. Returns the
 * log of requests.
 */
export async function injectWallet(context: BrowserContext, key: string, provider: JsonRpcProvider, chainId: number): Promise<WalletLog> {
  const wallet = new Wallet(key, provider);
  const log: WalletLog = [];
  await context.exposeFunction('__provenaDevWallet', async (method: string, params: unknown[]) => {
    log.push({ method, params });
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [wallet.address];
      case 'eth_chainId':
        return `0x${chainId.toString(16)}`;
      case 'wallet_switchEthereumChain':
        return null;
      case 'eth_signTypedData_v4': {
        const [from, json] = params as [string, string];
        if (from.toLowerCase() !== wallet.address.toLowerCase()) throw new Error(`unknown account ${from}`);
        const { domain, types, message } = JSON.parse(json) as { domain: Record<string, unknown>; types: Record<string, { name: string; type: string }[]>; message: Record<string, unknown> };
        const { EIP712Domain: _domain, ...rest } = types;
        return wallet.signTypedData(domain, rest, message);
      }
      case 'eth_sendTransaction': {
        const [tx] = params as [{ to?: string; data?: string; value?: string; gas?: string; nonce?: string }];
        // The page's nonce when it names one; else the chain's pending count, asked directly (the provider's
        // short request cache could answer the count from before the previous transaction).
        const nonce = Number(tx.nonce ?? (await provider.send('eth_getTransactionCount', [wallet.address, 'pending'])));
        const sent = await wallet.sendTransaction({ ...(tx.to ? { to: tx.to } : {}), ...(tx.data ? { data: tx.data } : {}), value: tx.value ? BigInt(tx.value) : 0n, nonce, ...(tx.gas ? { gasLimit: BigInt(tx.gas) } : {}) });
        return sent.hash;
      }
      default:
        return provider.send(method, params);
    }
  });
  await context.addInitScript(() => {
    // Runs in the page (`globalThis` is its window).
    const page = globalThis as unknown as { __provenaDevWallet(method: string, params: unknown[]): Promise<unknown>; ethereum: unknown };
    const call = page.__provenaDevWallet;
    page.ethereum = {
      isProvenaDevWallet: true,
      request: ({ method, params }: { method: string; params?: unknown[] }) => call(method, params ?? []),
      on: () => {},
      removeListener: () => {},
    };
  });
  return log;
}

/** A page of a fresh context (its own storage), at phone or desktop width. */
export async function newPage(browser: Browser, options: { phone?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options.phone ? { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 900 } });
  return { context, page: await context.newPage() };
}
