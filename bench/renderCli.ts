/**
 * npm run bench:render — re-renders the README's performance table and the docs/ charts from the committed
 * bench/results/summary.json, without running any benchmark. `--check` only compares, and exits 1 when the
 * README block is not what the JSON renders to. `--refigure` first re-reads every bench's figures from its own
 * results file with the registry's current reader (after a change to bench/registry.ts, not to a measurement), and
 * adds an entry for a bench that ran on its own (npm run bench:<name>) and has none yet; an entry whose results file is
 * newer than it takes that run's time and load.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentBlock, renderAll, renderTable } from './render.js';
import type { Summary } from './lib/figures.js';
import { BENCHES } from './registry.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const summaryFile = join(root, 'bench', 'results', 'summary.json');
const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
if (process.argv.includes('--refigure')) {
  for (const b of BENCHES) {
    const entry = summary.benches[b.name];
    const file = join(root, 'bench', 'results', `${b.name}.json`);
    if (entry?.ok) {
      const json = JSON.parse(readFileSync(file, 'utf8'));
      entry.figures = b.figures(json);
      // A bench re-run on its own since the suite ran: its row takes that run's time and load.
      const at = json.measuredAt ?? json.generatedAt ?? json.date;
      const start = json.machine?.loadavgStart?.[0] ?? json.machine?.loadavg1;
      const end = json.machine?.loadavgEnd?.[0] ?? json.machine?.loadavg1End ?? start;
      if (typeof at === 'string' && at > entry.ranAt && typeof start === 'number' && typeof end === 'number') {
        entry.ranAt = at;
        entry.loadavg1 = { start, end, min: Math.min(start, end), max: Math.max(start, end), mean: +((start + end) / 2).toFixed(2), samples: 2 };
        if (typeof json.seconds === 'number') entry.seconds = Math.round(json.seconds);
      }
    }
    else if (!entry && existsSync(file)) {
      // A bench run on its own (npm run bench:<name>) before it ever ran in the suite: its entry is built from its
      // results file, which must then say when it ran, how long it took and the load average (as bench/worker.ts does).
      const json = JSON.parse(readFileSync(file, 'utf8'));
      const start = json.machine?.loadavgStart?.[0];
      const end = json.machine?.loadavgEnd?.[0];
      if (typeof json.measuredAt !== 'string' || typeof start !== 'number' || typeof end !== 'number') continue;
      summary.benches[b.name] = {
        ok: true,
        title: b.title,
        seconds: Math.round(json.seconds ?? 0),
        ranAt: json.measuredAt,
        loadavg1: { start, end, min: Math.min(start, end), max: Math.max(start, end), mean: +((start + end) / 2).toFixed(2), samples: 2 },
        figures: b.figures(json),
      };
    }
  }
  writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
}
if (process.argv.includes('--check')) {
  const same = currentBlock(readFileSync(join(root, 'README.md'), 'utf8')) === renderTable(summary);
  console.log(same ? 'README performance table matches bench/results/summary.json' : 'README performance table differs from bench/results/summary.json: run npm run bench:render');
  process.exit(same ? 0 : 1);
}
console.log(`rendered ${renderAll(summary).join(', ')}`);
