/** What {@link semaphore} returns. */
export interface Semaphore {
  acquire(): Promise<void>;
  release(): void;
}

/**
 * A counting semaphore: `acquire` resolves when fewer than `n` holders remain. Bounds parts in flight (and so
 * memory) in uploads.
 *
 * @example
 * ```ts
 * const slots = semaphore(4);
 * await slots.acquire();
 * try { await putPart(); } finally { slots.release(); }
 * ```
 */
export function semaphore(n: number): Semaphore {
  let free = n;
  const waiters: (() => void)[] = [];
  return {
    acquire: () =>
      free > 0
        ? ((free -= 1), Promise.resolve())
        : new Promise<void>((r) => {
            waiters.push(r);
          }),
    release: () => {
      const next = waiters.shift();
      if (next) next();
      else free += 1;
    },
  };
}
