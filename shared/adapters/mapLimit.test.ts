import { describe, expect, it } from '@jest/globals';
import { mapLimit } from './mapLimit.js';

describe('mapLimit', () => {
  it('returns the results in input order whatever order the calls finish in', async () => {
    const out = await mapLimit([30, 10, 20, 0], 3, async (ms, i) => {
      await new Promise((r) => setTimeout(r, ms));
      return i;
    });

    expect(out).toEqual([0, 1, 2, 3]);
  });

  it('never has more than limit calls in flight', async () => {
    let inFlight = 0;
    let most = 0;

    await mapLimit(Array.from({ length: 20 }, (_, i) => i), 4, async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
    });

    expect(most).toBe(4);
  });

  it('throws the first error, starts nothing after it and leaves no call running', async () => {
    // Gates instead of timers: the order (1 fails, then 0 finishes) is set by the test, not by a loaded machine's
    // timer resolution (with 1 and 5 ms sleeps, CI once saw 0 finish first and start 2).
    const gates = Array.from({ length: 10 }, () => {
      let open!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      return { opened, open };
    });
    const started: number[] = [];
    let running = 0;

    const result = mapLimit(Array.from({ length: 10 }, (_, i) => i), 2, async (i) => {
      started.push(i);
      running++;
      await gates[i]!.opened;
      running--;
      if (i === 1) throw new Error('boom 1');
      return i;
    });
    const settled = result.then(
      () => 'resolved',
      () => 'rejected',
    );

    gates[1]!.open();
    await new Promise((r) => setImmediate(r)); // the failure is recorded
    expect(running).toBe(1); // 0 is still in flight: the rejection waits for it
    expect(await Promise.race([settled, new Promise((r) => setImmediate(() => r('pending')))])).toBe('pending');
    gates[0]!.open();
    await expect(result).rejects.toThrow('boom 1');
    expect(running).toBe(0);
    expect(started).toEqual([0, 1]);
  });

  it('answers an empty list with an empty list', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});
