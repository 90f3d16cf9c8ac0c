/**
 * npm run bench:render — re-renders the README's performance table and the docs/ charts from the committed
 * bench/results/summary.json, without running any benchmark. `--check` only compares, and exits 1 when the
 * README block is not what the JSON renders to. `--refigure` first re-reads every bench's figures from its own
 * results file with the registry's current reader (after a change to bench/registry.ts, not to a measurement).
 */
import { readFileSync, writeFileSync } from 'node:fs';
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
    if (entry?.ok) entry.figures = b.figures(JSON.parse(readFileSync(join(root, 'bench', 'results', `${b.name}.json`), 'utf8')));
  }
  writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
}
if (process.argv.includes('--check')) {
  const same = currentBlock(readFileSync(join(root, 'README.md'), 'utf8')) === renderTable(summary);
  console.log(same ? 'README performance table matches bench/results/summary.json' : 'README performance table differs from bench/results/summary.json: run npm run bench:render');
  process.exit(same ? 0 : 1);
}
console.log(`rendered ${renderAll(summary).join(', ')}`);
