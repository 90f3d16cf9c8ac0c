/**
 * The cloud indexer: a scheduled Lambda (EventBridge, every minute) that indexes as many confirmed blocks as it
 * can in its time budget. Overlapping invocations are safe: the cursor's conditional write lets one advance and
 * the records are idempotent.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createIndexerFromEnv, emitIndexerLag, type Indexer } from '../_lib/indexer.js';

const logger = new Logger({ serviceName: 'provena-indexer' });
let indexer: Indexer | undefined;

/** Ticks until the head (less the confirmations) is reached or `context` has under 5 s left. */
export async function handler(_event: unknown, context?: { getRemainingTimeInMillis(): number; awsRequestId?: string }): Promise<{ block: number; head: number; events: number }> {
  // Every line of this invocation carries its request id, as the route Lambdas' lines do (shared/http/handler.ts).
  logger.appendKeys({ requestId: context?.awsRequestId ?? 'local' });
  indexer ??= createIndexerFromEnv(process.env);
  let events = 0;
  for (;;) {
    const r = await indexer.tick();
    events += r.events;
    if (r.reorg) logger.warn('reorg: rolled back to the fork point', { ...r.reorg });
    const done = r.head.number - indexer.params.confirmations <= r.block || r.raced === true;
    if (done || (context && context.getRemainingTimeInMillis() < 5000)) {
      logger.info('indexed', { block: r.block, head: r.head.number, events });
      emitIndexerLag(Math.max(0, r.head.number - indexer.params.confirmations - r.block), process.env);
      return { block: r.block, head: r.head.number, events };
    }
  }
}
