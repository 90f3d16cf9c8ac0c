/**
 * Small seeded tabular tasks with signal for the worker agent's tests (the same task as the trainer's
 * tests/synth.py): x1, x2 numeric, city categorical; label "yes" when a linear score of the three is high.
 */
import { rng } from '../../scripts/demo/data.js';
import type { Recipe } from '../../shared/schemas/recipe.js';

const CITIES = ['north', 'south', 'east', 'west'] as const;
const CITY_EFFECT: Record<string, number> = { north: 1.0, south: -1.0, east: 0.5, west: -0.5 };

function normal(r: () => number, mean: number, sd: number): number {
  return mean + sd * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** `n` rows as records. */
export function tabularRows(n: number, seed: number): { x1: number; x2: number; city: string; y: string }[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const x1 = normal(r, 2, 3);
    const x2 = normal(r, -1, 0.5);
    const city = CITIES[Math.floor(r() * 4)] as string;
    const score = (0.8 * (x1 - 2)) / 3 + (1.2 * (x2 + 1)) / 0.5 + (CITY_EFFECT[city] as number);
    return { x1: Math.round(x1 * 1e4) / 1e4, x2: Math.round(x2 * 1e4) / 1e4, city, y: score > 0.6 ? 'yes' : 'no' };
  });
}

/** The same rows as CSV text (header line first). */
export function tabularCsv(n: number, seed: number): string {
  return ['x1,x2,city,y', ...tabularRows(n, seed).map((r) => `${r.x1},${r.x2},${r.city},${r.y}`)].join('\n') + '\n';
}

/** A small tabular-classifier recipe over those columns. */
export function tabularRecipe(overrides: Partial<Record<string, unknown>> = {}): Recipe {
  return {
    kind: 'tabular-classifier',
    label: 'y',
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric' },
      { name: 'city', type: 'categorical' },
    ],
    embeddingDim: 3,
    epochs: 3,
    batchSize: 32,
    lr: 0.02,
    hiddenSizes: [16],
    seed: 7,
    validationFraction: 0.25,
    ...overrides,
  } as Recipe;
}
