/**
 * Helpers shared by the benchmarks: a bounded loopback load generator, percentiles and a bare
 * `node:http` floor server.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** Latency and throughput of one load run. */
export interface LoadResult {
  requests: number;
  concurrency: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
}

/**
 * Runs `fn(i)` for i in [0, n) with `concurrency` callers in flight, after `warmup` untimed calls (indices -1,
 * -2, ...), and returns latency percentiles and throughput.
 */
export async function runLoad(n: number, concurrency: number, warmup: number, fn: (i: number) => Promise<void>): Promise<LoadResult> {
  for (let w = 1; w <= warmup; w++) await fn(-w);
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const s = performance.now();
        await fn(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const r2 = (x: number) => +x.toFixed(2);
  return {
    requests: n,
    concurrency,
    seconds: +seconds.toFixed(3),
    reqPerSec: +(n / seconds).toFixed(1),
    p50Ms: r2(percentile(lat, 50)),
    p95Ms: r2(percentile(lat, 95)),
    p99Ms: r2(percentile(lat, 99)),
    meanMs: r2(lat.reduce((a, b) => a + b, 0) / lat.length),
  };
}

/** The transport floor: a bare node:http server on 127.0.0.1 answering `body` (default `{}`) to everything. */
export async function startFloor(body = '{}'): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
