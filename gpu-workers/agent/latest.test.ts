import { describe, expect, it } from '@jest/globals';
import { LatestOnly } from './latest.js';

/** A task whose runs finish when the test says. */
function gated() {
  const started: number[] = [];
  const gates: (() => void)[] = [];
  const run = (n: number) =>
    new Promise<void>((resolve) => {
      started.push(n);
      gates.push(resolve);
    });
  const finishNext = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { started, run, finishNext };
}

describe('LatestOnly', () => {
  it('runs an offer at once, and of the offers made while it runs only the newest, dropping the others', async () => {
    const g = gated();
    const dropped: number[] = [];
    const q = new LatestOnly<number>(g.run, { onDrop: (n) => void dropped.push(n) });

    q.offer(1);
    q.offer(2);
    q.offer(3);
    q.offer(4);
    await g.finishNext();
    await g.finishNext();

    expect(g.started).toEqual([1, 4]);
    expect(dropped).toEqual([2, 3]);
    expect(q.busy).toBe(false);
  });

  it('drain(true) runs the waiting item at once; drain(false) drops it', async () => {
    const ran: number[] = [];
    const dropped: number[] = [];
    const flushing = new LatestOnly<number>(async (n) => void ran.push(n), { minIntervalMs: 60_000 });
    flushing.offer(1);
    flushing.offer(2);
    await flushing.drain(true);
    const dropping = new LatestOnly<number>(async (n) => void ran.push(n * 10), { minIntervalMs: 60_000, onDrop: (n) => void dropped.push(n) });
    dropping.offer(1);
    dropping.offer(2);
    await dropping.drain(false);

    expect(ran).toEqual([1, 2, 10]);
    expect(dropped).toEqual([2]);
  });

  it('waits the minimum interval between two starts', async () => {
    let now = 0;
    const ran: number[] = [];
    const q = new LatestOnly<number>(async (n) => void ran.push(n), { minIntervalMs: 1000, now: () => now });

    q.offer(1);
    await new Promise((r) => setImmediate(r));
    now = 500;
    q.offer(2);
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([1]);
    now = 1000;
    await new Promise((r) => setTimeout(r, 600));

    expect(ran).toEqual([1, 2]);
  });

  it('keeps a failure for drain and throwIfFailed, unless onError swallows it', async () => {
    const failing = new LatestOnly<number>(async () => {
      throw Object.assign(new Error('upload refused'), { code: 'DEPENDENCY_FAILED' });
    });
    failing.offer(1);
    await new Promise((r) => setImmediate(r));
    expect(() => failing.throwIfFailed()).toThrow('upload refused');
    await expect(failing.drain(false)).rejects.toThrow('upload refused');

    const seen: unknown[] = [];
    const swallowing = new LatestOnly<number>(async () => {
      throw new Error('rate capped');
    }, { onError: (e) => (seen.push(e), true) });
    swallowing.offer(1);
    await expect(swallowing.drain(false)).resolves.toBeUndefined();
    expect(seen).toHaveLength(1);
  });
});
