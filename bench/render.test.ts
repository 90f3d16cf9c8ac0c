import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import type { Summary } from './lib/figures.js';
import { figure } from './lib/figures.js';
import { BEGIN, END, barChart, currentBlock, fmt, renderCharts, renderTable, replaceBlock } from './render.js';
import { BENCHES } from './registry.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** A two-bench summary: one figure with a same-run baseline and a missed target, one gas figure, one failure. */
const fixture: Summary = {
  startedAt: '2026-11-28T08:00:00.000Z',
  finishedAt: '2026-11-28T08:05:00.000Z',
  machine: { cpu: 'AMD EPYC', cores: 2, memoryGiB: 23.5, node: 'v20.20.2', platform: 'linux x64', loadavgStart: [1.5, 2, 2.5], loadavgEnd: [3, 2.5, 2.5] },
  note: 'cores shared',
  benches: {
    crypto: {
      ok: true,
      title: 'data plane',
      seconds: 60,
      ranAt: '2026-11-28T08:01:00.000Z',
      loadavg1: { start: 1.5, end: 3, min: 1.5, max: 3.2, mean: 2.25, samples: 12 },
      figures: [
        {
          ...figure({ id: 'crypto.encrypt', label: 'encrypt (memory, 1024 MiB)', value: 826.6, unit: 'MiB/s', better: 'higher', baseline: { label: 'raw AES-256-GCM encrypt, same bytes', value: 1140.2, sameRun: true } }),
          target: { text: '≥ 90% of raw GCM', met: false },
        },
      ],
    },
    gas: {
      ok: true,
      title: 'gas',
      seconds: 20,
      ranAt: '2026-11-28T08:02:00.000Z',
      loadavg1: { start: 3, end: 3, min: 3, max: 3, mean: 3, samples: 5 },
      figures: [figure({ id: 'gas.open job', label: 'open job (execution)', value: 111_308, unit: 'gas', better: 'lower', baseline: { label: 'Sablier Flow create', value: 127_000, sameRun: false } })],
    },
    indexer: { ok: false, exitCode: 1, title: 'indexer', seconds: 3, ranAt: '2026-11-28T08:03:00.000Z', loadavg1: { start: 3, end: 3, min: 3, max: 3, mean: 3, samples: 1 }, figures: [] },
  },
};

describe('the benchmark renderer', () => {
  it('renders each figure as a row with its baseline, ratio and target', () => {
    const table = renderTable(fixture);

    expect(table).toContain('| crypto (2.25) | encrypt (memory, 1024 MiB) | 827 MiB/s | raw AES-256-GCM encrypt, same bytes: 1,140 MiB/s | 72.5% | ≥ 90% of raw GCM: **not met** |');
    expect(table).toContain('| gas (3) | open job (execution) | 111,308 gas | Sablier Flow create (published): 127,000 gas | 114.1% |  |');
    expect(table).toContain('| indexer (3) | failed (exit 1) |');
    expect(table).toContain('Benches run between 2026-11-28 08:01 and 2026-11-28 08:03 UTC on 2 × AMD EPYC, 23.5 GiB, Node v20.20.2');
    expect(table).toContain('1.5 / 2 / 2.5 at the start, 3 / 2.5 / 2.5 at the end');
  });

  it('reads ratios the same way for higher- and lower-is-better figures', () => {
    expect(figure({ id: 'a', label: 'a', value: 50, unit: 'x', better: 'higher', baseline: { label: 'b', value: 100, sameRun: true } }).ratio).toBe(0.5);
    expect(figure({ id: 'a', label: 'a', value: 200, unit: 'ms', better: 'lower', baseline: { label: 'b', value: 100, sameRun: true } }).ratio).toBe(0.5);
  });

  it('refuses a figure whose value is not a number, so a renamed JSON field cannot render silently', () => {
    expect(() => fmt(Number(undefined))).toThrow('not a finite number');
  });

  it('replaces only the text between the markers', () => {
    const readme = `# Title\n\n${BEGIN}\nold table\n${END}\n\nafter\n`;

    const out = replaceBlock(readme, 'new table');

    expect(out).toBe(`# Title\n\n${BEGIN}\nnew table\n${END}\n\nafter\n`);
    expect(currentBlock(out)).toBe('new table');
  });

  it('refuses a README without the markers', () => {
    expect(() => replaceBlock('# no markers\n', 'x')).toThrow('bench:begin');
  });

  it('draws SVG charts with one bar per series and a marker where a target is set', () => {
    const svg = barChart('T', 'MiB/s', [{ label: 'encrypt', bars: [{ series: 'ours', value: 10 }, { series: 'raw', value: 20 }], marker: { label: 'target', value: 18 } }]);

    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect x="420"/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray');
    expect(Object.keys(renderCharts(fixture)).sort()).toEqual(['bench-data-plane.svg', 'bench-gas.svg']);
  });
});

describe('the committed results', () => {
  const summary = JSON.parse(readFileSync(join(root, 'bench', 'results', 'summary.json'), 'utf8')) as Summary;

  it('are what the README performance table shows', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');

    expect(currentBlock(readme)).toBe(renderTable(summary));
  });

  it('give every registered bench at least one figure, each a finite number', () => {
    for (const b of BENCHES) {
      const figures = b.figures(JSON.parse(readFileSync(join(root, 'bench', 'results', `${b.name}.json`), 'utf8')));

      expect(figures.length).toBeGreaterThan(0);
      for (const f of figures) expect(Number.isFinite(f.value)).toBe(true);
    }
  });
});
