import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { hasCode } from '../../../shared/errors.js';
import { type Cell, type ResolvedHierarchy, generalize, maxLevel, resolveHierarchy } from './hierarchies.js';
import { searchLattice } from './lattice.js';

/** Independent brute force: every node of the lattice, its suppression and loss, straight from the definition. */
function bruteForce(hs: ResolvedHierarchy[], rows: Cell[][], k: number, maxFrac: number): { levels: number[]; loss: number; feasible: boolean }[] {
  let nodes: number[][] = [[]];
  for (const h of hs) nodes = nodes.flatMap((n) => Array.from({ length: maxLevel(h) + 1 }, (_, l) => [...n, l]));
  return nodes.map((levels) => {
    const sizes = new Map<string, number>();
    for (const r of rows) {
      const key = JSON.stringify(hs.map((h, c) => generalize(h, r[c] ?? null, levels[c]!)));
      sizes.set(key, (sizes.get(key) ?? 0) + 1);
    }
    let suppressed = 0;
    for (const s of sizes.values()) if (s < k) suppressed += s;
    const s = suppressed / rows.length;
    const mean = hs.reduce((acc, h, c) => acc + levels[c]! / maxLevel(h), 0) / hs.length;
    return { levels, loss: (1 - s) * mean + s, feasible: suppressed <= maxFrac * rows.length };
  });
}

function classSizes(hs: ResolvedHierarchy[], rows: Cell[][], levels: number[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const r of rows) {
    const key = JSON.stringify(hs.map((h, c) => generalize(h, r[c] ?? null, levels[c]!)));
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  return sizes;
}

const HS: ResolvedHierarchy[] = [
  { column: 'age', kind: 'numeric', bandWidths: [5, 10, 20] },
  { column: 'zip', kind: 'prefix', maxDrop: 3 },
  { column: 'sex', kind: 'categorical' },
];

const smallTable = fc.array(
  fc.tuple(fc.integer({ min: 18, max: 80 }), fc.constantFrom('02139', '02138', '02141', '10001', '10002', '94110'), fc.constantFrom('F', 'M')),
  { minLength: 8, maxLength: 40 },
);

describe('generalization hierarchies', () => {
  it('band numbers, truncate dates, drop trailing postcode characters, and star categories', () => {
    const date = resolveHierarchy('dob', undefined, ['1990-05-17']);
    expect([
      generalize(HS[0]!, 37, 1),
      generalize(HS[0]!, 37, 3),
      generalize(HS[0]!, 37, 4),
      generalize(date, '1990-05-17', 1),
      generalize(date, '1990-05-17', 2),
      generalize(HS[1]!, '02139', 2),
      generalize(HS[2]!, 'F', 1),
      generalize(HS[0]!, 'n/a', 1),
      generalize(HS[0]!, null, 1),
    ]).toEqual(['[35,40)', '[20,40)', '*', '1990-05', '1990', '021**', '*', '*', null]);
  });

  it('infer numeric, date and postcode hierarchies from values and column names', () => {
    expect([resolveHierarchy('age', undefined, [20, 70]).kind, resolveHierarchy('dob', undefined, ['2001-02-03']).kind, resolveHierarchy('zip_code', undefined, ['02139']).kind, resolveHierarchy('city', undefined, ['Paris']).kind]).toEqual([
      'numeric',
      'date',
      'prefix',
      'categorical',
    ]);
  });
});

describe('lattice search', () => {
  it('chooses a node whose loss is less than or equal to that of every other feasible node (brute force, random small tables)', () => {
    fc.assert(
      fc.property(smallTable, fc.integer({ min: 2, max: 5 }), fc.constantFrom(0, 0.1, 0.25), (rows, k, maxFrac) => {
        fc.pre(rows.length >= k);
        const choice = searchLattice(HS, rows, k, maxFrac);
        const all = bruteForce(HS, rows, k, maxFrac);
        const chosen = all.find((n) => n.levels.join() === choice.levels.join())!;
        const bestFeasible = Math.min(...all.filter((n) => n.feasible).map((n) => n.loss));
        return chosen.feasible && Math.abs(chosen.loss - choice.infoLoss) < 1e-12 && chosen.loss <= bestFeasible + 1e-12 && choice.search === 'exhaustive';
      }),
      { numRuns: 60 },
    );
  });

  it('keeps only classes of at least k rows, and suppresses no more than allowed', () => {
    fc.assert(
      fc.property(smallTable, fc.integer({ min: 2, max: 5 }), (rows, k) => {
        fc.pre(rows.length >= k);
        const choice = searchLattice(HS, rows, k, 0.1);
        const sizes = classSizes(HS, rows, choice.levels);
        const kept = [...sizes.entries()].filter(([key]) => choice.keptClasses.has(key));
        const keptRows = kept.reduce((s, [, n]) => s + n, 0);
        return kept.every(([, n]) => n >= k) && rows.length - keptRows === choice.suppressedRows && choice.suppressedRows <= 0.1 * rows.length;
      }),
      { numRuns: 60 },
    );
  });

  it('falls back to a greedy climb when the work budget is spent, and its result is still k-anonymous', () => {
    const zips = ['02139', '02138', '02141', '10001', '10002', '94110'];
    const rows: Cell[][] = Array.from({ length: 36 }, (_, i) => [18 + ((i * 37) % 60), zips[(i * 7) % 6]!, i % 3 === 0 ? 'M' : 'F']);
    const choice = searchLattice(HS, rows, 4, 0.1, { maxWork: 10 });
    const sizes = classSizes(HS, rows, choice.levels);
    expect(choice.search).toBe('greedy');
    expect([...choice.keptClasses].every((key) => (sizes.get(key) ?? 0) >= 4)).toBe(true);
    expect(choice.suppressedRows).toBeLessThanOrEqual(3);
  });

  it('refuses with ANONYMIZATION_INFEASIBLE when there are fewer rows than k and suppression is capped', () => {
    let caught: unknown;
    try {
      searchLattice(HS, [[30, '02139', 'F'], [31, '02139', 'M']], 3, 0.5);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ANONYMIZATION_INFEASIBLE')).toBe(true);
  });
});
