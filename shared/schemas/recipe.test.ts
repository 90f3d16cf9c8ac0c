import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Recipe, recipeJsonSchemaText } from './recipe.js';

const committed = fileURLToPath(new URL('../../gpu-workers/trainer/provena_trainer/recipe.schema.json', import.meta.url));

const classifier = {
  kind: 'tabular-classifier',
  label: 'y',
  features: [{ name: 'age', type: 'numeric' }, { name: 'city', type: 'categorical' }],
  embeddingDim: 4,
  epochs: 3,
  batchSize: 32,
  lr: 0.01,
  hiddenSizes: [16],
  seed: 7,
  validationFraction: 0.2,
  dp: { enabled: true, noiseMultiplier: 1.1, maxGradNorm: 1, delta: 1e-5, sampling: 'poisson' },
};

describe('Recipe', () => {
  it('the committed JSON Schema is exactly what the zod schema generates (run scripts/gen-recipe-schema.ts)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(recipeJsonSchemaText());
  });

  it('accepts a tabular classifier with DP-SGD', () => {
    expect(Recipe.parse(classifier)).toEqual(classifier);
  });

  it('rejects a recipe with an unknown field', () => {
    expect(Recipe.safeParse({ ...classifier, extra: 1 }).success).toBe(false);
  });

  it('rejects a DP delta of 1 or more', () => {
    expect(Recipe.safeParse({ ...classifier, dp: { ...classifier.dp, delta: 1 } }).success).toBe(false);
  });

  it('rejects a text classifier without its tokenizer settings', () => {
    const { features: _f, embeddingDim: _e, ...rest } = classifier;
    expect(Recipe.safeParse({ ...rest, kind: 'text-classifier', textColumn: 'body' }).success).toBe(false);
  });
});
