/**
 * Work the job loop hands off so that training never waits on it, newest first: the trainer writes checkpoints
 * faster than an upload + commit (or a usage report mined on chain) may take on a busy machine, and each one only
 * matters until a newer one exists. {@link LatestOnly} runs one task at a time; what is offered while one runs
 * waits in a single slot, and a newer offer replaces it (the replaced one is dropped, `onDrop` told).
 */

/** One task runner whose queue holds only the newest waiting item. */
export class LatestOnly<T> {
  private running: Promise<void> | undefined;
  private waiting: T | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;

  /**
   * @param run does the work for one item (errors are kept and thrown by {@link drain}; `onError` may swallow them)
   * @param options.minIntervalMs least time between two starts (an item offered sooner waits, or is replaced)
   * @param options.onDrop told of an item replaced before it ran (e.g. to delete its file)
   * @param options.onError told of a failed run; return true to swallow it (the next item still runs)
   */
  constructor(
    private readonly run: (item: T) => Promise<void>,
    private readonly options: { minIntervalMs?: number; onDrop?: (item: T) => void | Promise<void>; onError?: (e: unknown, item: T) => boolean; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Queues `item` (replacing a waiting one) and starts it when nothing runs and the interval allows. */
  offer(item: T): void {
    if (this.waiting !== undefined) void this.options.onDrop?.(this.waiting);
    this.waiting = item;
    this.kick();
  }

  /** Throws the first unswallowed failure of a finished run (the job loop checks between frames). */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Whether an item is running or waiting. */
  get busy(): boolean {
    return this.running !== undefined || this.waiting !== undefined;
  }

  private kick(): void {
    if (this.running || this.waiting === undefined || this.failure !== undefined) return;
    const wait = this.lastStart + (this.options.minIntervalMs ?? 0) - this.now();
    if (wait > 0) {
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.kick();
        }, wait);
        this.timer.unref();
      }
      return;
    }
    const item = this.waiting;
    this.waiting = undefined;
    this.lastStart = this.now();
    this.running = this.run(item)
      .catch((e: unknown) => {
        if (!this.options.onError?.(e, item)) this.failure = e;
      })
      .finally(() => {
        this.running = undefined;
        this.kick();
      });
  }

  /**
   * Waits for the running item; with `flush`, also runs the waiting one at once (ignoring the interval), else
   * drops it. Throws the first unswallowed failure.
   */
  async drain(flush: boolean): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.waiting !== undefined) {
      const item = this.waiting;
      this.waiting = undefined;
      if (flush && this.failure === undefined) {
        this.lastStart = this.now();
        await this.run(item).catch((e: unknown) => {
          if (!this.options.onError?.(e, item)) this.failure = e;
        });
      } else {
        await this.options.onDrop?.(item);
      }
    }
    if (this.failure !== undefined) throw this.failure;
  }
}
