/**
 * Drives the Python trainer (gpu-workers/trainer, protocol in its PROTOCOL.md): spawns `python -m provena_trainer`
 * from the venv `runtime.mjs` names, writes length-prefixed JSON frames to its stdin (with backpressure) and
 * yields the frames it writes to stdout, each parsed with the shared zod schema. The trainer's environment is
 * built here from scratch: no variable of the agent (its operator key above all) reaches it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ProvenaError } from '../../shared/errors.js';
import { MAX_TRAINER_FRAME_BYTES, TrainerOutputFrame, type TrainerInputFrame } from '../../shared/schemas/trainerProtocol.js';
import { checkTrainerRuntime } from '../trainer/runtime.mjs';
import { encodeFrameBytes, readFrames, writeWithBackpressure, type FrameFault, type FrameRules } from './frames.js';

const MESSAGES: Record<FrameFault, (detail: string) => string> = {
  oversized: (n) => `the trainer wrote a frame of ${n} bytes`,
  'not-json': () => 'the trainer wrote a frame that is not JSON',
  unexpected: (issue) => `the trainer wrote an unexpected frame: ${issue}`,
  truncated: () => 'the trainer stream ended inside a frame',
};
const TRAINER_FRAMES: FrameRules<TrainerOutputFrame> = {
  maxBytes: MAX_TRAINER_FRAME_BYTES,
  schema: TrainerOutputFrame,
  refuse: (fault, detail) => new ProvenaError('WORKER_TRAINER_FAILED', MESSAGES[fault](detail)),
};
const TRAINER_INPUT_LIMIT = {
  maxBytes: MAX_TRAINER_FRAME_BYTES,
  refuse: (_: FrameFault, n: string) => new ProvenaError('WORKER_TRAINER_FAILED', `a frame of ${n} bytes is over the trainer's limit`),
};

/** One frame's bytes: u32 big-endian length ‖ UTF-8 JSON; `WORKER_TRAINER_FAILED` over the trainer's limit. */
export function encodeFrame(frame: TrainerInputFrame | Record<string, unknown>): Buffer {
  return encodeFrameBytes(frame, TRAINER_INPUT_LIMIT);
}

/** Splits a byte stream into frames; throws `WORKER_TRAINER_FAILED` on an oversized, malformed or cut frame. */
export function decodeFrames(source: AsyncIterable<Uint8Array>): AsyncGenerator<TrainerOutputFrame> {
  return readFrames(source, TRAINER_FRAMES);
}

/** A running trainer process. */
export interface TrainerProcess {
  /** Writes one frame, waiting while the pipe is full. */
  send(frame: TrainerInputFrame): Promise<void>;
  /** Closes the trainer's stdin (after `end`). */
  close(): void;
  /** The frames the trainer writes, in order; ends when it closes stdout. */
  readonly frames: AsyncIterable<TrainerOutputFrame>;
  /** Resolves with the exit status (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Stops it (SIGKILL): its outDir is discarded by the caller. */
  kill(): void;
}

export interface StartTrainerOptions {
  /** Thread count for torch on CPU (OMP_NUM_THREADS). */
  threads?: number;
  /** Receives the trainer's stderr lines (logs; never row data by the trainer's contract). */
  onLog?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Spawns the trainer. Throws `WORKER_TRAINER_UNAVAILABLE` when its venv is missing or stale (naming the fix).
 *
 * @example
 * ```ts
 * const t = startTrainer();
 * await t.send(start); for (const b of batches) await t.send(b); await t.send(end); t.close();
 * for await (const f of t.frames) if (f.type === 'model') ...
 * ```
 */
export function startTrainer(options: StartTrainerOptions = {}): TrainerProcess {
  const rt = checkTrainerRuntime(options.env ?? process.env);
  if (!rt.ok) throw new ProvenaError('WORKER_TRAINER_UNAVAILABLE', rt.reason);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    OMP_NUM_THREADS: String(options.threads ?? 1),
    MKL_NUM_THREADS: String(options.threads ?? 1),
  };
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(rt.python, ['-m', 'provena_trainer'], { cwd: rt.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let stdinError: Error | undefined;
  child.stdin.on('error', (e) => (stdinError = e)); // EPIPE when the trainer refused early: its error frame says why
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    tail += s;
    const lines = tail.split('\n');
    tail = lines.pop() ?? '';
    for (const l of lines) options.onLog?.(l);
  });
  return {
    async send(frame) {
      if (stdinError || child.stdin.destroyed) return;
      await writeWithBackpressure(child.stdin, encodeFrame(frame));
    },
    close() {
      if (!child.stdin.destroyed) child.stdin.end();
    },
    frames: decodeFrames(child.stdout),
    exited,
    kill() {
      child.kill('SIGKILL');
    },
  };
}
