/**
 * The frames the agent and the trainer exchange over the trainer's stdin/stdout (gpu-workers/trainer/PROTOCOL.md):
 * each a u32 big-endian length and UTF-8 JSON. The agent writes {@link TrainerInputFrame}s and parses
 * {@link TrainerOutputFrame}s; the trainer validates `start` against the JSON Schema generated from
 * {@link StartFrame} (scripts/gen-recipe-schema.ts writes it beside the recipe schema).
 */
import * as z from 'zod';
import { Recipe } from './recipe.js';

/** Largest frame body either side accepts, in bytes (checked before the body is read). */
export const MAX_TRAINER_FRAME_BYTES = 16 * 1024 * 1024;

const Id = z.string().min(1).max(128);

/** First frame: the job, where to write, and optionally the checkpoint to resume from. */
export const StartFrame = z
  .object({
    type: z.literal('start'),
    jobId: Id,
    recipe: Recipe,
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional().meta({ description: 'Overrides recipe.seed' }),
    datasetIds: z.array(Id).min(1).max(64),
    outDir: z.string().min(1).meta({ description: 'Where checkpoints/ and model.safetensors go (a tmpfs)' }),
    resumeFrom: z.string().min(1).optional(),
    checkpointEverySteps: z.number().int().min(0).optional().meta({ description: '0: only at epoch ends (default)' }),
    keepCheckpoints: z.number().int().min(1).optional().meta({ description: 'Newest kept; default 2' }),
    device: z.enum(['auto', 'cpu', 'cuda']).optional(),
    privacyBudget: z.number().positive().optional().meta({ description: 'Epsilon the dataset has left' }),
  })
  .strict();
export type StartFrame = z.infer<typeof StartFrame>;

/** A cell of an anonymized row. */
const Cell = z.union([z.number(), z.string(), z.boolean(), z.null()]);

/** Rows of one dataset from `position` on; positions are contiguous from 0 per dataset. */
export const BatchFrame = z
  .object({
    type: z.literal('batch'),
    datasetId: Id,
    position: z.number().int().min(0),
    columns: z.array(z.string()),
    rows: z.array(z.array(Cell)),
  })
  .strict();
export type BatchFrame = z.infer<typeof BatchFrame>;

/** Last frame: rows sent per dataset (the trainer refuses a mismatch). */
export const EndFrame = z.object({ type: z.literal('end'), rows: z.record(Id, z.number().int().min(0)) }).strict();

/** What the agent writes. */
export const TrainerInputFrame = z.discriminatedUnion('type', [StartFrame, BatchFrame, EndFrame]);
export type TrainerInputFrame = z.infer<typeof TrainerInputFrame>;

const Position = z.object({ epoch: z.number().int(), step: z.number().int(), globalStep: z.number().int() });
/**
 * Training examples consumed per dataset id, cumulative over the whole job (resumes included): a row counts once
 * for every optimizer step that used it (row × epoch with fixed sampling). What royalties are paid for.
 */
export const ConsumedCounts = z.record(Id, z.number().int().min(0));
export type ConsumedCounts = z.infer<typeof ConsumedCounts>;

const EvalMetrics = z.object({ loss: z.number().nullable(), accuracy: z.number().optional(), rmse: z.number().nullable().optional() });

/** Stable codes of the trainer's `error` frame. */
export const TrainerErrorCode = z.enum([
  'TRAINER_FRAME_TRUNCATED',
  'TRAINER_FRAME_TOO_LARGE',
  'TRAINER_FRAME_MALFORMED',
  'TRAINER_PROTOCOL_VIOLATION',
  'TRAINER_RECIPE_INVALID',
  'TRAINER_DATA_INVALID',
  'TRAINER_PRIVACY_BUDGET_EXCEEDED',
  'TRAINER_RESUME_MISMATCH',
  'TRAINER_INTERNAL',
]);
export type TrainerErrorCode = z.infer<typeof TrainerErrorCode>;

/** What the trainer writes: `plan`, then `metrics`/`checkpoint`, then exactly one `model` or `error`. */
export const TrainerOutputFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('plan'), jobId: Id, device: z.string(), rows: z.number().int(), train: z.number().int(),
    val: z.number().int(), stepsPerEpoch: z.number().int(), epochs: z.number().int(),
    plannedEpsilon: z.number().nullable(), resumedAt: Position,
    /** Consumed so far (non-zero after a resume) and what it will be when the last epoch ends (exact). */
    consumed: ConsumedCounts, plannedConsumed: ConsumedCounts,
  }),
  z.object({
    type: z.literal('metrics'), epoch: z.number().int(), step: z.number().int(), train: EvalMetrics.nullable(),
    val: EvalMetrics.nullable(), epsilon: z.number().nullable().optional(), delta: z.number().optional(),
  }),
  z.object({ type: z.literal('checkpoint'), path: z.string(), position: Position, consumed: ConsumedCounts }),
  z.object({ type: z.literal('model'), path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int(), consumed: ConsumedCounts }),
  z.object({ type: z.literal('error'), code: TrainerErrorCode, message: z.string() }),
]);
export type TrainerOutputFrame = z.infer<typeof TrainerOutputFrame>;

/** The JSON Schema of the `start` frame the trainer validates against (what the generator writes). */
export function startFrameJsonSchemaText(): string {
  return JSON.stringify(z.toJSONSchema(StartFrame, { io: 'input' }), null, 2) + '\n';
}
