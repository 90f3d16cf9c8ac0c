import { describe, expect, it } from '@jest/globals';
import { InProcessJobQueue } from './InProcessJobQueue.js';

/** A queue on a hand-driven clock: `advance(s)` moves it `s` seconds on. */
function queueAt() {
  let now = Date.parse('2026-11-28T08:00:00Z');
  const queue = new InProcessJobQueue({ now: () => now });
  return { queue, advance: (s: number) => (now += s * 1000) };
}
const codeOf = async (p: Promise<unknown>) => p.then(() => 'OK', (e: { code?: string }) => e.code ?? String(e));

describe('InProcessJobQueue (SQS semantics)', () => {
  it('hides a received message for its visibility timeout and hands it out again after it, with a new handle and count', async () => {
    const { queue, advance } = queueAt();
    await queue.send({ jobId: '1' });

    const first = await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 });
    expect(await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 })).toBeUndefined();
    advance(29);
    expect(await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 })).toBeUndefined();
    advance(1);
    const second = await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 });

    expect(first).toMatchObject({ body: { jobId: '1' }, receiveCount: 1 });
    expect(second).toMatchObject({ messageId: first?.messageId, body: { jobId: '1' }, receiveCount: 2 });
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
  });

  it('deletes a message for good', async () => {
    const { queue, advance } = queueAt();
    await queue.send({ jobId: '1' });
    const m = await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 });
    await queue.delete(m?.receiptHandle as string);
    advance(60);
    expect(await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 })).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it('extends or ends the hiding with changeVisibility (0: visible now)', async () => {
    const { queue, advance } = queueAt();
    await queue.send({ jobId: '1' });
    const m = await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 });
    await queue.changeVisibility(m?.receiptHandle as string, 60);
    advance(30);
    expect(await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 })).toBeUndefined();
    const again = (await queue.changeVisibility(m?.receiptHandle as string, 0), await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 }));
    expect(again?.messageId).toBe(m?.messageId);
  });

  it('refuses the handle of a receive whose visibility ended, or that a later receive replaced, and changes nothing', async () => {
    const { queue, advance } = queueAt();
    await queue.send({ jobId: '1' });
    const old = await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 });
    advance(6);
    expect(await codeOf(queue.changeVisibility(old?.receiptHandle as string, 60))).toBe('JOB_QUEUE_HANDLE_INVALID');
    const current = await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 });
    expect(await codeOf(queue.changeVisibility(old?.receiptHandle as string, 60))).toBe('JOB_QUEUE_HANDLE_INVALID');
    expect(await codeOf(queue.changeVisibility(current?.receiptHandle as string, 60))).toBe('OK');
  });

  it('delays a message sent with delaySeconds', async () => {
    const { queue, advance } = queueAt();
    await queue.send({ jobId: '1' }, { delaySeconds: 10 });
    expect(await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 })).toBeUndefined();
    advance(10);
    expect((await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 }))?.body.jobId).toBe('1');
  });

  it('answers a long poll with a message sent while it waits', async () => {
    const queue = new InProcessJobQueue({ pollIntervalMs: 10 });
    const waiting = queue.receive({ waitSeconds: 2, visibilitySeconds: 5 });
    setTimeout(() => void queue.send({ jobId: '9' }), 50);
    expect((await waiting)?.body.jobId).toBe('9');
  });

  it('hands out messages oldest first', async () => {
    const { queue } = queueAt();
    for (const id of ['1', '2', '3']) await queue.send({ jobId: id });
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await queue.receive({ waitSeconds: 0, visibilitySeconds: 5 }))?.body.jobId);
    expect(got).toEqual(['1', '2', '3']);
  });
});
