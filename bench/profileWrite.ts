/**
 * npm run bench:profile-write — where the time of one signed `POST /v1/datasets` goes on the embedded stack.
 *
 * Starts the stack in-process (as bench/api.ts does), then sends BENCH_PROFILE_REQUESTS (default 100) creates one
 * at a time (concurrency 1: latency, not queueing) and times, per request, the spans the server spends in each
 * port it calls: the nonce store's conditional write, the content store's manifest write, the listing's
 * conditional write; the client's EIP-712 signing is timed separately on the same messages. The spans are
 * measured by wrapping the runtime's own adapter instances (nothing is replaced), so what is left over is
 * parsing, signature recovery, routing, the loopback HTTP round trip and the event loop.
 * Writes bench/results/profile-write.json.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet } from 'ethers';
import { startStack } from '../stack/stack.js';
import { getRuntime } from '../functions/_lib/runtime.js';
import { signRequest } from '../shared/auth/signedRequest.js';
import { ProvenaClient } from '../shared/sdk/client.js';
import { exampleListing } from '../cli/example-listing.js';
import { freePort, percentile, runLoad, startFloor } from './lib/load.js';

const N = Number(process.env.BENCH_PROFILE_REQUESTS ?? 100);
const here = dirname(fileURLToPath(import.meta.url));

/** Accumulates the time spent in `obj[name]` per request into `spans[label]`. */
function wrap<T extends object>(obj: T, name: keyof T & string, label: string, spans: Map<string, number>): void {
  const original = (obj as Record<string, unknown>)[name] as (...args: unknown[]) => Promise<unknown>;
  (obj as Record<string, unknown>)[name] = async (...args: unknown[]) => {
    const t0 = performance.now();
    try {
      return await original.apply(obj, args);
    } finally {
      spans.set(label, (spans.get(label) ?? 0) + performance.now() - t0);
    }
  };
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'provena-bench-profile-'));
  const stack = await startStack({
    ...process.env,
    PROVENA_DATA_DIR: join(dataDir, 'data'),
    PROVENA_API_PORT: String(await freePort()),
    PROVENA_CHAIN_PORT: String(await freePort()),
    PROVENA_DYNAMODB_PORT: String(await freePort()),
    PROVENA_S3_PORT: String(await freePort()),
    PROVENA_LOG_LEVEL: 'SILENT',
    // The stack's per-client rate limit would answer 429 to a load generator: off, as on a private bench.
    PROVENA_RATE_LIMIT_RPS: '0',
  });
  try {
    const { info } = stack;
    const rt = await getRuntime();
    const spans = new Map<string, number>();
    wrap(rt.verify.nonces, 'consume', 'nonce store (conditional put)', spans);
    wrap(rt.listings.content, 'addJson', 'manifest write (content store)', spans);
    wrap(rt.listings.datasets, 'create', 'listing write (conditional put)', spans);
    const wallet = Wallet.createRandom();
    const client = new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, signer: wallet });
    const token = info.deployment.contracts.PaymentToken!;
    const body = (i: number) => ({ ...exampleListing(wallet.address, token), title: `profile #${i}` });
    for (let i = 0; i < 20; i++) await client.createDataset(body(-i - 1)); // warm-up, untimed
    spans.clear();
    // The floor: the same client signing the same request to a bare node:http server, one at a time.
    const floor = await startFloor();
    const floorClient = new ProvenaClient({ baseUrl: floor.url, chainId: info.chainId, signer: wallet });
    const floorRun = await runLoad(N, 1, 20, async (i) => void (await floorClient.request('POST', '/v1/datasets', { body: body(i), signed: true })));
    await floor.close();
    const totals: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await client.createDataset(body(i));
      totals.push(performance.now() - t0);
    }
    // Client signing alone, same bodies: what the SDK does before the request leaves.
    const s0 = performance.now();
    for (let i = 0; i < N; i++) await signRequest(wallet, { chainId: info.chainId, method: 'POST', path: '/v1/datasets', body: JSON.stringify(body(i)) });
    const signMs = (performance.now() - s0) / N;
    totals.sort((a, b) => a - b);
    const meanTotal = totals.reduce((a, b) => a + b, 0) / N;
    const parts = [...spans.entries()].map(([span, ms]) => ({ span, meanMs: +(ms / N).toFixed(2) }));
    parts.push({ span: 'client EIP-712 signing (measured apart)', meanMs: +signMs.toFixed(2) });
    const accounted = parts.reduce((a, p) => a + p.meanMs, 0);
    parts.push({ span: 'the rest: HTTP round trip, parsing, zod, signature recovery, routing, event loop', meanMs: +(meanTotal - accounted).toFixed(2) });
    const out = {
      bench: 'profile-write',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, node: process.version, loadavg1: +loadStart.toFixed(2), loadavg1End: +loadavg()[0]!.toFixed(2) },
      route: 'POST /v1/datasets (signed, SDK createDataset), concurrency 1',
      requests: N,
      p50Ms: +percentile(totals, 50).toFixed(2),
      p99Ms: +percentile(totals, 99).toFixed(2),
      meanMs: +meanTotal.toFixed(2),
      floorP50Ms: floorRun.p50Ms,
      floor: 'the same SDK client signing the same POST to a bare node:http server answering {}, one at a time',
      spans: parts,
    };
    await writeFile(join(here, 'results', 'profile-write.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
