import type { ComponentHealth } from '../ports/Health.js';
import type { ChainEventSource } from '../ports/ChainEventSource.js';
import type { IndexCursorStore } from '../ports/ChainIndex.js';

export interface IndexerLagDeps {
  source: Pick<ChainEventSource, 'head'>;
  cursors: Pick<IndexCursorStore, 'get'>;
}

export interface IndexerLagParameters {
  name: string;
  startBlock: number;
  confirmations: number;
  /** Lag (beyond the confirmation depth) above which the indexer reports `degraded`. */
  maxLagBlocks: number;
}

export interface IndexerLagReturnType {
  /** Blocks between the chain's head and the last indexed block. */
  blocks: number;
  /** Seconds between the head's timestamp and the last indexed block's. */
  seconds: number;
  indexedBlock: number;
  head: number;
}

/** How far the indexer is behind the chain. */
export async function indexerLag(deps: IndexerLagDeps, p: Pick<IndexerLagParameters, 'name' | 'startBlock'>): Promise<IndexerLagReturnType> {
  const [head, cursor] = await Promise.all([deps.source.head(), deps.cursors.get(p.name)]);
  const indexedBlock = cursor?.block ?? p.startBlock - 1;
  const seconds = cursor?.timestamp ? Math.max(0, head.timestamp - cursor.timestamp) : 0;
  return { blocks: Math.max(0, head.number - indexedBlock), seconds, indexedBlock, head: head.number };
}

/** The indexer's health for `/v1/health`: its lag in blocks and seconds; `degraded` beyond the allowed lag. */
export async function indexerHealth(deps: IndexerLagDeps, p: IndexerLagParameters): Promise<ComponentHealth> {
  const started = Date.now();
  try {
    const lag = await indexerLag(deps, p);
    const detail = `lag ${lag.blocks} blocks, ${lag.seconds} s (indexed ${lag.indexedBlock}, head ${lag.head}, confirmations ${p.confirmations})`;
    const behind = lag.blocks - p.confirmations > p.maxLagBlocks;
    return { status: behind ? 'degraded' : 'ok', detail, latencyMs: Date.now() - started, ...(behind ? { error: `more than ${p.maxLagBlocks} blocks behind the confirmation depth` } : {}) };
  } catch (err) {
    return { status: 'down', detail: 'chain indexer', latencyMs: Date.now() - started, error: err instanceof Error ? err.message : String(err) };
  }
}
