import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { MAX_TRAINER_FRAME_BYTES, type TrainerOutputFrame } from '../../shared/schemas/trainerProtocol.js';
import { decodeFrames, encodeFrame } from './trainerDriver.js';

// The trainer's side of the shared frame reader (frames.ts); the Nitro channel's side is in nitro/protocol.test.ts.
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: { code?: string }) => e.code);
const messageOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: Error) => e.message);
async function all<T>(g: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

describe('the trainer pipe framing', () => {
  it('reads the trainer frames back, split across arbitrary reads', async () => {
    const frames: TrainerOutputFrame[] = [
      { type: 'checkpoint', path: '/tmp/c', position: { epoch: 0, step: 1, globalStep: 1 }, consumed: { d1: 3 } },
      { type: 'error', code: 'TRAINER_FRAME_MALFORMED', message: 'no' },
    ];
    const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)));
    const pieces = Array.from({ length: Math.ceil(bytes.length / 5) }, (_, i) => bytes.subarray(i * 5, i * 5 + 5));

    expect(await all(decodeFrames(Readable.from(pieces)))).toEqual(frames);
  });

  it('refuses a length prefix over the limit with WORKER_TRAINER_FAILED before any body arrives', async () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_TRAINER_FRAME_BYTES + 1);

    expect(await codeOf(all(decodeFrames(Readable.from([head]))))).toBe('WORKER_TRAINER_FAILED');
    // Refused from the prefix, not as a stream cut short.
    expect(await messageOf(all(decodeFrames(Readable.from([head]))))).toContain(`${MAX_TRAINER_FRAME_BYTES + 1} bytes`);
  });

  it('refuses a body that is not JSON and a frame the output schema does not know with WORKER_TRAINER_FAILED', async () => {
    const junk = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]);
    // An input frame (the writer checks only the size): the trainer never writes one.
    const unknown = encodeFrame({ type: 'batch', datasetId: 'd', position: 0, columns: ['a'], rows: [[1]] });

    expect(await codeOf(all(decodeFrames(Readable.from([junk]))))).toBe('WORKER_TRAINER_FAILED');
    expect(await codeOf(all(decodeFrames(Readable.from([unknown]))))).toBe('WORKER_TRAINER_FAILED');
  });

  it('refuses a stream that ends inside a frame with WORKER_TRAINER_FAILED', async () => {
    const cut = encodeFrame({ type: 'end', rows: { d1: 3 } }).subarray(0, 7);

    expect(await codeOf(all(decodeFrames(Readable.from([cut]))))).toBe('WORKER_TRAINER_FAILED');
  });

  it('refuses to write a frame over the limit', () => {
    const big = { type: 'end', pad: 'x'.repeat(MAX_TRAINER_FRAME_BYTES) };

    let code: string | undefined;
    try {
      encodeFrame(big);
    } catch (e) {
      code = (e as { code?: string }).code;
    }

    expect(code).toBe('WORKER_TRAINER_FAILED');
  });
});
