/**
 * Writes the recipe JSON Schema the Python trainer validates against, from the zod schema (one definition).
 * Run: `npx tsx scripts/gen-recipe-schema.ts`. `shared/schemas/recipe.test.ts` fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recipeJsonSchemaText } from '../shared/schemas/recipe.js';

const RECIPE_SCHEMA_PATH = fileURLToPath(new URL('../gpu-workers/trainer/provena_trainer/recipe.schema.json', import.meta.url));

writeFileSync(RECIPE_SCHEMA_PATH, recipeJsonSchemaText());
console.log(`wrote ${RECIPE_SCHEMA_PATH}`);
