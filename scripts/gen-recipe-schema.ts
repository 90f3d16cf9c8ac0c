/**
 * Writes the JSON Schemas the Python trainer validates against, from the zod schemas (one definition each):
 * the recipe (shared/schemas/recipe.ts) and the `start` frame (shared/schemas/trainerProtocol.ts).
 * Run: `npx tsx scripts/gen-recipe-schema.ts`. Their unit tests fail when a committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recipeJsonSchemaText } from '../shared/schemas/recipe.js';
import { startFrameJsonSchemaText } from '../shared/schemas/trainerProtocol.js';

const dir = new URL('../gpu-workers/trainer/provena_trainer/', import.meta.url);
for (const [name, text] of [['recipe.schema.json', recipeJsonSchemaText()], ['start-frame.schema.json', startFrameJsonSchemaText()]] as const) {
  const path = fileURLToPath(new URL(name, dir));
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
