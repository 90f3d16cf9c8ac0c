/**
 * `Promise.all(items.map(fn))` with at most `limit` calls in flight, results in input order. On the first
 * failure no new call starts, the calls already in flight are awaited (so nothing is still running when this
 * rejects), and that first error is thrown.
 *
 * @example
 * ```ts
 * const terms = await mapLimit(logs, 8, (log) => readTerms(log));
 * ```
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let error: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i);
      } catch (err) {
        if (!failed) error = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw error;
  return out;
}
