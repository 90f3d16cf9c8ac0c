/**
 * Training recipes: what a job asks the trainer (gpu-workers/trainer) to fit. This zod schema is the single
 * definition; `scripts/gen-recipe-schema.ts` writes its JSON Schema to
 * `gpu-workers/trainer/provena_trainer/recipe.schema.json`, which the Python trainer validates against.
 * Every field is explicit (no defaults), so both languages read the same values.
 */
import * as z from 'zod';
import { plainText } from './common.js';

/** A column name in the anonymized rows the agent streams to the trainer. */
const ColumnName = plainText({ min: 1, max: 128 });

/** One input column of a tabular recipe: numeric (normalized on the training rows) or categorical (embedded). */
export const FeatureColumn = z
  .object({ name: ColumnName, type: z.enum(['numeric', 'categorical']) })
  .strict()
  .meta({ description: 'An input column and how the model reads it' });
export type FeatureColumn = z.infer<typeof FeatureColumn>;

/**
 * DP-SGD settings. `sampling: 'poisson'` draws each training row independently with rate batchSize/nTrain at
 * every step (what the RDP accountant assumes); `'fixed'` shuffles once per epoch and takes fixed-size batches
 * (accounted as if Poisson, as Opacus does: an approximation). `targetEpsilon`, when set, is a ceiling: the
 * trainer refuses to start when the planned epsilon (RDP accountant, improved conversion) exceeds it.
 */
export const DpSettings = z
  .object({
    enabled: z.boolean(),
    noiseMultiplier: z.number().positive().max(100),
    maxGradNorm: z.number().positive().max(1e6),
    delta: z.number().gt(0).lt(1),
    targetEpsilon: z.number().positive().max(1000).optional(),
    sampling: z.enum(['poisson', 'fixed']),
  })
  .strict()
  .meta({ description: 'Differentially private SGD (per-sample clipping + Gaussian noise, RDP accounting)' });
export type DpSettings = z.infer<typeof DpSettings>;

const common = {
  label: ColumnName.meta({ description: 'The column the model predicts' }),
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(65_536),
  lr: z.number().positive().max(10),
  hiddenSizes: z.array(z.number().int().min(1).max(4096)).max(8),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  validationFraction: z.number().min(0).max(0.5),
  dp: DpSettings.optional(),
};

const tabular = {
  ...common,
  features: z.array(FeatureColumn).min(1).max(1024),
  embeddingDim: z.number().int().min(1).max(256).meta({ description: 'Width of each categorical embedding' }),
};

/** An MLP over numeric and embedded categorical columns; the label's classes are read from the training rows. */
export const TabularClassifierRecipe = z.object({ kind: z.literal('tabular-classifier'), ...tabular }).strict();
/** An MLP regressor; the label is standardized on the training rows and reported as RMSE in label units. */
export const TabularRegressorRecipe = z.object({ kind: z.literal('tabular-regressor'), ...tabular }).strict();
/** A word-level tokenizer built from the training rows' text, then a small 1-D CNN with max pooling. */
export const TextClassifierRecipe = z
  .object({
    kind: z.literal('text-classifier'),
    ...common,
    textColumn: ColumnName,
    vocabSize: z.number().int().min(4).max(200_000).meta({ description: 'Most frequent words kept, PAD and UNK included' }),
    maxTokens: z.number().int().min(1).max(4096),
    embeddingDim: z.number().int().min(1).max(1024),
    convChannels: z.number().int().min(1).max(2048),
    kernelSize: z.number().int().min(1).max(15),
  })
  .strict();

/**
 * A training recipe, discriminated by `kind`.
 *
 * @example
 * ```ts
 * Recipe.parse({ kind: 'tabular-classifier', label: 'y', features: [{ name: 'age', type: 'numeric' }],
 *   embeddingDim: 4, epochs: 5, batchSize: 64, lr: 0.01, hiddenSizes: [32], seed: 1, validationFraction: 0.2 });
 * ```
 */
export const Recipe = z
  .discriminatedUnion('kind', [TabularClassifierRecipe, TabularRegressorRecipe, TextClassifierRecipe])
  .meta({ title: 'Provena training recipe' });
export type Recipe = z.infer<typeof Recipe>;

/** The JSON Schema the Python trainer validates recipes against (what the generator writes, byte for byte). */
export function recipeJsonSchemaText(): string {
  return JSON.stringify(z.toJSONSchema(Recipe, { io: 'input' }), null, 2) + '\n';
}
