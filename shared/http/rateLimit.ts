/**
 * Per-client rate limits of the embedded API (issue 8, item 6): token buckets, refilled continuously. The cloud
 * applies the same per-route numbers ({@link RouteDefinition.rateLimit}) as API Gateway route throttling.
 *
 * Pure and in-memory: one process, one set of buckets (the embedded server). No I/O, no clock of its own.
 */
import type { RateLimit } from './route.js';

/** What {@link RateLimiter.take} answers. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
  limit: RateLimit;
}

/** Buckets beyond this many are pruned of the full (idle) ones, so rotating client ids cannot grow memory unbounded. */
const PRUNE_AT = 10_000;

/**
 * Token buckets by key: each holds up to `burst` tokens and gains `ratePerSecond` per second; a request takes one.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter(() => Date.now());
 * const d = limiter.take(`createDataset:${address}`, { ratePerSecond: 2, burst: 20 });
 * if (!d.ok) answer429(d.retryAfterSeconds);
 * ```
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly nowMs: () => number) {}

  /** Takes a token from every bucket named, or none when any is empty (then says when one will be there). */
  takeAll(requests: readonly { key: string; limit: RateLimit }[]): RateDecision {
    const now = this.nowMs();
    const buckets = requests.map((r) => this.refill(r.key, r.limit, now));
    const empty = buckets.filter((b) => b.tokens < 1);
    if (empty.length) {
      const wait = Math.max(...empty.map((b) => (1 - b.tokens) / b.limit.ratePerSecond));
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
    }
    for (const b of buckets) b.tokens -= 1;
    return { ok: true };
  }

  /** {@link takeAll} of one bucket. */
  take(key: string, limit: RateLimit): RateDecision {
    return this.takeAll([{ key, limit }]);
  }

  private refill(key: string, limit: RateLimit, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= PRUNE_AT) this.prune(now);
      b = { tokens: limit.burst, at: now, limit };
      this.buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.ratePerSecond);
    b.at = now;
    b.limit = limit;
    return b;
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * b.limit.ratePerSecond >= b.limit.burst) this.buckets.delete(key);
    }
  }
}
