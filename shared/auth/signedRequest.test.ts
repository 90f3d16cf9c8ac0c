/**
 * Property tests of the request-signature rules, at the verifier itself (the integration suite covers the
 * same rules through HTTP against the real stack). The nonce store here is an in-memory implementation of the
 * port, and the chain is one with no contracts: both are real implementations of their ports' contracts.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Wallet } from 'ethers';
import type { NonceStore } from '../ports/NonceStore.js';
import type { SignatureVerifier } from '../ports/SignatureVerifier.js';
import { signRequest, verifySignedRequest, type VerifyDeps } from './signedRequest.js';
import { codeOf } from '../../test/support/errors.js';

class MemoryNonces implements NonceStore {
  readonly used = new Map<string, number>();
  constructor(private readonly now: () => number) {}
  async consume(scope: string, nonce: string, expiresAt: number): Promise<boolean> {
    const k = `${scope}#${nonce}`;
    const prev = this.used.get(k);
    if (prev !== undefined && prev >= this.now()) return false;
    this.used.set(k, expiresAt);
    return true;
  }
  async health() {
    return { status: 'ok' as const };
  }
}

const noContracts: SignatureVerifier = {
  isContract: async () => false,
  isValidErc1271Signature: async () => false,
  isValidErc6492Signature: async () => false,
  health: async () => ({ status: 'ok' }),
};

const NOW = 1_800_000_000;
function deps(): VerifyDeps & { nonces: MemoryNonces } {
  return { chainId: 31337, nonces: new MemoryNonces(() => NOW), chain: noContracts, maxSkewSeconds: 300, now: () => NOW };
}

const wallets = [new Wallet(Wallet.createRandom().privateKey), new Wallet(Wallet.createRandom().privateKey)];
const method = fc.constantFrom('POST', 'PATCH', 'DELETE', 'PUT');
const path = fc.stringMatching(/^\/v1\/[a-z0-9_/?=&]{0,40}$/);
const body = fc.option(fc.string({ maxLength: 200 }), { nil: undefined });


describe('verifySignedRequest', () => {
  it('accepts exactly the request that was signed, once', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, body, fc.integer({ min: -300, max: 300 }), async (m, p, b, skew) => {
        const d = deps();
        const headers = await signRequest(wallets[0] as Wallet, { chainId: 31337, method: m, path: p, ...(b === undefined ? {} : { body: b }), timestamp: NOW + skew });
        const req = { method: m, path: p, headers, body: b };
        expect(await verifySignedRequest(req, d)).toEqual({ address: (wallets[0] as Wallet).address, kind: 'eoa' });
        expect(await codeOf(verifySignedRequest(req, d))).toBe('AUTH_NONCE_REUSED');
      }),
      { numRuns: 25 },
    );
  });

  it('rejects any change to method, path, body or chain without spending the nonce', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, fc.string({ maxLength: 50 }), fc.constantFrom('method', 'path', 'body', 'chain'), async (m, p, b, change) => {
        const d = deps();
        const headers = await signRequest(wallets[0] as Wallet, { chainId: 31337, method: m, path: p, body: b, timestamp: NOW });
        const req = {
          method: change === 'method' ? (m === 'POST' ? 'PATCH' : 'POST') : m,
          path: change === 'path' ? `${p}x` : p,
          headers,
          body: change === 'body' ? `${b}!` : b,
        };
        const code = await codeOf(verifySignedRequest(req, change === 'chain' ? { ...d, chainId: 1 } : d));
        expect(code).toBe('AUTH_SIGNATURE_INVALID');
        expect(d.nonces.used.size).toBe(0);
      }),
      { numRuns: 25 },
    );
  });

  it('rejects timestamps outside the window on either side', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 301, max: 10_000_000 }), fc.boolean(), async (off, past) => {
        const d = deps();
        const headers = await signRequest(wallets[1] as Wallet, { chainId: 31337, method: 'POST', path: '/v1/x', timestamp: NOW + (past ? -off : off) });
        expect(await codeOf(verifySignedRequest({ method: 'POST', path: '/v1/x', headers, body: undefined }, d))).toBe('AUTH_TIMESTAMP_OUT_OF_RANGE');
      }),
      { numRuns: 20 },
    );
  });

  it('never accepts a signature with a bit flipped', async () => {
    const headers = await signRequest(wallets[0] as Wallet, { chainId: 31337, method: 'POST', path: '/v1/x', body: '{}', timestamp: NOW });
    const sig = headers['x-provena-signature'] as string;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: sig.length - 1 }), fc.integer({ min: 1, max: 15 }), async (i, x) => {
        const flipped = sig.slice(0, i) + (Number.parseInt(sig[i] as string, 16) ^ x).toString(16) + sig.slice(i + 1);
        const code = await codeOf(verifySignedRequest({ method: 'POST', path: '/v1/x', headers: { ...headers, 'x-provena-signature': flipped }, body: '{}' }, deps()));
        expect(code).not.toBe('OK');
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a replay while its nonce is held and, once the nonce expires, by its timestamp', async () => {
    let now = NOW;
    const nonces = new MemoryNonces(() => now);
    const d: VerifyDeps = { ...deps(), nonces, now: () => now };
    const headers = await signRequest(wallets[0] as Wallet, { chainId: 31337, method: 'POST', path: '/v1/x', timestamp: NOW });
    const req = { method: 'POST', path: '/v1/x', headers, body: undefined };
    expect(await codeOf(verifySignedRequest(req, d))).toBe('OK');
    now = NOW + 299;
    expect(await codeOf(verifySignedRequest(req, d))).toBe('AUTH_NONCE_REUSED');
    now = NOW + 301;
    // By then the timestamp itself is out of the window: a replay is refused either way.
    expect(await codeOf(verifySignedRequest(req, d))).toBe('AUTH_TIMESTAMP_OUT_OF_RANGE');
  });
});
