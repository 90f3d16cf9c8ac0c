/**
 * npm run bench:profile-write — where the time of one signed `POST /v1/datasets` goes on the embedded stack.
 *
 * Starts the stack in-process (as bench/api.ts does), then sends BENCH_PROFILE_REQUESTS (default 100) creates one
 * at a time (concurrency 1: latency, not queueing) and times, per request, the spans the server spends in each
 * port it calls: the nonce store's conditional write, the content store's manifest write (which runs while the
 * nonce is written), the listing's conditional write, and their union as they ran; the client's EIP-712 signing is
 * timed separately on the same messages. The spans are
 * measured by wrapping the runtime's own adapter instances (nothing is replaced), so what is left over is
 * parsing, signature recovery, routing, the loopback HTTP round trip and the event loop.
 * Writes bench/results/profile-write.json.
 */
import { Session } from 'node:inspector/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet } from 'ethers';
import { startFreshStack } from '../stack/freshStack.js';
import { getRuntime } from '../functions/_lib/runtime.js';
import { signRequest } from '../shared/auth/signedRequest.js';
import { ProvenaClient } from '../shared/sdk/client.js';
import { exampleListing } from '../cli/example-listing.js';
import { percentile, runLoad, startFloor } from './lib/load.js';
import { runMain } from './lib/main.js';

const N = Number(process.env.BENCH_PROFILE_REQUESTS ?? 100);
/** Where to also write the timed loop's raw V8 CPU profile (open it in Chrome DevTools), if set. */
const CPU_PROFILE_OUT = process.env.BENCH_PROFILE_CPUPROFILE;

/** A V8 CPU profile as `Profiler.stop` returns it (the fields read here). */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Where the CPU time of the timed loop went, by the first matching frame on each sample's stack (leaf first):
 * ordered so that a sample inside dynalite counts as dynalite even when the AWS SDK called it.
 */
const CATEGORIES: [string, RegExp][] = [
  ['dynalite (embedded DynamoDB server: validation, LevelDB)', /node_modules\/(dynalite|levelup|leveldown|classic-level|abstract-level|memdown|lazy|once|big\.js)\//],
  ['AWS SDK client (middleware, SigV4, (de)serialization)', /node_modules\/@(aws-sdk|smithy|aws-crypto)\//],
  ['secp256k1 and keccak (server recovery + client signing)', /node_modules\/(@noble|ethers)\//],
  ['content store (UnixFS importer, blockstore)', /node_modules\/(ipfs-unixfs|blockstore|multiformats|@ipld|uint8arrays|it-|interface-|hamt|protons)/],
  ['zod validation', /node_modules\/zod\//],
  ['logging (Powertools logger)', /node_modules\/@aws-lambda-powertools\/logger\//],
  ['our code (handler, use case, adapters, SDK client)', /\/(shared|functions|stack|bench)\//],
  ['Node HTTP, streams, fs, timers (runtime internals)', /^node:/],
];

/** Self time per category (ms); samples with no matching frame count as `other` (GC, idle is left out). */
function breakdown(profile: CpuProfile): { category: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i): void => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id)!;
    let category: string | undefined;
    // Stopping the profiler serializes the profile inside this process: its samples are not the requests'.
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)!.callFrame.url === 'node:inspector') return;
    if (leaf.callFrame.functionName === '(idle)') category = 'idle (waiting: I/O, timers)';
    else if (leaf.callFrame.functionName === '(garbage collector)') category = 'garbage collector';
    for (let cur: number | undefined = id; category === undefined && cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url;
      category = CATEGORIES.find(([, re]) => re.test(url))?.[0];
    }
    category ??= 'other (native, program)';
    totals.set(category, (totals.get(category) ?? 0) + dt);
  });
  return [...totals.entries()].map(([category, ms]) => ({ category, ms })).sort((a, b) => b.ms - a.ms);
}
const here = dirname(fileURLToPath(import.meta.url));

/** Accumulates the time spent in `obj[name]` per request into `spans[label]`, and each call's interval into `intervals`. */
function wrap<T extends object>(obj: T, name: keyof T & string, label: string, spans: Map<string, number>, intervals: [number, number][]): void {
  const original = (obj as Record<string, unknown>)[name] as (...args: unknown[]) => Promise<unknown>;
  (obj as Record<string, unknown>)[name] = async (...args: unknown[]) => {
    const t0 = performance.now();
    try {
      return await original.apply(obj, args);
    } finally {
      const t1 = performance.now();
      spans.set(label, (spans.get(label) ?? 0) + t1 - t0);
      intervals.push([t0, t1]);
    }
  };
}

/** The length of the union of `intervals` (the nonce's write and the content's overlap: their sum would count twice). */
function unionLength(intervals: readonly [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'provena-bench-profile-'));
  const stack = await startFreshStack(join(dataDir, 'data'), {
    // The stack's per-client rate limit would answer 429 to a load generator: off, as on a private bench.
    PROVENA_RATE_LIMIT_RPS: '0',
  });
  try {
    const { info } = stack;
    const rt = await getRuntime();
    const spans = new Map<string, number>();
    const intervals: [number, number][] = [];
    wrap(rt.verify.nonces, 'consume', 'nonce store (conditional put)', spans, intervals);
    wrap(rt.listings.content, 'addJson', 'manifest write (content store), overlapping the nonce', spans, intervals);
    wrap(rt.listings.datasets, 'create', 'listing write (conditional put)', spans, intervals);
    const wallet = Wallet.createRandom();
    const client = new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, signer: wallet });
    const token = info.deployment.contracts.PaymentToken!;
    const body = (i: number) => ({ ...exampleListing(wallet.address, token), title: `profile #${i}` });
    for (let i = 0; i < 20; i++) await client.createDataset(body(-i - 1)); // warm-up, untimed
    spans.clear();
    intervals.length = 0;
    // The floor: the same client signing the same request to a bare node:http server, one at a time.
    const floor = await startFloor();
    const floorClient = new ProvenaClient({ baseUrl: floor.url, chainId: info.chainId, signer: wallet });
    const floorRun = await runLoad(N, 1, 20, async (i) => void (await floorClient.request('POST', '/v1/datasets', { body: body(i), signed: true })));
    await floor.close();
    const totals: number[] = [];
    let storage = 0; // per request: the union of its spans' intervals
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await client.createDataset(body(i));
      totals.push(performance.now() - t0);
      storage += unionLength(intervals);
      intervals.length = 0;
    }
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    session.disconnect();
    if (CPU_PROFILE_OUT) await writeFile(CPU_PROFILE_OUT, JSON.stringify(profile));
    const cpu = breakdown(profile).map(({ category, ms }) => ({ category, meanMsPerRequest: +(ms / N).toFixed(2) }));
    // Client signing alone, same bodies: what the SDK does before the request leaves.
    const s0 = performance.now();
    for (let i = 0; i < N; i++) await signRequest(wallet, { chainId: info.chainId, method: 'POST', path: '/v1/datasets', body: JSON.stringify(body(i)) });
    const signMs = (performance.now() - s0) / N;
    totals.sort((a, b) => a - b);
    const meanTotal = totals.reduce((a, b) => a + b, 0) / N;
    const parts = [...spans.entries()].map(([span, ms]) => ({ span, meanMs: +(ms / N).toFixed(2) }));
    parts.push({ span: 'storage, wall time (the spans above as they ran: the manifest write overlaps the nonce write)', meanMs: +(storage / N).toFixed(2) });
    parts.push({ span: 'client EIP-712 signing (measured apart)', meanMs: +signMs.toFixed(2) });
    parts.push({ span: 'the rest: HTTP round trip, parsing, zod, signature recovery, routing, event loop', meanMs: +(meanTotal - storage / N - signMs).toFixed(2) });
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
      cpuProfile: {
        what: 'V8 sampling profile (200 µs) of this process during the timed requests (client, API, dynalite and the content store share it), self time per request, by the first matching frame from the leaf (dynalite before the AWS SDK that calls it)',
        samplingIntervalUs: 200,
        categories: cpu,
      },
    };
    await writeFile(join(here, 'results', 'profile-write.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runMain(main);
