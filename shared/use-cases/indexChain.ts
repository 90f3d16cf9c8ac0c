/**
 * One indexer tick: follow the contracts' events into the projections, up to the confirmation depth, surviving
 * reorgs and restarts. The embedded stack runs it in a loop; the cloud runs it from a scheduled Lambda.
 *
 * Reorgs: the cursor stores the hash of the last indexed block. When the chain now has another hash at that
 * height (or no such block), the newest checkpoint still on the chain is the fork point; every record of blocks
 * above it is deleted and those blocks are indexed again from the new branch. Records are keyed by what the event
 * created (license id, job id) and written on the condition that they are absent or came from the same
 * (blockHash, logIndex), so a block indexed twice writes nothing twice.
 */
import { ConflictError, type DependencyError } from '../errors.js';
import type { ChainBlock, ChainEventSource } from '../ports/ChainEventSource.js';
import type { Checkpoint, IndexCursor, IndexCursorStore, IndexProjection } from '../ports/ChainIndex.js';

/** Checkpoints kept in the cursor: a reorg deeper than this many ticks re-indexes from the start block. */
export const MAX_CHECKPOINTS = 64;

/** What the indexer needs. */
export interface IndexChainDeps {
  source: ChainEventSource;
  cursors: IndexCursorStore;
  projections: readonly IndexProjection[];
}

export interface IndexChainParameters {
  /** The cursor's name (one per followed deployment). */
  name: string;
  /** The first block that can hold the contracts' events (their deployment block). */
  startBlock: number;
  /** Blocks below the head left unread (0 locally). */
  confirmations: number;
  /** At most this many blocks per tick. */
  maxBlocks: number;
}

export interface IndexChainReturnType {
  /** Events applied in this tick. */
  events: number;
  /** The last indexed block after the tick. */
  block: number;
  head: ChainBlock;
  /** Set when a reorg was found: the old cursor block, the fork point and how many records were rolled back. */
  reorg?: { from: number; forkPoint: number; rolledBack: number };
  /** True when the range's last block changed while it was read: nothing advanced, the next tick retries. */
  raced?: boolean;
}

export type IndexChainErrorType = ConflictError | DependencyError;

async function rollbackAbove(projections: readonly IndexProjection[], block: number): Promise<number> {
  let n = 0;
  for (const p of projections) n += await p.rollbackAbove(block);
  return n;
}

/** The newest checkpoint the chain still has with the same hash, or undefined when none is. */
async function findForkPoint(source: ChainEventSource, checkpoints: readonly Checkpoint[]): Promise<Checkpoint | undefined> {
  for (let i = checkpoints.length - 1; i >= 0; i--) {
    const cp = checkpoints[i] as Checkpoint;
    const onChain = await source.block(cp.number);
    if (onChain?.hash === cp.hash) return cp;
  }
  return undefined;
}

async function save(deps: IndexChainDeps, name: string, next: IndexCursor, expectedVersion: number): Promise<void> {
  if (!(await deps.cursors.put(name, next, expectedVersion))) {
    throw new ConflictError('INDEXER_CONFLICT', `The indexer cursor ${name} moved during this tick (another indexer runs); this tick's writes are idempotent and the next tick continues`);
  }
}

/** Detects a reorg under `cursor` and rolls back to the fork point; returns the cursor to continue from. */
async function followReorg(deps: IndexChainDeps, p: IndexChainParameters, cursor: IndexCursor): Promise<{ cursor: IndexCursor; reorg?: IndexChainReturnType['reorg'] }> {
  const onChain = await deps.source.block(cursor.block);
  if (onChain?.hash === cursor.hash) return { cursor };
  const fork = (await findForkPoint(deps.source, cursor.checkpoints)) ?? { number: p.startBlock - 1, hash: '' };
  const rolledBack = await rollbackAbove(deps.projections, fork.number);
  const next: IndexCursor = {
    block: fork.number,
    hash: fork.hash,
    timestamp: fork.hash ? ((await deps.source.block(fork.number))?.timestamp ?? 0) : 0,
    version: cursor.version + 1,
    checkpoints: cursor.checkpoints.filter((c) => c.number <= fork.number),
  };
  await save(deps, p.name, next, cursor.version);
  return { cursor: next, reorg: { from: cursor.block, forkPoint: fork.number, rolledBack } };
}

/**
 * Indexes the next range of confirmed blocks.
 *
 * @example
 * ```ts
 * const r = await indexChain(deps, { name: 'provena', startBlock: deployment.blockNumber, confirmations: 0, maxBlocks: 2000 });
 * ```
 */
export async function indexChain(deps: IndexChainDeps, p: IndexChainParameters): Promise<IndexChainReturnType> {
  const head = await deps.source.head();
  const stored = await deps.cursors.get(p.name);
  const { cursor, reorg } = stored
    ? await followReorg(deps, p, stored)
    : { cursor: { block: p.startBlock - 1, hash: '', timestamp: 0, version: 0, checkpoints: [] } satisfies IndexCursor, reorg: undefined };
  const base = { block: cursor.block, head, ...(reorg ? { reorg } : {}) };
  const target = Math.min(head.number - p.confirmations, cursor.block + p.maxBlocks);
  if (target <= cursor.block) return { ...base, events: 0 };

  // Records above the cursor can only come from a tick that stopped before saving it: clear them first.
  await rollbackAbove(deps.projections, cursor.block);
  const end = await deps.source.block(target);
  const events = end ? await deps.source.events(cursor.block + 1, target) : [];
  const after = await deps.source.block(target);
  if (!end || after?.hash !== end.hash || events.some((e) => e.blockNumber === target && e.blockHash !== end.hash)) {
    return { ...base, events: 0, raced: true };
  }
  // The projections write disjoint records (each keeps its own kinds), so they apply side by side; both are
  // awaited before a failure is thrown, so no write of this tick is still running when the next one rolls back.
  const applied = await Promise.allSettled(deps.projections.map((projection) => projection.apply(events)));
  const failed = applied.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const next: IndexCursor = {
    block: end.number,
    hash: end.hash,
    timestamp: end.timestamp,
    version: cursor.version + 1,
    checkpoints: [...cursor.checkpoints, { number: end.number, hash: end.hash }].slice(-MAX_CHECKPOINTS),
  };
  await save(deps, p.name, next, cursor.version);
  return { ...base, block: end.number, events: events.length };
}
