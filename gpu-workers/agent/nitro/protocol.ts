/**
 * The enclave ↔ parent channel of Nitro mode (documented in ./README.md): one byte stream (AF_VSOCK in the cloud,
 * bridged to a Unix socket by socat; a Unix socket locally), carrying frames of u32 big-endian length ‖ UTF-8 JSON.
 * Every frame is validated with the zod schemas below on receipt; a frame over {@link MAX_CHANNEL_FRAME_BYTES} is
 * refused from its length prefix, before its body is buffered, and closes the channel.
 *
 * Bytes (HTTP bodies, checkpoint and model files) travel as `chunk` frames of at most {@link CHUNK_BYTES} each on a
 * named stream, the last one marked; a stream over {@link MAX_STREAM_BYTES} closes the channel. The parent never
 * gets a frame type that could carry a raw row: `trainer.input` holds trainer frames that the enclave's anonymizer
 * produced, `http.request` holds what the enclave sends to the API (signed requests, ciphertext, sealed keys).
 */
import type { Duplex } from 'node:stream';
import * as z from 'zod';
import { ProvenaError } from '../../../shared/errors.js';
import { MAX_TRAINER_FRAME_BYTES, TrainerInputFrame, TrainerOutputFrame } from '../../../shared/schemas/trainerProtocol.js';
import { encodeFrameBytes, readFrames, writeWithBackpressure, type FrameFault } from '../frames.js';

/** Protocol version both sides announce in `hello`; a mismatch closes the channel. */
export const PROTOCOL_VERSION = 1;
/** Raw bytes per `chunk` frame (1 MiB; base64 makes it about 1.4 MiB of JSON). */
export const CHUNK_BYTES = 1024 * 1024;
/** Largest frame body: a trainer frame (16 MiB) plus its envelope. */
export const MAX_CHANNEL_FRAME_BYTES = MAX_TRAINER_FRAME_BYTES + 1024 * 1024;
/** Largest stream (an HTTP body, a checkpoint or model file): 2 GiB. */
export const MAX_STREAM_BYTES = 2 * 1024 * 1024 * 1024;

const Base64 = z.string().max(Math.ceil(CHUNK_BYTES / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/);
const StreamId = z.string().regex(/^(req|res|file):[A-Za-z0-9_-]{1,64}$/);
const RequestId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const Headers = z.record(z.string().max(256), z.string().max(16_384)).refine((h) => Object.keys(h).length <= 64, 'too many headers');

/** A piece of a byte stream; `last` ends it (an empty body is one empty last chunk). */
export const ChunkFrame = z.object({ type: z.literal('chunk'), stream: StreamId, data: Base64, last: z.boolean() }).strict();
/** Opening frame of each side. */
export const HelloFrame = z.object({ type: z.literal('hello'), version: z.literal(PROTOCOL_VERSION), role: z.enum(['enclave', 'parent']) }).strict();

/** Frames the enclave sends. */
export const EnclaveFrame = z.discriminatedUnion('type', [
  HelloFrame,
  ChunkFrame,
  /** An HTTP(S) request for the parent to make; its body follows on stream `req:<id>`. */
  z.object({ type: z.literal('http.request'), id: RequestId, method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']), url: z.url({ protocol: /^https?$/ }).max(8192), headers: Headers }).strict(),
  /** A frame for the trainer; `resumeFile` names the stream (already sent) holding the checkpoint to resume from. */
  z.object({ type: z.literal('trainer.input'), frame: TrainerInputFrame, resumeFile: StreamId.optional() }).strict(),
  z.object({ type: z.literal('trainer.close') }).strict(),
  z.object({ type: z.literal('trainer.kill') }).strict(),
  /** A log line of the enclave (never row data, by the agent's contract): the enclave has no console of its own. */
  z.object({ type: z.literal('log'), line: z.string().max(16_384) }).strict(),
]);
export type EnclaveFrame = z.output<typeof EnclaveFrame>;

/** Frames the parent sends. */
export const ParentFrame = z.discriminatedUnion('type', [
  HelloFrame,
  ChunkFrame,
  /** The response head; its body follows on stream `res:<id>`. */
  z.object({ type: z.literal('http.response'), id: RequestId, status: z.number().int().min(100).max(599), headers: Headers }).strict(),
  /** The request could not be made (refused origin, network error): the enclave's fetch rejects. */
  z.object({ type: z.literal('http.error'), id: RequestId, code: z.string().max(64), message: z.string().max(1000) }).strict(),
  /** A trainer frame; a `checkpoint`/`model` frame's file came first on stream `file` (its `path` is the parent's). */
  z.object({ type: z.literal('trainer.output'), frame: TrainerOutputFrame, file: StreamId.optional() }).strict(),
  z.object({ type: z.literal('trainer.exit'), status: z.number().int().nullable() }).strict(),
  /** A spot interruption notice (IMDS) or a signal the parent got: the enclave winds the job down. */
  z.object({ type: z.literal('notice'), source: z.enum(['imds', 'signal']), action: z.string().max(32), deadline: z.iso.datetime() }).strict(),
]);
export type ParentFrame = z.output<typeof ParentFrame>;

const channelError = (code: 'WORKER_CHANNEL_INVALID' | 'WORKER_CHANNEL_CLOSED', message: string): ProvenaError => new ProvenaError(code, message);

const MESSAGES: Record<FrameFault, (detail: string) => string> = {
  oversized: (n) => `a frame of ${n} bytes is over the channel's limit`,
  'not-json': () => 'a frame that is not JSON',
  unexpected: (issue) => `an unexpected frame: ${issue}`,
  truncated: () => 'the channel ended inside a frame',
};
const refuse = (fault: FrameFault, detail: string): ProvenaError =>
  channelError(fault === 'truncated' ? 'WORKER_CHANNEL_CLOSED' : 'WORKER_CHANNEL_INVALID', MESSAGES[fault](detail));

/** One frame's bytes. Throws `WORKER_CHANNEL_INVALID` for a frame over the limit. */
export function encodeChannelFrame(frame: EnclaveFrame | ParentFrame): Buffer {
  return encodeFrameBytes(frame, { maxBytes: MAX_CHANNEL_FRAME_BYTES, refuse: (_, n) => channelError('WORKER_CHANNEL_INVALID', `a ${frame.type} frame of ${n} bytes is over the channel's limit`) });
}

/**
 * Splits a byte stream into validated frames. Throws `WORKER_CHANNEL_INVALID` on an oversized length prefix (before
 * reading the body), a body that is not JSON, or a frame its schema refuses; `WORKER_CHANNEL_CLOSED` when the
 * stream ends inside a frame.
 */
export function decodeChannelFrames<T>(source: AsyncIterable<Uint8Array>, schema: z.ZodType<T>): AsyncGenerator<T> {
  return readFrames(source, { maxBytes: MAX_CHANNEL_FRAME_BYTES, schema, refuse });
}

/** Collects `chunk` frames per stream, bounded by {@link MAX_STREAM_BYTES}; `take` hands a finished stream over once. */
export class StreamAssembler {
  constructor(private readonly maxBytes = MAX_STREAM_BYTES) {}
  private readonly open = new Map<string, { parts: Buffer[]; bytes: number }>();
  private readonly done = new Map<string, Buffer>();

  /** Adds a chunk; returns the stream id when this chunk finished it. */
  add(chunk: z.output<typeof ChunkFrame>): string | undefined {
    if (this.done.has(chunk.stream)) throw channelError('WORKER_CHANNEL_INVALID', `stream ${chunk.stream} already ended`);
    const s = this.open.get(chunk.stream) ?? { parts: [], bytes: 0 };
    const data = Buffer.from(chunk.data, 'base64');
    s.bytes += data.length;
    if (s.bytes > this.maxBytes) throw channelError('WORKER_CHANNEL_INVALID', `stream ${chunk.stream} is over ${this.maxBytes} bytes`);
    s.parts.push(data);
    if (!chunk.last) {
      this.open.set(chunk.stream, s);
      return undefined;
    }
    this.open.delete(chunk.stream);
    this.done.set(chunk.stream, Buffer.concat(s.parts));
    return chunk.stream;
  }

  /** The bytes of a finished stream (then forgotten); `WORKER_CHANNEL_INVALID` when it has not ended. */
  take(stream: string): Buffer {
    const b = this.done.get(stream);
    if (!b) throw channelError('WORKER_CHANNEL_INVALID', `stream ${stream} has not been received`);
    this.done.delete(stream);
    return b;
  }
}

/**
 * One end of the channel: sends frames in order (waiting while the socket's buffer is full) and hands each received,
 * validated frame to `onFrame` in order (an async handler is awaited before the next frame is dispatched, and the
 * socket is paused meanwhile: backpressure reaches the sender).
 */
export class FrameChannel<In extends { type: string }, Out extends EnclaveFrame | ParentFrame> {
  /** Resolves when the peer closed the channel or it failed (with the error). */
  readonly closed: Promise<Error | undefined>;

  constructor(
    private readonly socket: Duplex,
    schema: z.ZodType<In>,
    onFrame: (frame: In) => void | Promise<void>,
  ) {
    this.closed = (async () => {
      try {
        for await (const frame of decodeChannelFrames(socket, schema)) await onFrame(frame);
        return undefined;
      } catch (e) {
        socket.destroy();
        return e as Error;
      }
    })();
  }

  /** Writes one frame; resolves once the socket accepted it (after `drain` when its buffer was full). */
  async send(frame: Out): Promise<void> {
    if (this.socket.destroyed || this.socket.writableEnded) throw channelError('WORKER_CHANNEL_CLOSED', 'the channel is closed');
    await writeWithBackpressure(this.socket, encodeChannelFrame(frame));
  }

  /** Sends `bytes` on `stream` as chunk frames (one empty last chunk for no bytes). */
  async sendStream(stream: string, bytes: Uint8Array): Promise<void> {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; ; at += CHUNK_BYTES) {
      const last = at + CHUNK_BYTES >= b.length;
      await this.send({ type: 'chunk', stream, data: b.subarray(at, at + CHUNK_BYTES).toString('base64'), last } as Out);
      if (last) return;
    }
  }

  /** Closes the socket. */
  end(): void {
    this.socket.end();
  }
}
