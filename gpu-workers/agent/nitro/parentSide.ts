/**
 * The parent's end of the channel (the untrusted EC2 instance that owns the GPU): it runs the Python trainer on
 * the anonymized frames the enclave sends, returns the trainer's frames (checkpoint and model files as streams, then
 * deleted here), makes the HTTP requests the enclave asks for (the enclave has no network) and forwards spot
 * notices. It holds no key: requests come signed, data keys come sealed to the enclave's attested key, data and
 * checkpoints travel encrypted.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TrainerInputFrame } from '../../../shared/schemas/trainerProtocol.js';
import type { InterruptionNotice } from '../interruptions.js';
import type { TrainerProcess } from '../trainerDriver.js';
import { EnclaveFrame, FrameChannel, ParentFrame, PROTOCOL_VERSION, StreamAssembler } from './protocol.js';

/** What the parent's host needs. */
export interface ParentHostOptions {
  /** Where the trainer writes (a fresh folder per job under it). */
  workDir: string;
  startTrainer: () => TrainerProcess;
  /** Origins the proxy may reach (e.g. the API's and the bucket's); unset: any http(s) origin. */
  allowedOrigins?: readonly string[];
  /** Receives everything the parent gets: each frame from the enclave (chunks decoded) and each response body. */
  tap?: (source: 'enclave' | 'network', bytes: Buffer) => void;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** The `fetch` the proxy uses (the network's). */
  fetch?: typeof fetch;
}

const HOP_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'content-encoding']);

/** Serves one enclave connection. */
export class ParentHost {
  private readonly channel: FrameChannel<EnclaveFrame, ParentFrame>;
  private readonly streams = new StreamAssembler();
  private readonly requests = new Map<string, Extract<EnclaveFrame, { type: 'http.request' }>>();
  private trainer: { process: TrainerProcess; dir: string } | undefined;
  private fileSeq = 0;

  constructor(
    socket: Duplex,
    private readonly o: ParentHostOptions,
  ) {
    this.channel = new FrameChannel(socket, EnclaveFrame, (f) => this.dispatch(f));
  }

  /** Resolves when the enclave closed the channel (with the error when it failed). */
  get closed(): Promise<Error | undefined> {
    return this.channel.closed;
  }

  /** Forwards a spot notice or a signal to the enclave. */
  notice(n: InterruptionNotice): Promise<void> {
    return this.channel.send({ type: 'notice', source: n.source, action: n.action.slice(0, 32), deadline: n.deadline.toISOString() });
  }

  private async dispatch(f: EnclaveFrame): Promise<void> {
    if (this.o.tap) {
      this.o.tap('enclave', Buffer.from(JSON.stringify(f)));
      if (f.type === 'chunk') this.o.tap('enclave', Buffer.from(f.data, 'base64'));
    }
    switch (f.type) {
      case 'hello':
        await this.channel.send({ type: 'hello', version: PROTOCOL_VERSION, role: 'parent' });
        return;
      case 'chunk': {
        const ended = this.streams.add(f);
        if (ended?.startsWith('req:')) void this.proxy(ended.slice(4));
        return;
      }
      case 'http.request':
        this.requests.set(f.id, f);
        return;
      case 'trainer.input':
        await this.toTrainer(f.frame, f.resumeFile);
        return;
      case 'trainer.close':
        this.trainer?.process.close();
        return;
      case 'trainer.kill':
        this.trainer?.process.kill();
        return;
      case 'log':
        this.o.log('enclave', { line: f.line });
        return;
    }
  }

  /** Makes one request for the enclave and sends the answer back (head, then the body as a stream). */
  private async proxy(id: string): Promise<void> {
    const head = this.requests.get(id);
    const body = this.streams.take(`req:${id}`);
    this.requests.delete(id);
    if (!head) return;
    try {
      const url = new URL(head.url);
      if (this.o.allowedOrigins && !this.o.allowedOrigins.includes(url.origin)) {
        await this.channel.send({ type: 'http.error', id, code: 'ORIGIN_REFUSED', message: `the proxy does not reach ${url.origin}` });
        return;
      }
      const headers = Object.fromEntries(Object.entries(head.headers).filter(([k]) => !HOP_HEADERS.has(k.toLowerCase())));
      const res = await (this.o.fetch ?? fetch)(url, { method: head.method, headers, ...(body.length > 0 ? { body } : {}) });
      const answer = Buffer.from(await res.arrayBuffer());
      this.o.tap?.('network', answer);
      const resHeaders: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        if (!HOP_HEADERS.has(k)) resHeaders[k] = v;
      });
      await this.channel.send({ type: 'http.response', id, status: res.status, headers: resHeaders });
      await this.channel.sendStream(`res:${id}`, answer);
    } catch (e) {
      await this.channel.send({ type: 'http.error', id, code: 'NETWORK', message: String((e as Error).message ?? e).slice(0, 1000) }).catch(() => {});
    }
  }

  /** Starts the trainer on `start` (in a fresh folder here, with the resume file the enclave sent), then feeds it. */
  private async toTrainer(frame: TrainerInputFrame, resumeFile: string | undefined): Promise<void> {
    if (frame.type === 'start') {
      if (this.trainer) this.trainer.process.kill();
      const dir = await mkdtemp(join(this.o.workDir, 'job-'));
      let resumeFrom: string | undefined;
      if (resumeFile) {
        resumeFrom = join(dir, 'resume.pt');
        const bytes = this.streams.take(resumeFile);
        await writeFile(resumeFrom, bytes, { mode: 0o600 });
      }
      const { resumeFrom: _enclavePath, ...rest } = frame;
      const process = this.o.startTrainer();
      this.trainer = { process, dir };
      this.o.log('trainer started', { jobId: frame.jobId, device: frame.device ?? 'auto', resume: Boolean(resumeFrom) });
      void this.pump(process, dir);
      await process.send({ ...rest, outDir: dir, ...(resumeFrom ? { resumeFrom } : {}) });
      return;
    }
    await this.trainer?.process.send(frame);
  }

  /** The trainer's frames to the enclave: files first (then deleted here), then their frame; then its exit. */
  private async pump(t: TrainerProcess, dir: string): Promise<void> {
    try {
      for await (const frame of t.frames) {
        if (frame.type === 'checkpoint' || frame.type === 'model') {
          const stream = `file:f${this.fileSeq++}`;
          const bytes = await readFile(frame.path);
          await this.channel.sendStream(stream, bytes);
          await rm(frame.path, { force: true });
          await this.channel.send({ type: 'trainer.output', frame, file: stream });
        } else await this.channel.send({ type: 'trainer.output', frame });
      }
    } catch (e) {
      this.o.log('trainer stream failed', { error: String((e as Error).message ?? e) });
      t.kill();
    }
    const status = await t.exited;
    this.o.log('trainer exited', { status });
    if (this.trainer?.process === t) this.trainer = undefined;
    await rm(dir, { recursive: true, force: true });
    await this.channel.send({ type: 'trainer.exit', status }).catch(() => {});
  }

  /** Kills a running trainer and closes the channel. */
  end(): void {
    this.trainer?.process.kill();
    this.channel.end();
  }
}
