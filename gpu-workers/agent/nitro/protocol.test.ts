import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tabularRecipe } from '../../../test/support/workerData.js';
import type { TrainerProcess } from '../trainerDriver.js';
import { EnclaveChannel } from './enclaveSide.js';
import { ParentHost } from './parentSide.js';
import { decodeChannelFrames, EnclaveFrame, encodeChannelFrame, MAX_CHANNEL_FRAME_BYTES, ParentFrame, StreamAssembler } from './protocol.js';

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: { code?: string }) => e.code);
async function all<T>(g: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}
const framed = (json: unknown): Buffer => {
  const body = Buffer.from(JSON.stringify(json));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
};

describe('the channel framing', () => {
  it('round-trips frames split across arbitrary reads', async () => {
    const frames: EnclaveFrame[] = [
      { type: 'hello', version: 1, role: 'enclave' },
      { type: 'http.request', id: 'r1', method: 'GET', url: 'http://127.0.0.1:1/v1/health', headers: { accept: 'application/json' } },
      { type: 'chunk', stream: 'req:r1', data: Buffer.from('hi').toString('base64'), last: true },
    ];
    const bytes = Buffer.concat(frames.map(encodeChannelFrame));
    const pieces = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));

    expect(await all(decodeChannelFrames(Readable.from(pieces), EnclaveFrame))).toEqual(frames);
  });

  it('refuses a length prefix over the limit with WORKER_CHANNEL_INVALID before any body arrives', async () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_CHANNEL_FRAME_BYTES + 1);

    expect(await codeOf(all(decodeChannelFrames(Readable.from([head]), ParentFrame)))).toBe('WORKER_CHANNEL_INVALID');
  });

  it('refuses a frame its side may not send (the enclave schema has no notice) with WORKER_CHANNEL_INVALID', async () => {
    const notice = framed({ type: 'notice', source: 'signal', action: 'SIGTERM', deadline: new Date().toISOString() });

    expect(await codeOf(all(decodeChannelFrames(Readable.from([notice]), EnclaveFrame)))).toBe('WORKER_CHANNEL_INVALID');
  });

  it('refuses a trainer batch with an extra field (strict schemas) and a body that is not JSON', async () => {
    const extra = framed({ type: 'trainer.input', frame: { type: 'batch', datasetId: 'd', position: 0, columns: ['a'], rows: [[1]], raw: 'x' } });
    const junk = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]);

    expect(await codeOf(all(decodeChannelFrames(Readable.from([extra]), EnclaveFrame)))).toBe('WORKER_CHANNEL_INVALID');
    expect(await codeOf(all(decodeChannelFrames(Readable.from([junk]), EnclaveFrame)))).toBe('WORKER_CHANNEL_INVALID');
  });

  it('answers WORKER_CHANNEL_CLOSED when the stream ends inside a frame', async () => {
    const cut = encodeChannelFrame({ type: 'log', line: 'hello' }).subarray(0, 8);

    expect(await codeOf(all(decodeChannelFrames(Readable.from([cut]), EnclaveFrame)))).toBe('WORKER_CHANNEL_CLOSED');
  });

  it('bounds a stream: a chunk past the stream limit is WORKER_CHANNEL_INVALID', () => {
    const s = new StreamAssembler(8);
    s.add({ type: 'chunk', stream: 'file:a', data: Buffer.alloc(6).toString('base64'), last: false });

    expect(() => s.add({ type: 'chunk', stream: 'file:a', data: Buffer.alloc(6).toString('base64'), last: true })).toThrow(expect.objectContaining({ code: 'WORKER_CHANNEL_INVALID' }));
  });
});

describe('an enclave and its parent over a Unix socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pch-'));
  let http: Server;
  let origin: string;
  let enclave: EnclaveChannel;
  let host: ParentHost;
  const tapped: string[] = [];
  const received: { method: string; body: string }[] = [];

  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        received.push({ method: req.method ?? '', body: Buffer.concat(parts).toString() });
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`echo:${req.method}:${Buffer.concat(parts).toString()}`);
      });
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    origin = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    const path = join(dir, 's.sock');
    const accepted = new Promise<Socket>((resolve) => createServer((s) => resolve(s)).listen(path));
    await new Promise((r) => setTimeout(r, 50));
    const client = connect(path);
    const fakeTrainer = (): TrainerProcess => {
      throw new Error('no trainer in this test');
    };
    host = new ParentHost(await accepted, { workDir: dir, startTrainer: fakeTrainer, allowedOrigins: [origin], tap: (_s, b) => tapped.push(b.toString('latin1')), log: () => {} });
    enclave = new EnclaveChannel(client);
    await enclave.ready;
  });
  afterAll(() => {
    enclave.end();
    http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("makes the enclave's requests for it and returns the answers, bodies included", async () => {
    const got = await enclave.fetch(`${origin}/x`, { method: 'PUT', body: 'ciphertext-bytes' });

    expect(got.status).toBe(200);
    expect(await got.text()).toBe('echo:PUT:ciphertext-bytes');
    expect(received.at(-1)).toEqual({ method: 'PUT', body: 'ciphertext-bytes' });
    expect(tapped.join('')).toContain('ciphertext-bytes');
  });

  it('refuses an origin outside its list: the enclave fetch rejects with DEPENDENCY_FAILED and nothing is sent', async () => {
    const before = received.length;

    expect(await codeOf(enclave.fetch('http://127.0.0.1:9/elsewhere'))).toBe('DEPENDENCY_FAILED');
    expect(received.length).toBe(before);
  });

  it('forwards a notice to the enclave', async () => {
    const seen = new Promise<string>((resolve) => enclave.onNotice((n) => resolve(n.action)));

    await host.notice({ source: 'imds', action: 'terminate', deadline: new Date(Date.now() + 120_000) });

    expect(await seen).toBe('terminate');
  });
});

describe('the trainer on the parent, driven from the enclave', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ptr-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts it in a parent folder with the resume file the enclave sent, and returns its files into the enclave folder', async () => {
    const { mkdirSync, writeFileSync, readFileSync, existsSync } = await import('node:fs');
    const enclaveDir = join(dir, 'enclave');
    const parentDir = join(dir, 'parent');
    mkdirSync(enclaveDir);
    mkdirSync(parentDir);
    const resume = join(enclaveDir, 'resume-10.pt');
    writeFileSync(resume, 'checkpoint-state-bytes');
    // A stand-in trainer on the parent: records its input, writes a checkpoint file into its outDir, exits.
    const got: unknown[] = [];
    let parentCheckpoint = '';
    let resumed = '';
    const fake = (): TrainerProcess => {
      let emit!: (f: unknown) => void;
      let finish!: () => void;
      const queue: unknown[] = [];
      let done = false;
      let exited!: (s: number) => void;
      const exitedP = new Promise<number | null>((r) => (exited = r));
      emit = (f) => queue.push(f);
      finish = () => ((done = true), exited(0));
      return {
        async send(frame) {
          got.push(frame);
          if (frame.type === 'start') {
            resumed = readFileSync(frame.resumeFrom as string, 'utf8');
            parentCheckpoint = join(frame.outDir, 'ckpt-1.pt');
            writeFileSync(parentCheckpoint, 'trained-weights');
            emit({ type: 'checkpoint', path: parentCheckpoint, position: { epoch: 0, step: 1, globalStep: 1 }, consumed: { d1: 3 } });
          }
          if (frame.type === 'end') finish();
        },
        close() {},
        frames: (async function* () {
          for (;;) {
            const f = queue.shift();
            if (f) yield f as never;
            else if (done) return;
            else await new Promise((r) => setTimeout(r, 10));
          }
        })(),
        exited: exitedP,
        kill() {},
      };
    };
    const path = join(dir, 's.sock');
    const accepted = new Promise<Socket>((resolve) => createServer((s) => resolve(s)).listen(path));
    await new Promise((r) => setTimeout(r, 50));
    const client = connect(path);
    new ParentHost(await accepted, { workDir: parentDir, startTrainer: fake, log: () => {} });
    const enclave = new EnclaveChannel(client);
    await enclave.ready;
    const t = enclave.startTrainer();

    await t.send({ type: 'start', jobId: '7', recipe: tabularRecipe(), datasetIds: ['d1'], outDir: enclaveDir, resumeFrom: resume });
    await t.send({ type: 'batch', datasetId: 'd1', position: 0, columns: ['a'], rows: [[1], [2], [3]] });
    await t.send({ type: 'end', rows: { d1: 3 } });
    const frames = [];
    for await (const f of t.frames) frames.push(f);
    enclave.end();

    const start = got[0] as { outDir: string; resumeFrom: string };
    expect(start.outDir.startsWith(parentDir)).toBe(true);
    expect(start.resumeFrom.startsWith(parentDir)).toBe(true);
    expect(resumed).toBe('checkpoint-state-bytes');
    expect(got.map((f) => (f as { type: string }).type)).toEqual(['start', 'batch', 'end']);
    expect(frames).toHaveLength(1);
    const ckpt = frames[0] as { type: string; path: string };
    expect(ckpt.type).toBe('checkpoint');
    expect(ckpt.path.startsWith(enclaveDir)).toBe(true);
    expect(readFileSync(ckpt.path, 'utf8')).toBe('trained-weights');
    expect(existsSync(parentCheckpoint)).toBe(false); // deleted on the parent once sent
    expect(await t.exited).toBe(0);
  });
});
