/**
 * npm run bench — runs every benchmark of bench/registry.ts one after another, each in its own process (so one's
 * memory does not show in another's RSS), then writes bench/results/summary.json: the machine (CPU model, cores,
 * memory, Node), the load averages at the start and end and the 1-minute load sampled every 5 s during each bench
 * (the cores are shared: read every ratio with it), and each bench's figures with their same-run baselines and
 * ratios. Then it renders the README's performance table and the charts under docs/ from that file
 * (bench/render.ts).
 *
 * Bounded and loopback-only: every server a bench starts listens on 127.0.0.1, every workload has a fixed size
 * (BENCH_* variables of each bench). `prebench` has already built the contracts. BENCH_ONLY=crypto,api runs a
 * subset (the figures of the others are kept from the previous summary). Exits non-zero when any bench failed
 * (the others still run).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineNow, type BenchSummary, type LoadStats, type Summary } from './lib/figures.js';
import { BENCHES } from './registry.js';
import { renderAll } from './render.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const results = join(here, 'results');

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

function previous(): Summary | undefined {
  const file = join(results, 'summary.json');
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Summary;
    return s.benches && typeof s.benches === 'object' ? s : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names unknown benches: ${unknown.join(', ')} (known: ${BENCHES.map((b) => b.name).join(', ')})`);
  const machine = machineNow();
  const startedAt = new Date().toISOString();
  const benches: Record<string, BenchSummary> = only ? { ...(previous()?.benches ?? {}) } : {};
  let failed = 0;
  for (const b of BENCHES) {
    if (only && !only.includes(b.name)) continue;
    console.log(`\n=== bench:${b.name}: ${b.title} ===`);
    const sampler = loadSampler();
    const t0 = performance.now();
    const code = await run(b.args);
    const seconds = +((performance.now() - t0) / 1000).toFixed(1);
    const load = sampler.stop();
    const base = { title: b.title, seconds, ranAt: new Date().toISOString(), loadavg1: load };
    if (code !== 0) {
      failed += 1;
      benches[b.name] = { ok: false, exitCode: code, figures: [], ...base };
      continue;
    }
    const figures = b.figures(JSON.parse(readFileSync(join(results, `${b.name}.json`), 'utf8')));
    benches[b.name] = { ok: true, figures, ...base };
  }
  const summary: Summary = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadavgEnd: loadavg().map((l) => +l.toFixed(2)) },
    note: 'cores shared with other work: compare ratios (same-run baselines), not absolute numbers',
    settings: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('BENCH_') && e[0] !== 'BENCH_ONLY' && e[1] !== undefined)),
    benches,
  };
  writeFileSync(join(results, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const written = renderAll(summary);
  console.log(`\nload average ${machine.loadavgStart.join(' ')} at the start, ${summary.machine.loadavgEnd!.join(' ')} at the end -> bench/results/summary.json; rendered ${written.join(', ')}`);
  if (failed > 0) {
    console.error(`${failed} bench(es) failed`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
