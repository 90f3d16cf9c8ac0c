/**
 * npm run bench:render — re-renders the README's performance table and the docs/ charts from the committed
 * bench/results/summary.json, without running any benchmark. `--check` only compares, and exits 1 when the
 * README block is not what the JSON renders to.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentBlock, renderAll, renderTable } from './render.js';
import type { Summary } from './lib/figures.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const summary = JSON.parse(readFileSync(join(root, 'bench', 'results', 'summary.json'), 'utf8')) as Summary;
if (process.argv.includes('--check')) {
  const same = currentBlock(readFileSync(join(root, 'README.md'), 'utf8')) === renderTable(summary);
  console.log(same ? 'README performance table matches bench/results/summary.json' : 'README performance table differs from bench/results/summary.json: run npm run bench:render');
  process.exit(same ? 0 : 1);
}
console.log(`rendered ${renderAll(summary).join(', ')}`);
