/**
 * Renders bench/results/summary.json into the README's performance table (between the markers below, so the
 * table cannot drift from the JSON) and into SVG charts under docs/. Pure string functions, plus
 * {@link renderAll} which writes the files; `npm run bench:render` runs it on the committed summary and
 * `npm run bench:render -- --check` fails when the README block differs from what the JSON renders to.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, Summary } from './lib/figures.js';

/** The README block's first line. */
export const BEGIN = '<!-- bench:begin (rendered by `npm run bench:render` from bench/results/summary.json: edit the JSON or the renderer, not this block) -->';
/** The README block's last line. */
export const END = '<!-- bench:end -->';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** 1234.5 -> "1,235"; 12.34 -> "12.3"; 1.234 -> "1.23". */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function row(bench: string, f: Figure): string {
  const ours = `${fmt(f.value)} ${f.unit}`;
  const base = f.baseline ? `${f.baseline.label}${f.baseline.sameRun ? '' : ' (published)'}: ${fmt(f.baseline.value)} ${f.unit}` : '';
  const ratio = f.ratio === undefined ? '' : `${(f.ratio * 100).toFixed(1)}%`;
  const target = f.target ? `${f.target.text}: ${f.target.met ? 'met' : '**not met**'}` : '';
  return `| ${cell(bench)} | ${cell(f.label)} | ${ours} | ${cell(base)} | ${ratio} | ${cell(target)} |`;
}

/** When the figures were measured: one run, or the span of a run and later subset runs (`BENCH_ONLY`). */
function runSpan(summary: Summary): string {
  const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
  const times = Object.values(summary.benches).map((b) => b.ranAt).sort();
  const first = times[0] ?? summary.startedAt;
  const last = times[times.length - 1] ?? summary.startedAt;
  return minute(first) === minute(last) || times.length < 2 ? `Run of ${minute(first)} UTC` : `Benches run between ${minute(first)} and ${minute(last)} UTC`;
}

/** The Markdown table (with its machine and load line) for `summary`. */
export function renderTable(summary: Summary): string {
  const m = summary.machine;
  const lines = [
    `${runSpan(summary)} on ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; ` +
      `load average (1/5/15 min) ${m.loadavgStart.join(' / ')} at the start${m.loadavgEnd ? `, ${m.loadavgEnd.join(' / ')} at the end` : ''}. ` +
      `Ratios compare ours with a baseline measured in the same run (gas: with published anchors); ${summary.note}.` +
      (summary.settings && Object.keys(summary.settings).length > 0 ? ` Settings: ${Object.entries(summary.settings).map(([k, v]) => `${k}=${v}`).join(', ')}.` : ''),
    '',
    '| Bench (1-min load, mean) | Figure | Ours | Baseline | Ratio | Target |',
    '|---|---|---:|---|---:|---|',
  ];
  for (const [name, b] of Object.entries(summary.benches)) {
    const label = `${name} (${fmt(b.loadavg1.mean)})`;
    if (!b.ok) {
      lines.push(`| ${label} | failed (exit ${b.exitCode ?? '?'}) |  |  |  |  |`);
      continue;
    }
    for (const f of b.figures) lines.push(row(label, f));
  }
  return lines.join('\n');
}

/** `readme` with the text between {@link BEGIN} and {@link END} replaced by `block`. */
export function replaceBlock(readme: string, block: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README has no ${BEGIN} ... ${END} block`);
  return `${readme.slice(0, a)}${BEGIN}\n${block}\n${readme.slice(b)}`;
}

/** The text currently between the markers. */
export function currentBlock(readme: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README has no ${BEGIN} ... ${END} block`);
  return readme.slice(a + BEGIN.length + 1, b - 1);
}

// ------------------------------------------------------------------------------------------------ charts

/** One group of bars (a phase, a route). */
export interface BarGroup {
  label: string;
  bars: { series: string; value: number }[];
  /** A vertical tick drawn across the group (a target). */
  marker?: { label: string; value: number };
}

const COLORS = ['#2f6fdf', '#b0b7c3', '#e0892b', '#3a9d5d'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A horizontal grouped bar chart as a standalone SVG (no fonts or scripts loaded). */
export function barChart(title: string, unit: string, groups: readonly BarGroup[]): string {
  const series = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.series)))];
  const labelW = 420;
  const plotW = 420;
  const barH = 14;
  const gap = 12;
  const top = 48;
  const groupH = (g: BarGroup) => g.bars.length * (barH + 2) + gap;
  const height = top + groups.reduce((h, g) => h + groupH(g), 0) + 24;
  const max = Math.max(1, ...groups.flatMap((g) => [...g.bars.map((b) => b.value), g.marker?.value ?? 0])) * 1.15;
  const x = (v: number) => labelW + (v / max) * plotW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 120}" height="${height}" viewBox="0 0 ${labelW + plotW + 120} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  series.forEach((s, i) => {
    out.push(`<rect x="${8 + i * 190}" y="28" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`, `<text x="${22 + i * 190}" y="37">${esc(s)}</text>`);
  });
  let y = top;
  for (const g of groups) {
    const label = g.label.length > 64 ? `${g.label.slice(0, 63)}…` : g.label;
    out.push(`<text x="${labelW - 6}" y="${y + barH}" text-anchor="end">${esc(label)}</text>`);
    g.bars.forEach((b, i) => {
      const by = y + i * (barH + 2);
      const color = COLORS[series.indexOf(b.series) % COLORS.length];
      out.push(`<rect x="${labelW}" y="${by}" width="${Math.max(1, x(b.value) - labelW).toFixed(1)}" height="${barH}" fill="${color}"/>`);
      out.push(`<text x="${(x(b.value) + 4).toFixed(1)}" y="${by + barH - 3}">${esc(`${fmt(b.value)} ${unit}`)}</text>`);
    });
    if (g.marker) {
      const mx = x(g.marker.value).toFixed(1);
      const h = g.bars.length * (barH + 2);
      out.push(`<line x1="${mx}" y1="${y - 3}" x2="${mx}" y2="${y + h + 1}" stroke="#c62828" stroke-width="2" stroke-dasharray="4 2"/>`);
      out.push(`<text x="${mx}" y="${y + h + 10}" fill="#c62828" font-size="10" text-anchor="middle">${esc(g.marker.label)}</text>`);
    }
    y += groupH(g);
  }
  out.push(`<line x1="${labelW}" y1="${top - 4}" x2="${labelW}" y2="${y - gap + 4}" stroke="#333"/>`, '</svg>');
  return `${out.join('\n')}\n`;
}

const figuresOf = (s: Summary, bench: string) => (s.benches[bench]?.ok ? s.benches[bench]!.figures : []);

/** The charts: file name under docs/ -> SVG. A chart whose bench has no figures is left out. */
export function renderCharts(summary: Summary): Record<string, string> {
  const charts: Record<string, string> = {};
  const throughput = figuresOf(summary, 'crypto').filter((f) => f.unit === 'MiB/s' && f.baseline && !f.id.endsWith('.floor'));
  if (throughput.length > 0) {
    charts['bench-data-plane.svg'] = barChart(
      'Data plane throughput per phase (same run)',
      'MiB/s',
      throughput.map((f) => ({ label: f.label, bars: [{ series: 'ours', value: f.value }, { series: 'baseline (raw GCM / S3 transport)', value: f.baseline!.value }] })),
    );
  }
  const latency = [...figuresOf(summary, 'api'), ...figuresOf(summary, 'profile-write')].filter((f) => f.unit === 'ms' && f.baseline);
  if (latency.length > 0) {
    charts['bench-api-latency.svg'] = barChart(
      'API p50 latency against a bare node:http floor (same run)',
      'ms',
      latency.map((f) => ({ label: f.label.replace(/: p50.*$/, ''), bars: [{ series: 'ours', value: f.value }, { series: 'bare node:http floor', value: f.baseline!.value }] })),
    );
  }
  const gas = figuresOf(summary, 'gas');
  if (gas.length > 0) {
    charts['bench-gas.svg'] = barChart(
      'Gas per operation (red: target or published anchor)',
      'gas',
      gas.map((f) => {
        const max = f.target ? Number(f.target.text.replace(/[^0-9]/g, '')) : undefined;
        const marker = max ? { label: 'target', value: max } : f.baseline ? { label: 'anchor', value: f.baseline.value } : undefined;
        return { label: f.label, bars: [{ series: 'gas', value: f.value }], ...(marker ? { marker } : {}) };
      }),
    );
  }
  return charts;
}

/** Writes the README block and the charts; returns the paths written, relative to the repository root. */
export function renderAll(summary: Summary, repoRoot: string = root): string[] {
  const readmePath = join(repoRoot, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  writeFileSync(readmePath, replaceBlock(readme, renderTable(summary)));
  const written = ['README.md'];
  for (const [name, svg] of Object.entries(renderCharts(summary))) {
    writeFileSync(join(repoRoot, 'docs', name), svg);
    written.push(`docs/${name}`);
  }
  return written;
}
