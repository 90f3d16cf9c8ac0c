/**
 * The cloud relayer's consumer: an SQS FIFO event source with one message group per relayer key, so SQS hands
 * this function one batch at a time per key and the same single-writer core as the embedded stack signs, journals
 * and broadcasts each call. Every batch starts with recovery (another container may have sent since) and ends with
 * a monitor step (settle mined calls, bump stuck ones). A message `{"tick": true}` in the same group (from a
 * schedule) runs only those steps, so stuck transactions are bumped while no calls arrive.
 *
 * Needs ReportBatchItemFailures on the event source mapping: a call that fails for a retryable reason is reported
 * with every later record of the batch, so order within the group holds.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { hasCode } from '../../shared/errors.js';
import { RelayCall } from '../../shared/schemas/relay.js';
import { createConsumerRelayer, type RelayCore } from '../_lib/relayer.js';

/** Outcomes that retrying the same message cannot change: the journal holds the answer for the producer. */
const PERMANENT = ['RELAYER_REVERTED', 'RELAYER_REJECTED', 'VALIDATION_FAILED'] as const;

export type { RelayCore };

/**
 * Runs one SQS batch through `core`, in order. Returns the records to retry: the first that failed for a
 * retryable reason and every record after it.
 */
export async function consumeRelayBatch(core: RelayCore, records: SQSRecord[], log: Pick<Logger, 'warn' | 'error'>): Promise<SQSBatchResponse> {
  const retry = (from: number): SQSBatchResponse => ({ batchItemFailures: records.slice(from).map((r) => ({ itemIdentifier: r.messageId })) });
  try {
    await core.recover();
  } catch (err) {
    log.error('relayer recovery failed; the batch is retried', { error: err as Error });
    return retry(0);
  }
  for (const [i, record] of records.entries()) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      log.error('relay message is not JSON; dropped', { messageId: record.messageId });
      continue;
    }
    if ((body as { tick?: unknown })?.tick === true) continue;
    const call = RelayCall.safeParse(body);
    if (!call.success) {
      log.error('relay message is not a RelayCall; dropped', { messageId: record.messageId, issues: call.error.issues });
      continue;
    }
    try {
      await core.submit(call.data);
    } catch (err) {
      if (hasCode(err, ...PERMANENT)) {
        log.warn('relayed call refused; the journal records why', { idempotencyKey: call.data.idempotencyKey, code: err.code });
        continue;
      }
      log.error('relayed call failed; it and the rest of the batch are retried', { idempotencyKey: call.data.idempotencyKey, error: err as Error });
      await core.tick().catch(() => undefined);
      return retry(i);
    }
  }
  await core.tick().catch((err: unknown) => log.warn('relayer monitor step failed', { error: err as Error }));
  return { batchItemFailures: [] };
}

let core: Promise<RelayCore> | undefined;
const logger = new Logger({ serviceName: 'provena-relayer' });

/** The Lambda entry point: builds the core once per container from the environment. */
export async function handler(event: SQSEvent, context?: { awsRequestId?: string }): Promise<SQSBatchResponse> {
  // Every line of this invocation carries its request id, as the route Lambdas' lines do (shared/http/handler.ts).
  logger.appendKeys({ requestId: context?.awsRequestId ?? 'local' });
  // Built once per container (the key is read from Secrets Manager here); a failed start is retried next batch.
  core ??= createConsumerRelayer(process.env, logger).catch((err: unknown) => {
    core = undefined;
    throw err;
  });
  return consumeRelayBatch(await core, event.Records, logger);
}
