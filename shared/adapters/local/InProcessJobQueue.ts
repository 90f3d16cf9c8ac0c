/**
 * {@link JobQueue} in this process, with SQS's semantics: a received message is hidden for its visibility timeout
 * and reappears unless deleted; each receive issues a new receipt handle and the previous one stops working. The
 * embedded stack serves the API from one process, so one queue (see {@link InProcessJobQueue.shared}) is the
 * whole queue. State is in memory: a restart loses the messages, and the API's repair sweep re-sends a message for
 * every job still `queued` (shared/use-cases/requeueStaleJobs.ts).
 */
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../errors.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { JobMessageBody, JobQueue, ReceivedJobMessage } from '../../ports/JobQueue.js';

interface Message {
  id: string;
  body: JobMessageBody;
  visibleAt: number;
  receiveCount: number;
  handle?: string;
}

/** Options of an {@link InProcessJobQueue}. */
export interface InProcessJobQueueOptions {
  /** Milliseconds since the epoch (injectable for tests). Default `Date.now`. */
  now?: () => number;
  /** How often a long poll looks again, ms. Default 50. */
  pollIntervalMs?: number;
}

let shared: InProcessJobQueue | undefined;

/** See the module comment. */
export class InProcessJobQueue implements JobQueue {
  private readonly messages: Message[] = [];
  private readonly now: () => number;
  private readonly pollIntervalMs: number;

  constructor(options: InProcessJobQueueOptions = {}) {
    this.now = options.now ?? Date.now;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
  }

  /** The process's queue (created on first use): the embedded API's runtime and the stack share it. */
  static shared(): InProcessJobQueue {
    shared ??= new InProcessJobQueue();
    return shared;
  }

  async send(body: JobMessageBody, options: { delaySeconds?: number } = {}): Promise<{ messageId: string }> {
    const id = randomUUID();
    this.messages.push({ id, body: { ...body }, visibleAt: this.now() + (options.delaySeconds ?? 0) * 1000, receiveCount: 0 });
    return { messageId: id };
  }

  async receive(options: { waitSeconds: number; visibilitySeconds: number }): Promise<ReceivedJobMessage | undefined> {
    const deadline = Date.now() + options.waitSeconds * 1000;
    for (;;) {
      const got = this.take(options.visibilitySeconds);
      if (got || Date.now() >= deadline) return got;
      await new Promise((r) => setTimeout(r, Math.min(this.pollIntervalMs, Math.max(1, deadline - Date.now()))));
    }
  }

  private take(visibilitySeconds: number): ReceivedJobMessage | undefined {
    const now = this.now();
    const m = this.messages.find((x) => x.visibleAt <= now);
    if (!m) return undefined;
    m.visibleAt = now + visibilitySeconds * 1000;
    m.receiveCount++;
    m.handle = `${m.id}#${randomUUID()}`;
    return { messageId: m.id, receiptHandle: m.handle, body: { ...m.body }, receiveCount: m.receiveCount };
  }

  /** The message this handle's receive still holds (hidden, not deleted, not received again since). */
  private inFlight(handle: string): Message {
    const now = this.now();
    const m = this.messages.find((x) => x.handle === handle);
    if (!m || m.visibleAt <= now) throw new ConflictError('JOB_QUEUE_HANDLE_INVALID', 'The receipt handle is no longer valid: the message reappeared, was received again or was deleted');
    return m;
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    const m = this.inFlight(receiptHandle);
    m.visibleAt = this.now() + seconds * 1000;
  }

  async delete(receiptHandle: string): Promise<void> {
    // SQS deletes with a stale handle of a message not received since; here a handle works until the next receive.
    const i = this.messages.findIndex((x) => x.handle === receiptHandle);
    if (i >= 0) this.messages.splice(i, 1);
  }

  /** Messages held (visible or not), for tests and health. */
  get size(): number {
    return this.messages.length;
  }

  async health(): Promise<ComponentHealth> {
    return { status: 'ok', detail: `in-process job queue (${this.messages.length} message(s))` };
  }
}
