import type { NonceStore } from '../../shared/ports/NonceStore.js';

/** A nonce store in memory for key-gate tests: each (scope, nonce) is accepted once, forever (no expiry). */
export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Set<string>();
  async consume(scope: string, nonce: string): Promise<boolean> {
    const k = `${scope}:${nonce}`;
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }
  async health() {
    return { status: 'ok' as const };
  }
}
