/**
 * The shape every benchmark's headline numbers take in bench/results/summary.json, and the machine they were
 * measured on. The README table and the charts under docs/ are rendered from these alone (bench/render.ts).
 */
import { cpus, loadavg, totalmem } from 'node:os';

/** One measured figure with the baseline it is read against. */
export interface Figure {
  /** Stable key, e.g. `crypto.encrypt`. */
  id: string;
  /** The row's label in the README table. */
  label: string;
  value: number;
  unit: string;
  /** Which way is better for `value`. */
  better: 'higher' | 'lower';
  /**
   * What `value` is compared with. `sameRun` is false only for deterministic figures (gas) read against
   * published anchors or targets.
   */
  baseline?: { label: string; value: number; sameRun: boolean };
  /**
   * Ours as a fraction of the baseline's performance: value / baseline for higher-is-better figures,
   * baseline / value for lower-is-better ones, so 1 means "as good as the baseline" either way.
   */
  ratio?: number;
  /** The target for this figure, and whether this run met it. */
  target?: { text: string; met: boolean };
}

/** The machine a run measured, and how busy it was. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-, 5- and 15-minute load averages when the run started. */
  loadavgStart: number[];
  /** The same when it finished. */
  loadavgEnd?: number[];
}

/** The machine now (start of a run). */
export function machineNow(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavgStart: loadavg().map((l) => +l.toFixed(2)),
  };
}

/** `a / b`, or `b / a` when lower is better, to 3 decimals. */
export function ratioOf(value: number, baseline: number, better: Figure['better']): number {
  return +(better === 'higher' ? value / baseline : baseline / value).toFixed(3);
}

/** A figure with its ratio filled in from its baseline. */
export function figure(f: Omit<Figure, 'ratio'>): Figure {
  return f.baseline === undefined || f.baseline.value === 0 ? f : { ...f, ratio: ratioOf(f.value, f.baseline.value, f.better) };
}

/** 1-minute load average statistics over a bench. */
export interface LoadStats {
  start: number;
  end: number;
  min: number;
  max: number;
  mean: number;
  samples: number;
}

/** One bench's entry in summary.json. */
export interface BenchSummary {
  ok: boolean;
  title: string;
  exitCode?: number;
  seconds: number;
  /** When it ran (a subset run keeps the others' older entries). */
  ranAt: string;
  loadavg1: LoadStats;
  figures: Figure[];
}

/** bench/results/summary.json. */
export interface Summary {
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  note: string;
  /** The BENCH_* variables in effect (sizes and counts of a reduced run). */
  settings?: Record<string, string>;
  benches: Record<string, BenchSummary>;
}
