/**
 * npm run bench — runs bench/crypto.ts, bench/api.ts and bench/gas.ts one after another (each in its own process,
 * so one's memory does not show in another's RSS), then writes bench/results/summary.json: the machine (CPUs,
 * Node, memory), the 1-minute load average at the start and end and sampled every 5 s during each bench (the cores
 * are shared: read every ratio with it), and each bench's headline numbers, same-run baselines and ratios.
 *
 * `prebench` has already built the contracts. Settings pass through the environment: BENCH_CRYPTO_BYTES (default
 * 1 GiB) and the other BENCH_CRYPTO_* / BENCH_API_* / BENCH_MERKLE_RECIPIENTS variables of each bench;
 * BENCH_ONLY=crypto,api runs a subset. Exits non-zero when any bench failed (the others still run).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const results = join(here, 'results');

interface LoadStats {
  start: number;
  end: number;
  min: number;
  max: number;
  mean: number;
  samples: number;
}

/** Samples the 1-minute load average every 5 s until stopped. */
function loadSampler(): { stop(): LoadStats } {
  const samples = [loadavg()[0]!];
  const t = setInterval(() => samples.push(loadavg()[0]!), 5000);
  return {
    stop() {
      clearInterval(t);
      samples.push(loadavg()[0]!);
      const r = (x: number) => +x.toFixed(2);
      return {
        start: r(samples[0]!),
        end: r(samples[samples.length - 1]!),
        min: r(Math.min(...samples)),
        max: r(Math.max(...samples)),
        mean: r(samples.reduce((a, b) => a + b, 0) / samples.length),
        samples: samples.length,
      };
    },
  };
}

function run(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(tsx, args, { cwd: root, stdio: 'inherit', env: process.env });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.once('error', () => resolve(127));
  });
}

function readJson(name: string): Record<string, any> {
  return JSON.parse(readFileSync(join(results, name), 'utf8')) as Record<string, any>;
}

/** The numbers worth quoting from each bench's own results file. */
const headline: Record<string, () => unknown> = {
  crypto() {
    const c = readJson('crypto.json');
    return {
      bytes: c.bytes,
      chunkSize: c.chunkSize,
      target: c.target,
      phases: (c.phases as Record<string, any>[]).map((p) => ({
        phase: p.phase,
        oursMiBps: p.oursMiBps,
        baseline: p.baseline,
        rawMiBps: p.rawMiBps,
        ratio: p.ratio,
        oursPeakRssMiB: p.oursPeakRssMiB,
        oursRssGrowthMiB: p.oursRssGrowthMiB,
        oursPeakRssHalvesMiB: [p.oursPeakRssFirstHalfMiB, p.oursPeakRssSecondHalfMiB],
        ...(p.variants?.transportOnly
          ? { transportOnlyMiBps: p.variants.transportOnly.MiBps, ratioToTransportOnly: +(p.oursMiBps / p.variants.transportOnly.MiBps).toFixed(3) }
          : {}),
      })),
    };
  },
  api() {
    const a = readJson('api.json');
    return {
      requests: a.requests,
      concurrency: a.concurrency,
      floor: { what: a.floor.what, getReqPerSec: a.floor.getReqPerSec, signedPostReqPerSec: a.floor.signedPostReqPerSec },
      routes: (a.routes as Record<string, any>[]).map((r) => ({
        route: r.route,
        reqPerSec: r.reqPerSec,
        p50Ms: r.p50Ms,
        p95Ms: r.p95Ms,
        ratioToFloor: r.ratioToFloor,
        ...(r.ratioToSignedFloor === undefined ? {} : { ratioToSignedFloor: r.ratioToSignedFloor }),
      })),
      verify: a.verify,
    };
  },
  gas() {
    const g = readJson('gas.json');
    return {
      hardfork: g.hardfork,
      compiler: g.compiler,
      rows: (g.rows as Record<string, any>[]).filter((r) => r.target !== undefined || r.anchor !== undefined),
    };
  },
};

const benches: { name: string; args: string[] }[] = [
  { name: 'crypto', args: ['--expose-gc', 'bench/crypto.ts'] },
  { name: 'api', args: ['bench/api.ts'] },
  { name: 'gas', args: ['bench/gas.ts'] },
];

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const overall = loadSampler();
  const startedAt = new Date().toISOString();
  const out: Record<string, unknown> = {};
  let failed = 0;
  for (const b of benches) {
    if (only && !only.includes(b.name)) continue;
    console.log(`\n=== bench:${b.name} ===`);
    const sampler = loadSampler();
    const t0 = performance.now();
    const code = await run(b.args);
    const seconds = +((performance.now() - t0) / 1000).toFixed(1);
    const load = sampler.stop();
    if (code !== 0) {
      failed += 1;
      out[b.name] = { ok: false, exitCode: code, seconds, loadavg1: load };
      continue;
    }
    out[b.name] = { ok: true, seconds, loadavg1: load, headline: headline[b.name]!() };
  }
  const load = overall.stop();
  const summary = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      note: 'cores shared with other work: compare ratios (same-run baselines), not absolute numbers',
    },
    loadavg1: load,
    benches: out,
  };
  writeFileSync(join(results, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nload average (1 min) start ${load.start}, end ${load.end}, ${load.min}..${load.max} (mean ${load.mean}) -> bench/results/summary.json`);
  if (failed > 0) {
    console.error(`${failed} bench(es) failed`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
