/**
 * The enclave's end of the channel: a `fetch` that goes through the parent's proxy (the enclave has no network), a
 * {@link TrainerProcess} whose trainer runs on the parent (only anonymized trainer frames cross), and the notices the
 * parent forwards. Checkpoint and model files the trainer writes on the parent come back as streams and are written
 * into the enclave's own work dir before the agent sees their frame, so the agent's loop (agent.ts) runs unchanged:
 * it encrypts them here and uploads the ciphertext through the proxy.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ProvenaError } from '../../../shared/errors.js';
import type { TrainerInputFrame, TrainerOutputFrame } from '../../../shared/schemas/trainerProtocol.js';
import type { InterruptionNotice } from '../interruptions.js';
import type { TrainerProcess } from '../trainerDriver.js';
import { EnclaveFrame, FrameChannel, ParentFrame, PROTOCOL_VERSION, StreamAssembler } from './protocol.js';

/** A queue an async iterator drains; `end` finishes it, `fail` makes the next read throw. */
class Queue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private failWith: ((e: Error) => void) | undefined;
  private ended = false;
  private error: Error | undefined;

  push(item: T): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }
  end(error?: Error): void {
    this.ended = true;
    this.error = error;
    if (this.waiting) {
      const [w, f] = [this.waiting, this.failWith];
      this.waiting = undefined;
      if (error && f) f(error);
      else w({ value: undefined, done: true });
    }
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift() as T;
        continue;
      }
      if (this.ended) {
        if (this.error) throw this.error;
        return;
      }
      const r = await new Promise<IteratorResult<T>>((resolve, reject) => {
        this.waiting = resolve;
        this.failWith = reject;
      });
      if (r.done) return;
      yield r.value;
    }
  }
}

interface PendingRequest {
  resolve(r: Response): void;
  reject(e: Error): void;
  head?: { status: number; headers: Record<string, string> };
}

/** The enclave's channel to its parent. */
export class EnclaveChannel {
  private readonly channel: FrameChannel<ParentFrame, EnclaveFrame>;
  private readonly streams = new StreamAssembler();
  private readonly pending = new Map<string, PendingRequest>();
  private trainer: { out: Queue<{ frame: TrainerOutputFrame; file?: string }>; exited: (s: number | null) => void } | undefined;
  private readonly noticeHandlers: ((n: InterruptionNotice) => void)[] = [];
  private seq = 0;
  /** Resolves when the parent's `hello` arrived. */
  readonly ready: Promise<void>;
  private helloFrom: (() => void) | undefined;

  constructor(socket: Duplex) {
    this.ready = new Promise((r) => (this.helloFrom = r));
    this.channel = new FrameChannel(socket, ParentFrame, (f) => this.dispatch(f));
    void this.channel.closed.then((e) => {
      const err = e ?? new ProvenaError('WORKER_CHANNEL_CLOSED', 'the parent closed the channel');
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.trainer?.out.end(err);
      this.trainer?.exited(null);
    });
    void this.channel.send({ type: 'hello', version: PROTOCOL_VERSION, role: 'enclave' }).catch(() => {});
  }

  /** Resolves when the channel closed (with its error, if it failed). */
  get closed(): Promise<Error | undefined> {
    return this.channel.closed;
  }

  /** Calls `handler` with each notice the parent forwards. */
  onNotice(handler: (n: InterruptionNotice) => void): void {
    this.noticeHandlers.push(handler);
  }

  /** Sends a log line to the parent (best effort). */
  log(line: string): void {
    void this.channel.send({ type: 'log', line: line.slice(0, 16_384) }).catch(() => {});
  }

  private dispatch(f: ParentFrame): void {
    switch (f.type) {
      case 'hello':
        this.helloFrom?.();
        return;
      case 'chunk': {
        const ended = this.streams.add(f);
        if (ended?.startsWith('res:')) this.finishResponse(ended.slice(4));
        return;
      }
      case 'http.response': {
        const p = this.pending.get(f.id);
        if (p) p.head = { status: f.status, headers: f.headers };
        return;
      }
      case 'http.error': {
        const p = this.pending.get(f.id);
        this.pending.delete(f.id);
        p?.reject(new ProvenaError('DEPENDENCY_FAILED', `proxy: ${f.code}: ${f.message}`));
        return;
      }
      case 'trainer.output':
        this.trainer?.out.push({ frame: f.frame, ...(f.file ? { file: f.file } : {}) });
        return;
      case 'trainer.exit':
        this.trainer?.out.end();
        this.trainer?.exited(f.status);
        return;
      case 'notice':
        for (const h of this.noticeHandlers) h({ source: f.source, action: f.action, deadline: new Date(f.deadline) });
        return;
    }
  }

  private finishResponse(id: string): void {
    const p = this.pending.get(id);
    const body = this.streams.take(`res:${id}`);
    if (!p?.head) return;
    this.pending.delete(id);
    const nullBody = p.head.status === 204 || p.head.status === 304 || p.head.status < 200;
    p.resolve(new Response(nullBody ? null : body, { status: p.head.status, headers: p.head.headers }));
  }

  /**
   * A `fetch` through the parent: the request (URL, method, headers, body) goes as frames, the response comes back
   * whole. What the parent sees is what any network hop would: signed API requests, sealed keys, ciphertext.
   */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const id = `r${(this.seq++).toString(36)}${randomBytes(3).toString('hex')}`;
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    const body = req.method === 'GET' || req.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await req.arrayBuffer());
    const answer = new Promise<Response>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    await this.channel.send({ type: 'http.request', id, method: req.method as 'GET', url: req.url, headers });
    await this.channel.sendStream(`req:${id}`, body);
    return answer;
  };

  /**
   * The trainer on the parent, as a {@link TrainerProcess}: `start` asks the parent to spawn it (a resume checkpoint
   * is sent first, from this enclave's work dir), batches follow; `checkpoint`/`model` frames arrive with their file
   * written into the start frame's `outDir` here (the agent's per-job work dir, a tmpfs inside the enclave) and
   * their `path` pointing at it.
   */
  startTrainer(): TrainerProcess {
    if (this.trainer) throw new ProvenaError('WORKER_TRAINER_FAILED', 'a trainer is already running on the parent');
    let exited!: (s: number | null) => void;
    const exitedP = new Promise<number | null>((r) => (exited = r));
    const out = new Queue<{ frame: TrainerOutputFrame; file?: string }>();
    this.trainer = { out, exited };
    void exitedP.then(() => (this.trainer = undefined));
    const channel = this.channel;
    const streams = this.streams;
    let files = 0;
    let workDir: string | undefined;
    async function* frames(): AsyncGenerator<TrainerOutputFrame> {
      for await (const { frame, file } of out) {
        if ((frame.type === 'checkpoint' || frame.type === 'model') && file) {
          if (!workDir) throw new ProvenaError('WORKER_CHANNEL_INVALID', 'a trainer file before the start frame');
          const path = join(workDir, `from-parent-${files++}-${frame.type}.bin`);
          const bytes = streams.take(file);
          await writeFile(path, bytes, { mode: 0o600 });
          bytes.fill(0);
          yield { ...frame, path };
        } else yield frame;
      }
    }
    return {
      async send(frame: TrainerInputFrame) {
        if (frame.type === 'start') workDir = frame.outDir;
        if (frame.type === 'start' && frame.resumeFrom) {
          const bytes = await readFile(frame.resumeFrom);
          await channel.sendStream('file:resume', bytes);
          bytes.fill(0);
          await channel.send({ type: 'trainer.input', frame, resumeFile: 'file:resume' });
        } else await channel.send({ type: 'trainer.input', frame });
      },
      close() {
        void channel.send({ type: 'trainer.close' }).catch(() => {});
      },
      frames: frames(),
      exited: exitedP,
      kill() {
        void channel.send({ type: 'trainer.kill' }).catch(() => {});
      },
    };
  }

  /** Closes the channel. */
  end(): void {
    this.channel.end();
  }
}
