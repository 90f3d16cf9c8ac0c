import { describe, expect, it } from '@jest/globals';
import { RateLimiter } from './rateLimit.js';

describe('RateLimiter', () => {
  it('lets a burst through, refuses the next with the seconds until a token, and refills at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limit = { ratePerSecond: 2, burst: 3 };

    const burst = [1, 2, 3].map(() => limiter.take('a', limit).ok);
    const refused = limiter.take('a', limit);
    now += 500;
    const refilled = limiter.take('a', limit);

    expect(burst).toEqual([true, true, true]);
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(refilled.ok).toBe(true);
    expect(limiter.take('b', limit).ok).toBe(true);
  });

  it('takes from no bucket when any of them is empty', () => {
    const limiter = new RateLimiter(() => 0);
    const one = { ratePerSecond: 1, burst: 1 };
    limiter.take('route', one);

    expect(limiter.takeAll([{ key: 'ip', limit: one }, { key: 'route', limit: one }]).ok).toBe(false);

    expect(limiter.take('ip', one).ok).toBe(true);
  });
});
