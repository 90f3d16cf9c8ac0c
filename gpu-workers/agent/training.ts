/**
 * One training run over anonymized rows: start frame, the rows of every dataset in batches, end frame; then the
 * trainer's frames as they come. Rows go to the trainer only through its stdin pipe (never to disk here).
 */
import { ProvenaError } from '../../shared/errors.js';
import type { Recipe } from '../../shared/schemas/recipe.js';
import type { StartFrame, TrainerOutputFrame } from '../../shared/schemas/trainerProtocol.js';
import type { Cell } from './anonymizer/index.js';
import { startTrainer, type TrainerProcess } from './trainerDriver.js';

/** Rows of one dataset, already anonymized, as column → value records. */
export interface DatasetRows {
  datasetId: string;
  rows: readonly Record<string, Cell>[];
}

export interface TrainingInput {
  jobId: string;
  recipe: Recipe;
  datasets: readonly DatasetRows[];
  outDir: string;
  resumeFrom?: string;
  checkpointEverySteps?: number;
  keepCheckpoints?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  privacyBudget?: number;
}

/** Rows per `batch` frame: small enough to stay far below the 16 MiB frame limit for tabular rows. */
export const ROWS_PER_BATCH = 2000;

/** The trainer refused or failed: `code` is its stable `TRAINER_*` code (or the agent's when it broke the stream). */
export class TrainerFailure extends ProvenaError {
  override readonly name = 'TrainerFailure';
  constructor(
    readonly trainerCode: string,
    message: string,
  ) {
    super('WORKER_TRAINER_FAILED', `${trainerCode}: ${message}`);
  }
}

/** The column order sent to the trainer: the first row's keys (every dataset must have the same columns). */
export function columnsOf(datasets: readonly DatasetRows[]): string[] {
  const first = datasets.find((d) => d.rows.length > 0)?.rows[0];
  if (!first) throw new ProvenaError('WORKER_DATA_INVALID', 'no rows to train on');
  return Object.keys(first);
}

async function feed(t: TrainerProcess, input: TrainingInput, columns: string[]): Promise<void> {
  const start: StartFrame = {
    type: 'start',
    jobId: input.jobId,
    recipe: input.recipe,
    datasetIds: input.datasets.map((d) => d.datasetId),
    outDir: input.outDir,
    device: input.device ?? 'auto',
    ...(input.resumeFrom ? { resumeFrom: input.resumeFrom } : {}),
    ...(input.checkpointEverySteps !== undefined ? { checkpointEverySteps: input.checkpointEverySteps } : {}),
    ...(input.keepCheckpoints !== undefined ? { keepCheckpoints: input.keepCheckpoints } : {}),
    ...(input.privacyBudget !== undefined ? { privacyBudget: input.privacyBudget } : {}),
  };
  await t.send(start);
  for (const ds of input.datasets) {
    for (let pos = 0; pos < ds.rows.length; pos += ROWS_PER_BATCH) {
      const rows = ds.rows.slice(pos, pos + ROWS_PER_BATCH).map((r) => columns.map((c) => r[c] ?? null));
      await t.send({ type: 'batch', datasetId: ds.datasetId, position: pos, columns, rows });
    }
  }
  await t.send({ type: 'end', rows: Object.fromEntries(input.datasets.map((d) => [d.datasetId, d.rows.length])) });
  t.close();
}

/**
 * Runs the trainer over `input` and yields its `plan`, `metrics` and `checkpoint` frames, then the `model` frame.
 * Throws {@link TrainerFailure} when the trainer answers `error` (or exits without a model). Breaking out of the
 * loop (a cancel, an interruption) kills the trainer.
 */
export async function* train(input: TrainingInput, trainer: TrainerProcess = startTrainer()): AsyncGenerator<TrainerOutputFrame> {
  let finished = false;
  const fed = feed(trainer, input, columnsOf(input.datasets)).catch((e: unknown) => e);
  try {
    for await (const frame of trainer.frames) {
      if (frame.type === 'error') throw new TrainerFailure(frame.code, frame.message);
      if (frame.type === 'model') finished = true;
      yield frame;
      if (finished) break;
    }
    const status = await trainer.exited;
    if (!finished) throw new TrainerFailure('TRAINER_INTERNAL', `the trainer exited (${status}) without a model`);
    const fedError = await fed;
    if (fedError instanceof Error) throw fedError;
  } finally {
    if (!finished) trainer.kill();
  }
}
