/**
 * Length-prefixed JSON frames (u32 big-endian length ‖ UTF-8 JSON), bounded and schema-checked: the one reader and
 * writer behind the trainer's pipe (trainerDriver.ts) and the Nitro enclave ↔ parent channel (nitro/protocol.ts).
 * Each caller passes its size limit, its schema and how a refusal becomes its own error (its codes and words).
 */
import type { Writable } from 'node:stream';
import type * as z from 'zod';

/** Why a frame was refused. */
export type FrameFault =
  /** The length prefix is over the limit (refused before the body is buffered). */
  | 'oversized'
  /** The body is not JSON. */
  | 'not-json'
  /** The schema refused the body (`detail`: the first issue and its path). */
  | 'unexpected'
  /** The stream ended inside a frame. */
  | 'truncated';

/** What a framed stream accepts, and the error each refusal throws. */
export interface FrameRules<T> {
  /** Largest frame body, bytes. */
  maxBytes: number;
  schema: z.ZodType<T>;
  /** The error thrown for a refused frame; `detail` is the length for `oversized`, the schema issue for `unexpected`. */
  refuse: (fault: FrameFault, detail: string) => Error;
}

/** One frame's bytes; throws `refuse('oversized', …)` for a body over `maxBytes`. */
export function encodeFrameBytes(value: unknown, rules: Pick<FrameRules<unknown>, 'maxBytes' | 'refuse'>): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > rules.maxBytes) throw rules.refuse('oversized', String(body.length));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/**
 * Splits a byte stream into frames, each parsed with `rules.schema`; throws `rules.refuse(…)` on an oversized length
 * prefix (before reading the body), a body that is not JSON, a frame the schema refuses, or a stream cut inside a frame.
 */
export async function* readFrames<T>(source: AsyncIterable<Uint8Array>, rules: FrameRules<T>): AsyncGenerator<T> {
  let buf = Buffer.alloc(0);
  for await (const piece of source) {
    buf = buf.length === 0 ? Buffer.from(piece) : Buffer.concat([buf, piece]);
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (len > rules.maxBytes) throw rules.refuse('oversized', String(len));
      if (buf.length < 4 + len) break;
      const body = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw rules.refuse('not-json', '');
      }
      const parsed = rules.schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw rules.refuse('unexpected', `${issue?.message ?? ''} at ${issue?.path.join('.') ?? ''}`);
      }
      yield parsed.data;
    }
  }
  if (buf.length > 0) throw rules.refuse('truncated', '');
}

/** Writes `bytes`, resolving once `stream` accepted them: at once, or after `drain` (or `close`) when its buffer was full. */
export async function writeWithBackpressure(stream: Writable, bytes: Uint8Array): Promise<void> {
  if (stream.write(bytes)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
