/**
 * Every benchmark `npm run bench` runs, in order: the script, the results file it writes, and how its headline
 * figures are read out of that file. A new benchmark is one entry here (its script writes
 * `bench/results/<name>.json`; `figures` turns that file into {@link Figure}s), and the README table and charts
 * pick it up from summary.json.
 *
 * The worker pipeline and DP-SGD figures come from one entry, `worker` (bench/worker.ts: `worker.*` and `dp.*`).
 */
import { figure, type Figure } from './lib/figures.js';

/**
 * A bench's own results JSON. `any` is safe here: every field is read where a figure is built, and the renderer
 * refuses a figure whose value is not a finite number (a renamed field fails the render, not silently).
 */
type BenchJson = any;

/** One benchmark of the suite. */
export interface BenchModule {
  /** Short name: `BENCH_ONLY=name,...` selects it; its results file is `bench/results/<name>.json`. */
  name: string;
  /** What it measures, one line (printed by the runner). */
  title: string;
  /** Arguments to `tsx` (script path first, or node flags then the script). */
  args: string[];
  /** Headline figures from its results file. */
  figures(result: BenchJson): Figure[];
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const met = (ratio: number | undefined, min: number) => ratio !== undefined && ratio >= min;

/** Crypto: the chunked AEAD against raw GCM and against the format's own floor; S3 phases against transport only. */
function cryptoFigures(c: BenchJson): Figure[] {
  const out: Figure[] = [];
  for (const p of c.phases ?? []) {
    if (p.phase === 'encrypt' || p.phase === 'decrypt') {
      const f = figure({ id: `crypto.${p.phase}`, label: `${p.phase} (memory, ${c.bytes / 2 ** 20} MiB)`, value: p.oursMiBps, unit: 'MiB/s', better: 'higher', baseline: { label: `raw AES-256-GCM ${p.phase}, same bytes`, value: p.rawMiBps, sameRun: true } });
      out.push({ ...f, target: { text: `≥ ${pct(0.9)} of raw GCM`, met: met(f.ratio, 0.9) } });
      if (p.floorMiBps !== undefined) {
        out.push(figure({ id: `crypto.${p.phase}.floor`, label: `${p.phase}: vs the format's floor`, value: p.oursMiBps, unit: 'MiB/s', better: 'higher', baseline: { label: 'raw GCM + SHA-256 of each chunk, one pass, same bytes', value: p.floorMiBps, sameRun: true } }));
      }
      const bound = p.info?.bound as { cores: number; minSeconds: number } | undefined;
      if (p.phase === 'decrypt' && bound?.minSeconds) {
        const best = c.bytes / 2 ** 20 / bound.minSeconds;
        out.push(figure({ id: 'crypto.decrypt.bound', label: `decrypt: vs the best ${bound.cores} cores allow`, value: p.oursMiBps, unit: 'MiB/s', better: 'higher', baseline: { label: `the floor's CPU seconds spread over ${bound.cores} cores (never faster than raw GCM)`, value: +best.toFixed(1), sameRun: true } }));
      }
    } else if (p.variants?.transportOnly) {
      const f = figure({ id: `crypto.${p.phase}`, label: `${p.phase} (embedded S3)`, value: p.oursMiBps, unit: 'MiB/s', better: 'higher', baseline: { label: `S3 transport alone, same bytes, no crypto`, value: p.variants.transportOnly.MiBps, sameRun: true } });
      out.push(p.phase === 'download+decrypt' ? { ...f, target: { text: `≥ ${pct(0.95)} of transport`, met: met(f.ratio, 0.95) } } : f);
    }
  }
  return out;
}

function apiFigures(a: BenchJson): Figure[] {
  const out: Figure[] = [];
  for (const r of a.routes ?? []) {
    const floor = r.floor ?? { label: 'bare node:http {} (same client, same run)', reqPerSec: a.floor.getReqPerSec, p50Ms: undefined };
    out.push(figure({ id: `api.${r.id ?? r.route}.rps`, label: `${r.route}: throughput (${r.concurrency} in flight)`, value: r.reqPerSec, unit: 'req/s', better: 'higher', baseline: { label: floor.label, value: floor.reqPerSec, sameRun: true } }));
    if (r.p50Ms !== undefined && floor.p50Ms !== undefined) {
      const f = figure({ id: `api.${r.id ?? r.route}.p50`, label: `${r.route}: p50 (p99 ${r.p99Ms} ms; ${r.concurrency} in flight)`, value: r.p50Ms, unit: 'ms', better: 'lower', baseline: { label: `${floor.label}: p50`, value: floor.p50Ms, sameRun: true } });
      out.push(r.targetP50Ms === undefined ? f : { ...f, target: { text: `p50 < ${r.targetP50Ms} ms`, met: r.p50Ms < r.targetP50Ms } });
    }
  }
  if (a.verify) {
    out.push(figure({ id: 'api.verify', label: 'verifySignedRequest (in-memory nonces)', value: a.verify.oursPerSec, unit: '/s', better: 'higher', baseline: { label: 'raw ethers.verifyTypedData, same messages', value: a.verify.rawPerSec, sameRun: true } }));
  }
  return out;
}

/** Gas targets of issue 13, in total gasUsed (what the sender pays) unless `execution` says otherwise. */
const GAS_TARGETS: Record<string, { max: number; execution?: boolean }> = {
  'report, 1 dataset': { max: 50_000 },
  'repeat claim (Merkle, no proof)': { max: 45_000 },
  'open job': { max: 100_000, execution: true },
};
/** Published anchors (deterministic figures have no same-run baseline). */
const GAS_ANCHORS: Record<string, { label: string; value: number }> = {
  'open job': { label: 'Sablier Flow create (execution)', value: 127_000 },
  'withdraw (explicit split, repeat)': { label: 'Sablier Flow withdraw (execution)', value: 46_000 },
};

function gasFigures(g: BenchJson): Figure[] {
  const out: Figure[] = [];
  for (const r of g.rows ?? []) {
    const target = GAS_TARGETS[r.operation];
    const anchor = GAS_ANCHORS[r.operation] ?? (String(r.operation).startsWith('first claim with proof') ? { label: 'Uniswap MerkleDistributor claim, 100k leaves (execution)', value: 79_000 } : undefined);
    const shown = ['report, 5 datasets', 'report, 1 dataset of', 'open job (', 'final report', 'withdraw (explicit split, first)'];
    if (!target && !anchor && !shown.some((p) => String(r.operation).startsWith(p))) continue;
    const useExecution = target?.execution ?? anchor !== undefined;
    const value = useExecution ? r.executionGas : r.gasUsed;
    const f = figure({
      id: `gas.${r.operation}`,
      label: `${r.operation} (${useExecution ? 'execution' : 'total gasUsed'})`,
      value,
      unit: 'gas',
      better: 'lower',
      ...(anchor ? { baseline: { label: anchor.label, value: anchor.value, sameRun: false } } : {}),
    });
    out.push(target ? { ...f, target: { text: `≤ ${target.max.toLocaleString('en-US')}`, met: value <= target.max } } : f);
  }
  return out;
}

function indexerFigures(x: BenchJson): Figure[] {
  return [figure({ id: 'indexer.events', label: `indexer: events ingested (${x.events} events, ${x.blocks} blocks)`, value: x.ours.eventsPerSec, unit: 'events/s', better: 'higher', baseline: { label: 'bare eth_getLogs loop, same blocks and batch', value: x.bare.eventsPerSec, sameRun: true } })];
}

function lambdaFigures(x: BenchJson): Figure[] {
  const out = [
    figure({ id: 'lambda.bundle.median', label: `Lambda bundles: median size (${x.bundles.length} handlers; largest ${x.largest.name} ${x.largest.kib} KiB)`, value: x.medianKiB, unit: 'KiB', better: 'lower', ...(x.before ? { baseline: { label: `same bundles built from ${x.before.commit}`, value: x.before.medianKiB, sameRun: true } } : {}) }),
    figure({ id: 'lambda.import.median', label: 'Lambda cold import: median over handlers (fresh node process)', value: x.medianImportMs, unit: 'ms', better: 'lower', baseline: { label: 'fresh node process importing an empty module', value: x.floorImportMs, sameRun: true } }),
  ];
  // Since the per-route composition: the import's own time (Node's start-up excluded), the figure the target is about.
  if (x.medianInProcessImportMs !== undefined) {
    const f = figure({ id: 'lambda.import.inProcess.median', label: `Lambda cold import, the import alone: median over handlers (max ${x.maxInProcessImportMs} ms; CPU median ${x.medianImportCpuMs} ms)`, value: x.medianInProcessImportMs, unit: 'ms', better: 'lower', ...(x.before ? { baseline: { label: `same bundles built from ${x.before.commit}`, value: x.before.medianInProcessImportMs, sameRun: true } } : {}) });
    out.push({ ...f, target: { text: 'every bundle < 150 ms', met: x.maxInProcessImportMs < 150 } });
  }
  return out;
}

function profileFigures(x: BenchJson): Figure[] {
  const f = figure({ id: 'profile.write.p50', label: `${x.route}: p50 (p99 ${x.p99Ms} ms)`, value: x.p50Ms, unit: 'ms', better: 'lower', ...(x.floorP50Ms ? { baseline: { label: 'floor signed POST (bare node:http), p50', value: x.floorP50Ms, sameRun: true } } : {}) });
  const spans: Figure[] = (x.spans ?? []).map((sp: { span: string; meanMs: number }, i: number) => figure({ id: `profile.write.span${i}`, label: `↳ mean time in: ${sp.span}`, value: sp.meanMs, unit: 'ms', better: 'lower' }));
  return [{ ...f, target: { text: 'p50 < 20 ms', met: x.p50Ms < 20 } }, ...spans];
}

/** Worker pipeline (issue 10) and the trainer's pipe and DP-SGD overheads (issue 11), from bench/worker.ts. */
function workerFigures(x: BenchJson): Figure[] {
  const out: Figure[] = [];
  const p = x.pipeline;
  const rows = `${x.settings.datasets} × ${x.settings.rowsPerDataset} rows, ${x.settings.recipe}`;
  const f = figure({ id: 'worker.pipeline', label: `one job through the secure pipeline (${rows})`, value: p.ms / 1000, unit: 's', better: 'lower', baseline: { label: 'same trainer, same rows (plaintext), recipe and checkpoint cadence, no stack', value: p.baselineMs / 1000, sameRun: true } });
  out.push({ ...f, target: { text: '≤ 1.10× the bare trainer', met: p.ms / p.baselineMs <= 1.1 } });
  const ph = p.phasesMs;
  const spans: [string, number | undefined, number | undefined][] = [
    ['worker process start-up to its first log line', 0, ph.workerStarted],
    ['lease + attestation', ph.workerStarted, ph.attested],
    ['key release, download, decrypt and verify, anonymize (to the trainer\'s plan)', ph.attested, ph.training],
    ['training, checkpoints, metering (plan to job done)', ph.training, ph.jobDone],
  ];
  for (const [i, [label, a, b]] of spans.entries()) {
    if (a !== undefined && b !== undefined) out.push(figure({ id: `worker.pipeline.phase${i}`, label: `↳ ${label}`, value: +((b - a) / 1000).toFixed(2), unit: 's', better: 'lower' }));
  }
  const k = x.keyRelease;
  out.push(figure({ id: 'worker.keyRelease.p50', label: `key release for an attested job key: p50 (p99 ${k.p99Ms} ms; ${k.n} sequential)`, value: k.p50Ms, unit: 'ms', better: 'lower', baseline: { label: 'GET /v1/health on the same stack, p50', value: k.health.p50Ms, sameRun: true } }));
  out.push(figure({ id: 'worker.keyRelease.floor', label: 'key release p50 against a bare node:http floor', value: k.p50Ms, unit: 'ms', better: 'lower', baseline: { label: 'bare node:http {}, p50', value: k.floor.p50Ms, sameRun: true } }));
  const c = x.checkpoint;
  out.push(figure({ id: 'worker.checkpoint', label: `checkpoint encrypt + upload + commit: p50 (${(c.encryptedBytes / 1024).toFixed(1)} KiB encrypted; p99 ${c.p99Ms} ms)`, value: c.p50Ms, unit: 'ms', better: 'lower' }));
  out.push(figure({ id: 'worker.sigterm', label: 'SIGTERM to the lease released (job in progress; checkpoint, report, release)', value: x.sigterm.toLeaseReleasedMs / 1000, unit: 's', better: 'lower' }));
  out.push(figure({ id: 'worker.anonymizer', label: `anonymizer on the same rows (${x.anonymizer.rows} rows, k-anonymity + PII redaction)`, value: x.anonymizer.rowsPerSec, unit: 'rows/s', better: 'higher' }));
  for (const [name, r] of Object.entries<any>(x.trainer?.recipes ?? {})) {
    const pipe = figure({ id: `dp.${name}.pipe`, label: `${name}: samples/s through the pipe (CPU)`, value: r.samplesPerSecThroughPipe, unit: 'samples/s', better: 'higher', baseline: { label: 'the trainer reading the same rows from memory', value: r.samplesPerSecInMemory, sameRun: true } });
    out.push({ ...pipe, target: { text: `≥ ${pct(0.9)} of memory`, met: met(pipe.ratio, 0.9) } });
    const samples = x.trainer.settings.rows * x.trainer.settings.epochs;
    const combined = samples / (samples / r.samplesPerSecThroughPipe + x.trainer.settings.rows / x.anonymizer.rowsPerSec);
    out.push(figure({ id: `dp.${name}.anonPipe`, label: `↳ anonymizer + pipe (derived: anonymizer once per row, then the pipe's epochs)`, value: +combined.toFixed(1), unit: 'samples/s', better: 'higher', baseline: { label: 'the trainer reading the same rows from memory', value: r.samplesPerSecInMemory, sameRun: true } }));
    out.push(figure({ id: `dp.${name}.dp`, label: `${name}: DP-SGD step time (Opacus reports 1.2-1.4×)`, value: r.stepMsDpSgd, unit: 'ms', better: 'lower', baseline: { label: 'plain SGD step, same batch', value: r.stepMsSgd, sameRun: true } }));
  }
  return out;
}

/** The suite, in the order it runs (cheapest and most deterministic first). */
export const BENCHES: readonly BenchModule[] = [
  { name: 'gas', title: 'gas of every contract operation (Hardhat in-process)', args: ['bench/gas.ts'], figures: gasFigures },
  { name: 'crypto', title: 'data plane: chunked AEAD, upload and download against raw GCM and S3 transport', args: ['--expose-gc', 'bench/crypto.ts'], figures: cryptoFigures },
  { name: 'api', title: 'API reads and writes on the embedded stack against a bare node:http floor', args: ['bench/api.ts'], figures: apiFigures },
  { name: 'profile-write', title: 'where a signed POST /v1/datasets spends its time', args: ['bench/profileWrite.ts'], figures: profileFigures },
  { name: 'indexer', title: 'chain indexer ingestion against a bare eth_getLogs loop', args: ['bench/indexer.ts'], figures: indexerFigures },
  { name: 'lambda', title: 'Lambda bundle sizes and cold imports', args: ['bench/lambda.ts'], figures: lambdaFigures },
  { name: 'worker', title: 'worker pipeline against the bare trainer; key release, checkpoint, SIGTERM; trainer pipe and DP-SGD', args: ['bench/worker.ts'], figures: workerFigures },
];
