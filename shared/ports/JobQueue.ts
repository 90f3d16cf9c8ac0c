import type { HealthCheck } from './Health.js';

/** What a queued message says: which job is claimable. The job record holds everything else. */
export interface JobMessageBody {
  jobId: string;
}

/** A received message: its body, its id (stable across receives) and this receive's handle. */
export interface ReceivedJobMessage {
  messageId: string;
  /** Valid while this receive's visibility lasts; `changeVisibility` and `delete` take it. */
  receiptHandle: string;
  body: JobMessageBody;
  /** How many times the message was received (1 on the first). */
  receiveCount: number;
}

/**
 * The queue of claimable jobs, with SQS semantics: a received message is invisible to other receivers for its
 * visibility timeout and reappears unless deleted; `changeVisibility(handle, 0)` makes it visible at once.
 * Delivery is at least once: consumers must tolerate duplicates (the lease's conditional write decides).
 *
 * Adapters: `InProcessJobQueue` (embedded stack, one per process) and `SqsJobQueue` (AWS SQS, JSON protocol).
 *
 * Errors: `DEPENDENCY_FAILED` (the queue did not answer), `JOB_QUEUE_HANDLE_INVALID` (the handle's receive is
 * over: the message reappeared or was deleted).
 */
export interface JobQueue extends HealthCheck {
  send(body: JobMessageBody, options?: { delaySeconds?: number }): Promise<{ messageId: string }>;
  /** Waits up to `waitSeconds` for a visible message; hides it for `visibilitySeconds`. */
  receive(options: { waitSeconds: number; visibilitySeconds: number }): Promise<ReceivedJobMessage | undefined>;
  /** Hides the message for `seconds` from now (0: visible now). */
  changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
  delete(receiptHandle: string): Promise<void>;
}
