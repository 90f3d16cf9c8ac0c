import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StartFrame, TrainerOutputFrame, startFrameJsonSchemaText } from './trainerProtocol.js';

const committed = fileURLToPath(new URL('../../gpu-workers/trainer/provena_trainer/start-frame.schema.json', import.meta.url));

const recipe = {
  kind: 'text-classifier', label: 'sentiment', textColumn: 'body', vocabSize: 64, maxTokens: 16, embeddingDim: 8,
  convChannels: 16, kernelSize: 3, epochs: 2, batchSize: 32, lr: 0.01, hiddenSizes: [16], seed: 7, validationFraction: 0.25,
};

describe('trainer protocol frames', () => {
  it('the committed start-frame JSON Schema is exactly what the zod schema generates (run scripts/gen-recipe-schema.ts)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(startFrameJsonSchemaText());
  });

  it('a start frame carries a valid recipe', () => {
    const frame = { type: 'start', jobId: 'job_1', recipe, datasetIds: ['ds_1'], outDir: '/run/job_1' };

    expect(StartFrame.parse(frame)).toEqual(frame);
    expect(StartFrame.safeParse({ ...frame, recipe: { ...recipe, vocabSize: 2 } }).success).toBe(false);
  });

  it('an error frame with a code the trainer does not emit is rejected', () => {
    expect(TrainerOutputFrame.safeParse({ type: 'error', code: 'TRAINER_INTERNAL', message: 'x' }).success).toBe(true);
    expect(TrainerOutputFrame.safeParse({ type: 'error', code: 'OOPS', message: 'x' }).success).toBe(false);
  });
});
