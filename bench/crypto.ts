/**
 * npm run bench:crypto — throughput of the chunked AES-256-GCM stream (shared/crypto/chunkedAead.ts) against raw
 * `crypto.createCipheriv('aes-256-gcm')` on the same data, in the same run, plus peak RSS.
 *
 * Env: BENCH_CRYPTO_PHASES (comma-separated phase names, default all), BENCH_CRYPTO_BYTES (default 1 GiB), BENCH_CRYPTO_CHUNK (default 4 MiB), BENCH_CRYPTO_PIECE (source read
 * size, default 1 MiB), BENCH_CRYPTO_ROUNDS (default 3: the in-memory phases and download+decrypt run every contender
 * once per round, interleaved, and keep each one's median run). Writes bench/results/crypto.json.
 *
 * Decryption reads ciphertext files written beforehand (untimed) to bench/results/tmp/, for both ours and raw, so
 * both sides pay the same (page-cached) reads.
 *
 * S3 phases (issue 4; BENCH_CRYPTO_S3=0 skips them): the embedded S3 (`startEmbeddedS3`, s3rver, temp dir, port 0)
 * runs in a child process (bench/s3server.ts), so the peak RSS reported is this client's alone. A source file of
 * BENCH_CRYPTO_BYTES is written once (untimed) to a temp dir; every S3-phase measurement reads it with fs streams.
 * - `encrypt+upload`: the SDK's own pipeline, `encryptAndSendParts` (shared/sdk/upload.ts, what `uploadDataset`
 *   runs between starting and completing a session): file → `encryptStream` → chunks grouped into the session's
 *   parts → a `fetch` PUT per part to its presigned URL, 4 in flight, with the SDK's retries and its state file
 *   written after each part. The session is what the API would hand out (`planUpload`, `createMultipartUpload`,
 *   one `S3BlobStore.presignUploadPart` URL per part), and `completeMultipartUpload` follows. All of that is timed;
 *   the API round trips themselves (start, complete, key sealing) are not part of it.
 * - `download+decrypt`: `S3BlobStore.get` stream → `decryptToFile` (temp file, fsync, rename).
 * Baselines, in the same phase and from the same file reads: raw `createCipheriv`/`createDecipheriv`
 * ('aes-256-gcm') over the source file (the file is itself a raw GCM ciphertext, so the raw decrypt checks a real
 * tag). Variants `transportOnly` move the same bytes through S3 without any crypto (PUT parts of the same size,
 * 4 in flight / GET to a file with fsync): the S3 ceiling on this machine. BENCH_CRYPTO_S3_TRANSPORT=0 skips them.
 * RSS is sampled every 50 ms; `rssGrowthMiB` is the peak above the RSS just before the phase, and the peaks of
 * the first and second half of the phase show whether it is flat (it grows with the file if they differ much).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3BlobStore } from '../shared/adapters/aws/S3BlobStore.js';
import { decryptStream, decryptToFile, defaultParallelHash, encryptStream, generateDataKey } from '../shared/crypto/chunkedAead.js';
import type { ExpectedChunk, StreamParams } from '../shared/crypto/chunkedAead.js';
import { planUpload, type UploadPart } from '../shared/schemas/upload.js';
import { semaphore } from '../shared/sdk/semaphore.js';
import { encryptAndSendParts, stateRecorder } from '../shared/sdk/upload.js';
import type { UploadState } from '../shared/sdk/uploadState.js';
import { EMBEDDED_S3_DEV_CREDENTIALS } from '../stack/embeddedS3.js';
import { machineNow } from './lib/figures.js';

const MiB = 1024 * 1024;
const BYTES = Number(process.env.BENCH_CRYPTO_BYTES ?? 1024 * MiB);
const CHUNK = Number(process.env.BENCH_CRYPTO_CHUNK ?? 4 * MiB);
const PIECE = Number(process.env.BENCH_CRYPTO_PIECE ?? MiB);
const WITH_S3 = process.env.BENCH_CRYPTO_S3 !== '0';
const WITH_TRANSPORT = process.env.BENCH_CRYPTO_S3_TRANSPORT !== '0';
/**
 * Rounds of the in-memory phases and of download+decrypt: each round runs every contender once, interleaved, and
 * each keeps its median run (by time). On shared cores a load swing then hits all contenders alike instead of
 * whichever happened to run during it.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_CRYPTO_ROUNDS ?? 3));
/** Parts in flight during the upload (the SDK's default; the transport baseline uses the same). */
const IN_FLIGHT = 4;
const here = dirname(fileURLToPath(import.meta.url));
const tmpDir = join(here, 'results', 'tmp');

/** A 16 MiB random block served as a stream of PIECE-sized views: no plaintext ever held in full. */
const block = randomBytes(16 * MiB);
async function* plaintext(): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < BYTES; off += PIECE) {
    const n = Math.min(PIECE, BYTES - off);
    const at = off % block.length;
    yield at + n <= block.length ? block.subarray(at, at + n) : Buffer.concat([block.subarray(at), block.subarray(0, n - (block.length - at))]);
  }
}

/**
 * RSS sampled every `intervalMs` (crypto runs between awaits, so the timer fires): overall peak, and the peaks of
 * the first and second half of the run (a flat RSS has about equal halves).
 */
function rssSampler(intervalMs: number): { stop(): { peak: number; firstHalf: number; secondHalf: number } } {
  const t0 = performance.now();
  const samples: [number, number][] = [[0, process.memoryUsage().rss]];
  const t = setInterval(() => samples.push([performance.now() - t0, process.memoryUsage().rss]), intervalMs);
  return {
    stop() {
      clearInterval(t);
      const end = performance.now() - t0;
      samples.push([end, process.memoryUsage().rss]);
      const peakOf = (keep: (at: number) => boolean) => samples.reduce((m, [at, rss]) => (keep(at) ? Math.max(m, rss) : m), 0);
      return { peak: peakOf(() => true), firstHalf: peakOf((at) => at <= end / 2), secondHalf: peakOf((at) => at > end / 2) };
    },
  };
}

interface Measure {
  seconds: number;
  mibPerSec: number;
  peakRssMiB: number;
  /** RSS just before the run. */
  rssBaseMiB: number;
  /** Peak RSS above {@link rssBaseMiB}. */
  rssGrowthMiB: number;
  peakRssFirstHalfMiB: number;
  peakRssSecondHalfMiB: number;
  /** CPU seconds (user + system) this process used during the run, all its threads. */
  cpuSeconds: number;
  /** CPU seconds the embedded S3 server process used during the run (S3 phases). */
  serverCpuSeconds?: number;
  /**
   * `ours` in a fresh process: whether the default ({@link defaultParallelHash}) chose the worker threads for this
   * run, decided at its start from the load then (the suite's own earlier phases can raise it above the cores).
   */
  parallelHash?: boolean;
}

/** CPU seconds (user + system) a child process has used so far, from /proc (undefined where unreadable). */
function childCpuSeconds(pid: number | undefined): number | undefined {
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th (clock ticks, 100/s).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

async function measure(fn: () => Promise<void>, intervalMs = 20): Promise<Measure> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  const s = rssSampler(intervalMs);
  const serverPid = s3env?.child.pid;
  const server0 = childCpuSeconds(serverPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server1 = childCpuSeconds(serverPid);
  const r = s.stop();
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...(server0 !== undefined && server1 !== undefined ? { serverCpuSeconds: server1 - server0 } : {}),
    seconds,
    mibPerSec: BYTES / MiB / seconds,
    peakRssMiB: r.peak / MiB,
    rssBaseMiB: base / MiB,
    rssGrowthMiB: Math.max(0, r.peak - base) / MiB,
    peakRssFirstHalfMiB: r.firstHalf / MiB,
    peakRssSecondHalfMiB: r.secondHalf / MiB,
  };
}

/** One benchmark phase: ours (default settings) vs a baseline over the same bytes, plus named variants. */
interface Phase {
  name: string;
  run(): Promise<{ ours: Measure; baseline: Measure; baselineName: string; variants?: Record<string, Measure>; info?: Record<string, unknown>; rounds?: Record<string, number[]> }>;
}

/**
 * Runs each contender once per round, in the given order, for {@link ROUNDS} rounds; returns each one's median
 * run and every round's MiB/s (for the JSON).
 */
async function interleaved(contenders: Record<string, () => Promise<void>>, intervalMs = 20, between?: () => Promise<void>): Promise<{ median: Record<string, Measure>; rounds: Record<string, number[]> }> {
  return interleavedRuns(Object.keys(contenders), (name) => measure(contenders[name]!, intervalMs), between);
}

/** {@link interleaved} over any way of running one contender once (in this process, or in a fresh one). */
async function interleavedRuns(names: readonly string[], runOnce: (name: string) => Promise<Measure>, between?: () => Promise<void>): Promise<{ median: Record<string, Measure>; rounds: Record<string, number[]>; runs: Record<string, Measure[]> }> {
  const runs: Record<string, Measure[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) {
      (runs[name] ??= []).push(await runOnce(name));
      await between?.();
    }
  }
  const median: Record<string, Measure> = {};
  const rounds: Record<string, number[]> = {};
  for (const [name, ms] of Object.entries(runs)) {
    median[name] = ms.slice().sort((a, b) => a.seconds - b.seconds)[ms.length >> 1]!;
    rounds[name] = ms.map((m) => +m.mibPerSec.toFixed(1));
  }
  return { median, rounds, runs };
}

const key = generateDataKey();
const ctx = { key, datasetId: 'bench', version: 1, chunkSize: CHUNK };

async function writeAll(path: string, src: AsyncIterable<Uint8Array>, sync = false): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    for await (const b of src) await fh.write(b);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The in-memory phases' contenders, by phase and name. Each runs in a fresh child process of this script
 * ({@link inFreshProcess}): in one process the contenders contaminate each other's allocator state. `cipher.update`
 * returns a fresh buffer per call, so raw GCM's speed depends on whether glibc serves those from memory already
 * mapped or faults new pages in: measured in one process, raw GCM ran at 663 MiB/s in the first round and 2,016
 * MiB/s two rounds later, after the other contenders had run (17:32, load ~1), and a ratio against it moved
 * between 0.68 and 1.08 for the same code. A fresh process per run is what an upload or a worker is.
 */
interface ContenderState {
  key: string;
  params: StreamParams;
  chunks: ExpectedChunk[];
  oursFile: string;
  rawFile: string;
  iv: string;
  tag: string;
}

function contenders(phase: string, st: ContenderState): Record<string, () => Promise<void>> {
  const k = Buffer.from(st.key, 'hex');
  const c = { ...ctx, key: k };
  if (phase === 'encrypt') {
    return {
      raw: async () => {
        const ci = createCipheriv('aes-256-gcm', k, randomBytes(12));
        for await (const p of plaintext()) ci.update(p);
        ci.final();
        ci.getAuthTag();
      },
      ours: async () => {
        for await (const chunk of encryptStream(plaintext(), c)) void chunk.ciphertextParts;
      },
      // The format's floor: GCM per chunk plus the SHA-256 of each chunk's ciphertext that the manifest records,
      // hashed in the same pass (raw node:crypto calls, no chunk objects, no copies).
      floor: async () => {
        let ci = createCipheriv('aes-256-gcm', k, randomBytes(12));
        let h = createHash('sha256');
        let n = 0;
        for await (const p of plaintext()) {
          h.update(ci.update(p));
          n += p.length;
          if (n % CHUNK === 0 || n === BYTES) {
            ci.final();
            h.update(ci.getAuthTag());
            h.digest();
            ci = createCipheriv('aes-256-gcm', k, randomBytes(12));
            h = createHash('sha256');
          }
        }
      },
      // SHA-256 alone over the same bytes, per chunk: with GCM alone it bounds what any implementation of the
      // format can reach (see `bound` in the phase's info).
      sha256: async () => {
        let h = createHash('sha256');
        let n = 0;
        for await (const p of plaintext()) {
          h.update(p);
          n += p.length;
          if (n % CHUNK === 0 || n === BYTES) {
            h.digest();
            h = createHash('sha256');
          }
        }
      },
      inlineHash: async () => {
        for await (const chunk of encryptStream(plaintext(), { ...c, parallelHash: false })) void chunk.ciphertextParts;
      },
      workerHash: async () => {
        for await (const chunk of encryptStream(plaintext(), { ...c, parallelHash: true })) void chunk.ciphertextParts;
      },
    };
  }
  const iv = Buffer.from(st.iv, 'hex');
  const tag = Buffer.from(st.tag, 'hex');
  const run = (parallelHash?: boolean) => async () => {
    let n = 0;
    const o = { ...c, params: st.params, chunks: st.chunks, ...(parallelHash === undefined ? {} : { parallelHash }) };
    for await (const p of decryptStream(createReadStream(st.oursFile, { highWaterMark: PIECE }), o)) n += p.length;
    if (n !== BYTES) throw new Error(`decrypted ${n} bytes, expected ${BYTES}`);
  };
  return {
    raw: async () => {
      const d = createDecipheriv('aes-256-gcm', k, iv);
      d.setAuthTag(tag);
      for await (const b of createReadStream(st.rawFile, { highWaterMark: PIECE })) d.update(b as Buffer);
      d.final();
    },
    ours: run(),
    // The format's floor: SHA-256 and GCM decryption of every piece in one pass (no tag checks, no chunking).
    floor: async () => {
      const d = createDecipheriv('aes-256-gcm', k, iv);
      const h = createHash('sha256');
      for await (const b of createReadStream(st.rawFile, { highWaterMark: PIECE })) {
        h.update(b as Buffer);
        d.update(b as Buffer);
      }
      h.digest();
    },
    inlineHash: run(false),
    workerHash: run(true),
  };
}

/** Runs one contender in a fresh child process of this script and returns its measure. */
async function inFreshProcess(phase: string, name: string, statePath: string): Promise<Measure> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_CRYPTO_CHILD: `${phase}:${name}`, BENCH_CRYPTO_STATE: statePath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench:crypto child ${phase}:${name} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as Measure;
}

/** The child side of {@link inFreshProcess}: one warm-up-free run of one contender, its measure on stdout. */
async function childMain(spec: string): Promise<void> {
  const [phase, name] = spec.split(':') as [string, string];
  const state = JSON.parse(readFileSync(process.env.BENCH_CRYPTO_STATE!, 'utf8')) as ContenderState;
  const fn = contenders(phase, state)[name];
  if (!fn) throw new Error(`no contender ${spec}`);
  // What the default picks now is what `ours` runs with (the load average moves every 5 s, the run starts at once).
  const path = name === 'ours' ? { parallelHash: defaultParallelHash(CHUNK, phase === 'encrypt' ? 'encrypt' : 'decrypt') } : {};
  process.stdout.write(`${JSON.stringify({ ...(await measure(fn)), ...path })}\n`);
}

/** Interleaved rounds as {@link interleaved}, each run in its own fresh process. */
function interleavedProcesses(phase: string, names: readonly string[], statePath: string): Promise<{ median: Record<string, Measure>; rounds: Record<string, number[]>; runs: Record<string, Measure[]> }> {
  return interleavedRuns(names, (name) => inFreshProcess(phase, name, statePath));
}

/** Prepares (untimed) the decrypt phase's files and the state every child reads. */
async function prepareState(): Promise<{ statePath: string; state: ContenderState }> {
  const oursFile = join(tmpDir, 'ours.bin');
  const rawFile = join(tmpDir, 'raw.bin');
  const enc = encryptStream(plaintext(), ctx);
  await writeAll(oursFile, (async function* () { for await (const c of enc) yield* c.ciphertextParts; })());
  const { params, chunks } = enc.summary();
  const iv = randomBytes(12);
  const rc = createCipheriv('aes-256-gcm', key, iv);
  await writeAll(rawFile, (async function* () { for await (const p of plaintext()) yield rc.update(p); rc.final(); })());
  const state: ContenderState = { key: key.toString('hex'), params, chunks, oursFile, rawFile, iv: iv.toString('hex'), tag: rc.getAuthTag().toString('hex') };
  const statePath = join(tmpDir, 'state.json');
  await writeFile(statePath, JSON.stringify(state), { mode: 0o600 });
  return { statePath, state };
}

let prepared: Promise<{ statePath: string; state: ContenderState }> | undefined;
const CONTENDERS = ['raw', 'ours', 'floor', 'inlineHash', 'workerHash'] as const;

const phases: Phase[] = [
  {
    name: 'encrypt',
    async run() {
      const { statePath } = await (prepared ??= prepareState());
      const { median, rounds, runs } = await interleavedProcesses('encrypt', [...CONTENDERS, 'sha256'], statePath);
      const { raw: baseline, ours, floor, inlineHash, workerHash, sha256 } = median as Record<string, Measure>;
      // Every byte must pass GCM and SHA-256 once: with both perfectly spread over the cores, the best any
      // implementation of the format can do is cores / (1/gcm + 1/sha) against one core of GCM.
      const one = 1 / (1 / baseline!.mibPerSec + 1 / sha256!.mibPerSec);
      const bound = { oneCoreMiBps: r1(one), oneCoreRatio: +(one / baseline!.mibPerSec).toFixed(3), allCoresRatio: +Math.min(1, (cpus().length * one) / baseline!.mibPerSec).toFixed(3), cores: cpus().length };
      return { ours: ours!, baseline: baseline!, baselineName: 'createCipheriv(aes-256-gcm), one stream', variants: { inlineHash: inlineHash!, workerHash: workerHash!, floor: floor!, sha256: sha256! }, rounds, info: { parallelHash: ours!.parallelHash, parallelHashPerRound: runs.ours!.map((m) => m.parallelHash), freshProcessPerRun: true, bound } };
    },
  },
  {
    name: 'decrypt',
    async run() {
      const { statePath, state } = await (prepared ??= prepareState());
      try {
        const { median, rounds, runs } = await interleavedProcesses('decrypt', CONTENDERS, statePath);
        const { raw: baseline, ours, floor, inlineHash, workerHash } = median as Record<string, Measure>;
        // Every byte must be read, pass GCM and pass SHA-256 once: the floor contender does exactly that in one pass,
        // so its CPU seconds are the least any implementation needs; spread perfectly over the cores, and never
        // faster than raw GCM's own run, that gives the best ratio to raw GCM this machine allows.
        const minSeconds = Math.max(baseline!.seconds, floor!.cpuSeconds / cpus().length);
        const bound = { cores: cpus().length, floorCpuSeconds: +floor!.cpuSeconds.toFixed(2), rawSeconds: +baseline!.seconds.toFixed(2), rawCpuSeconds: +baseline!.cpuSeconds.toFixed(2), minSeconds: +minSeconds.toFixed(2), bestRatioToRaw: +(baseline!.seconds / minSeconds).toFixed(3) };
        return { ours: ours!, baseline: baseline!, baselineName: 'createDecipheriv(aes-256-gcm), one stream, same file reads', variants: { inlineHash: inlineHash!, workerHash: workerHash!, floor: floor! }, rounds, info: { parallelHash: ours!.parallelHash, parallelHashPerRound: runs.ours!.map((m) => m.parallelHash), freshProcessPerRun: true, bound } };
      } finally {
        await rm(state.oursFile, { force: true });
        await rm(state.rawFile, { force: true });
        await rm(statePath, { force: true });
      }
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// S3 phases

const BUCKET = 'bench';
const S3_BINDING = { datasetId: 'bench-s3', version: 1 } as const;

interface S3Env {
  dir: string;
  srcFile: string;
  /** The source file is a raw GCM ciphertext under (key, srcIv) with this tag, so raw decrypt checks a real tag. */
  srcIv: Buffer;
  srcTag: Buffer;
  child: ChildProcess;
  endpoint: string;
  blobs: S3BlobStore;
  /** What encrypt+upload stored, for download+decrypt. */
  uploaded?: { objectKey: string; params: StreamParams; chunks: ExpectedChunk[] };
}
let s3env: S3Env | undefined;

async function s3Setup(): Promise<S3Env> {
  if (s3env) return s3env;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dir = await mkdtemp(join(tmpdir(), 'provena-bench-s3-'));
  const srcFile = join(dir, 'source.bin');
  const srcIv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, srcIv);
  await writeAll(srcFile, (async function* () { for await (const p of plaintext()) yield c.update(p); c.final(); })());
  const srcTag = c.getAuthTag();
  // BENCH_CRYPTO_S3SERVER: a prebuilt (bundled) s3server script to run with plain node, where tsx is not installed.
  const server = process.env.BENCH_CRYPTO_S3SERVER ? [process.env.BENCH_CRYPTO_S3SERVER] : ['--import', 'tsx', join(here, 's3server.ts')];
  const child = spawn(process.execPath, [...server, join(dir, 's3'), BUCKET], { stdio: ['pipe', 'pipe', 'inherit'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench/s3server.ts exited (${code}) before listening`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { endpoint: string }).endpoint));
  });
  const blobs = new S3BlobStore({ bucket: BUCKET, region: 'us-east-1', endpoint, forcePathStyle: true, credentials: EMBEDDED_S3_DEV_CREDENTIALS });
  s3env = { dir, srcFile, srcIv, srcTag, child, endpoint, blobs };
  return s3env;
}

async function s3Teardown(): Promise<void> {
  if (!s3env) return;
  const { child, dir } = s3env;
  s3env = undefined;
  if (child.exitCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdin?.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
}

/** The S3 server process's peak RSS (VmHWM, Linux), or undefined elsewhere. */
function childPeakRssMiB(pid: number | undefined): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The transport baseline (no SDK code, no crypto): uploads `parts` (each yielded as the list of buffers it
 * consists of) as one multipart object through presigned part URLs and `fetch` PUTs, IN_FLIGHT at a time, then
 * completes it.
 */
async function transportUpload(blobs: S3BlobStore, objectKey: string, parts: AsyncIterable<Buffer[]>): Promise<void> {
  const { uploadId } = await blobs.createMultipartUpload(objectKey, { contentType: 'application/octet-stream' });
  const slots = semaphore(IN_FLIGHT);
  const inflight = new Set<Promise<void>>();
  const etags: { partNumber: number; etag: string }[] = [];
  let failure: unknown;
  let partNumber = 0;
  for await (const pieces of parts) {
    if (failure !== undefined) break;
    partNumber += 1;
    const n = partNumber;
    const url = await blobs.presignUploadPart(objectKey, uploadId, n, 3600);
    await slots.acquire();
    const task = (async () => {
      try {
        const body = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
        pieces.length = 0;
        const res = await fetch(url, { method: 'PUT', body, headers: { 'content-length': String(body.length), 'content-type': 'application/octet-stream' } });
        const text = await res.text();
        const etag = res.headers.get('etag');
        if (!res.ok || etag === null) throw new Error(`part ${n}: HTTP ${res.status} ${text.slice(0, 200)}`);
        etags.push({ partNumber: n, etag });
      } catch (err) {
        failure ??= err;
      } finally {
        slots.release();
      }
    })();
    inflight.add(task);
    void task.then(() => inflight.delete(task));
  }
  await Promise.all(inflight);
  if (failure !== undefined) {
    await blobs.abortMultipartUpload(objectKey, uploadId).catch(() => undefined);
    throw failure;
  }
  await blobs.completeMultipartUpload(objectKey, uploadId, etags);
}

/**
 * Uploads the source file through the SDK's pipeline (`encryptAndSendParts`) into a session laid out as the API
 * lays it out, then completes the multipart upload. Returns the part count, how long the completion took
 * (s3rver concatenates the parts then), and the encryption's params and chunk digests.
 */
async function sdkUpload(env: S3Env, objectKey: string): Promise<{ parts: number; completeSeconds: number; params: StreamParams; chunks: ExpectedChunk[] }> {
  const plan = planUpload(BYTES, CHUNK);
  const { uploadId } = await env.blobs.createMultipartUpload(objectKey, { contentType: 'application/octet-stream' });
  const parts: UploadPart[] = [];
  for (const p of plan.parts) parts.push({ ...p, url: await env.blobs.presignUploadPart(objectKey, uploadId, p.partNumber, 3600) });
  const salt = randomBytes(32);
  const state: UploadState = {
    v: 1,
    apiUrl: env.endpoint,
    datasetId: S3_BINDING.datasetId,
    source: env.srcFile,
    uploadId,
    dataVersion: S3_BINDING.version,
    format: 'csv',
    // The bench's key, so the state file costs what it costs the SDK (the file lives in the bench's temp dir).
    dataKey: key.toString('hex'),
    salt: salt.toString('hex'),
    chunkSize: CHUNK,
    plaintextSize: BYTES,
    identity: { size: BYTES, mtimeMs: 0, ino: 0 },
    parts: {},
    createdAt: new Date().toISOString(),
  };
  try {
    const sent = await encryptAndSendParts({
      plaintext: readSource(env.srcFile),
      plaintextSize: BYTES,
      sourceName: env.srcFile,
      datasetId: S3_BINDING.datasetId,
      session: { dataVersion: S3_BINDING.version, chunkCount: plan.chunkCount, parts },
      key,
      salt,
      chunkSize: CHUNK,
      recorded: {},
      recordPart: stateRecorder(join(env.dir, 'upload-state.json'), state),
      concurrency: IN_FLIGHT,
    });
    const t0 = performance.now();
    await env.blobs.completeMultipartUpload(objectKey, uploadId, sent.parts);
    return { parts: sent.parts.length, completeSeconds: (performance.now() - t0) / 1000, params: sent.summary.params, chunks: sent.summary.chunks };
  } catch (err) {
    await env.blobs.abortMultipartUpload(objectKey, uploadId).catch(() => undefined);
    throw err;
  }
}

function readSource(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: PIECE });
}

/** Raw GCM encrypt of the source file: the encrypt-side baseline of the S3 phases. */
async function rawEncryptFile(path: string): Promise<void> {
  const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
  for await (const b of readSource(path)) c.update(b);
  c.final();
  c.getAuthTag();
}

/** Raw GCM decrypt (tag checked) of the source file: the decrypt-side baseline of the S3 phases. */
async function rawDecryptFile(env: S3Env): Promise<void> {
  const d = createDecipheriv('aes-256-gcm', key, env.srcIv);
  d.setAuthTag(env.srcTag);
  for await (const b of readSource(env.srcFile)) d.update(b);
  d.final();
}

const s3Phases: Phase[] = [
  {
    name: 'encrypt+upload',
    async run() {
      const env = await s3Setup();
      const plan = planUpload(BYTES, CHUNK);
      const baseline = await measure(() => rawEncryptFile(env.srcFile), 50);
      const objectKey = 'bench/ciphertext';
      let uploaded = { parts: 0, completeSeconds: 0 };
      const ours = await measure(async () => {
        const up = await sdkUpload(env, objectKey);
        uploaded = { parts: up.parts, completeSeconds: up.completeSeconds };
        env.uploaded = { objectKey, params: up.params, chunks: up.chunks };
      }, 50);
      const head = await env.blobs.head(objectKey);
      if (head?.size !== plan.totalCiphertextSize) throw new Error(`object is ${head?.size} bytes, expected ${plan.totalCiphertextSize}`);
      const variants: Record<string, Measure> = {};
      if (WITH_TRANSPORT) {
        // The same part sizes, plaintext straight from the file: what S3 alone costs here.
        const sizes = plan.parts.map((p) => p.size - p.chunkCount * 16);
        variants.transportOnly = await measure(async () => {
          const parts = async function* (): AsyncGenerator<Buffer[]> {
            let i = 0;
            let pieces: Buffer[] = [];
            let have = 0;
            for await (const b0 of readSource(env.srcFile)) {
              let b = b0;
              while (b.length > 0) {
                const want = sizes[i]! - have;
                const take = b.length <= want ? b : b.subarray(0, want);
                b = b.length <= want ? Buffer.alloc(0) : b.subarray(want);
                pieces.push(take);
                have += take.length;
                if (have === sizes[i]) {
                  yield pieces;
                  pieces = [];
                  have = 0;
                  i += 1;
                }
              }
            }
            if (pieces.length > 0) yield pieces;
          };
          await transportUpload(env.blobs, 'bench/transport', parts());
        }, 50);
        await env.blobs.delete('bench/transport');
      }
      return {
        ours,
        baseline,
        baselineName: 'createCipheriv(aes-256-gcm) over the same file reads, no upload',
        variants,
        info: { parts: uploaded.parts, completeSeconds: +uploaded.completeSeconds.toFixed(2), partSizeMiB: +((plan.parts[0]?.size ?? 0) / MiB).toFixed(3), inFlight: IN_FLIGHT, upload: 'SDK encryptAndSendParts (shared/sdk/upload.ts) to S3BlobStore.presignUploadPart URLs, S3BlobStore.completeMultipartUpload' },
      };
    },
  },
  {
    name: 'download+decrypt',
    async run() {
      const env = await s3Setup();
      const up = env.uploaded;
      if (!up) throw new Error('download+decrypt needs encrypt+upload first');
      const out = join(env.dir, 'plain.out');
      const contenders: Record<string, () => Promise<void>> = {
        raw: () => rawDecryptFile(env),
        ours: async () => {
          const n = await decryptToFile(await env.blobs.get(up.objectKey), out, { ...S3_BINDING, key, params: up.params, chunks: up.chunks, use: 'transfer' });
          if (n !== BYTES) throw new Error(`decrypted ${n} bytes, expected ${BYTES}`);
        },
      };
      if (WITH_TRANSPORT) contenders.transportOnly = async () => writeAll(out, await env.blobs.get(up.objectKey), true);
      const { median, rounds } = await interleaved(contenders, 50, () => rm(out, { force: true }));
      const { raw: baseline, ours, transportOnly } = median as Record<string, Measure>;
      const variants: Record<string, Measure> = transportOnly ? { transportOnly } : {};
      const s3ServerPeakRssMiB = childPeakRssMiB(env.child.pid);
      await s3Teardown();
      return {
        ours: ours!,
        baseline: baseline!,
        baselineName: 'createDecipheriv(aes-256-gcm) over the same file reads (tag checked), no download',
        variants,
        rounds,
        info: { download: 'S3BlobStore.get stream -> decryptToFile (temp file, fsync, rename)', ...(s3ServerPeakRssMiB === undefined ? {} : { s3ServerPeakRssMiB: +s3ServerPeakRssMiB.toFixed(1) }) },
      };
    },
  },
];
if (WITH_S3) phases.push(...s3Phases);
/** BENCH_CRYPTO_PHASES=encrypt+upload,download+decrypt: only these phases (download+decrypt needs encrypt+upload). */
const ONLY = process.env.BENCH_CRYPTO_PHASES?.split(',').map((x) => x.trim());
if (ONLY) phases.splice(0, phases.length, ...phases.filter((ph) => ONLY.includes(ph.name)));

const r1 = (n: number): number => +n.toFixed(1);
const rss = (m: Measure) => ({
  cpuSeconds: +m.cpuSeconds.toFixed(2),
  ...(m.serverCpuSeconds === undefined ? {} : { serverCpuSeconds: +m.serverCpuSeconds.toFixed(2) }),
  peakRssMiB: r1(m.peakRssMiB),
  rssBaseMiB: r1(m.rssBaseMiB),
  rssGrowthMiB: r1(m.rssGrowthMiB),
  peakRssFirstHalfMiB: r1(m.peakRssFirstHalfMiB),
  peakRssSecondHalfMiB: r1(m.peakRssSecondHalfMiB),
});

/**
 * Whether a transfer phase is CPU-bound on this machine: the S3 server, the client and the crypto share its cores,
 * so `ours` cannot finish sooner than all the CPU it used spread over every core. `bestRatioToTransport` is the
 * transport-only time over that lower bound (capped at 1): what `ours` could reach against the transport with
 * perfect overlap and the CPU it needed. `transportCoresBusy` is how many cores the transport alone kept busy.
 */
function cpuBound(ours: Measure, transport: Measure) {
  const cores = cpus().length;
  const oursCpu = ours.cpuSeconds + (ours.serverCpuSeconds ?? 0);
  const transportCpu = transport.cpuSeconds + (transport.serverCpuSeconds ?? 0);
  const minSeconds = Math.max(transport.seconds, oursCpu / cores);
  return {
    cores,
    transportCoresBusy: +(transportCpu / transport.seconds).toFixed(2),
    oursCoresBusy: +(oursCpu / ours.seconds).toFixed(2),
    oursExtraCpuSeconds: +(oursCpu - transportCpu).toFixed(2),
    oursMinSeconds: +minSeconds.toFixed(2),
    bestRatioToTransport: +Math.min(1, transport.seconds / minSeconds).toFixed(3),
  };
}

async function main(): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const loadStart = loadavg();
  const started = performance.now();
  console.log(`bench:crypto ${BYTES / MiB} MiB, chunk ${CHUNK / MiB} MiB, piece ${PIECE / MiB} MiB, ${cpus()[0]?.model ?? 'cpu'}, load ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  const results: Record<string, unknown>[] = [];
  try {
    for (const phase of phases) {
      const { ours, baseline, baselineName, variants = {}, info, rounds } = await phase.run();
      const ratio = ours.mibPerSec / baseline.mibPerSec;
      const v = Object.fromEntries(
        Object.entries(variants).map(([k, m]) => [k, { MiBps: r1(m.mibPerSec), ratio: +(m.mibPerSec / baseline.mibPerSec).toFixed(3), seconds: +m.seconds.toFixed(2), ...rss(m) }]),
      );
      results.push({
        phase: phase.name,
        ...(v.floor ? { floorMiBps: v.floor.MiBps, ratioToFloor: +(ours.mibPerSec / v.floor.MiBps).toFixed(3) } : {}),
        baseline: baselineName,
        oursMiBps: r1(ours.mibPerSec),
        rawMiBps: r1(baseline.mibPerSec),
        ratio: +ratio.toFixed(3),
        oursSeconds: +ours.seconds.toFixed(2),
        rawSeconds: +baseline.seconds.toFixed(2),
        oursCpuSeconds: +ours.cpuSeconds.toFixed(2),
        ...(ours.serverCpuSeconds === undefined ? {} : { oursServerCpuSeconds: +ours.serverCpuSeconds.toFixed(2) }),
        ...(variants.transportOnly?.serverCpuSeconds !== undefined && ours.serverCpuSeconds !== undefined ? { cpuBound: cpuBound(ours, variants.transportOnly) } : {}),
        oursPeakRssMiB: r1(ours.peakRssMiB),
        rawPeakRssMiB: r1(baseline.peakRssMiB),
        oursRssBaseMiB: r1(ours.rssBaseMiB),
        oursRssGrowthMiB: r1(ours.rssGrowthMiB),
        oursPeakRssFirstHalfMiB: r1(ours.peakRssFirstHalfMiB),
        oursPeakRssSecondHalfMiB: r1(ours.peakRssSecondHalfMiB),
        variants: v,
        ...(rounds === undefined ? {} : { rounds: ROUNDS, roundsMiBps: rounds }),
        ...(info === undefined ? {} : { info }),
      });
      const name = phase.name.padEnd(16);
      console.log(`${name} ours ${ours.mibPerSec.toFixed(0)} MiB/s  raw ${baseline.mibPerSec.toFixed(0)} MiB/s  ratio ${(ratio * 100).toFixed(1)}%  peak RSS ${ours.peakRssMiB.toFixed(0)} MiB (+${ours.rssGrowthMiB.toFixed(0)} MiB; halves ${ours.peakRssFirstHalfMiB.toFixed(0)}/${ours.peakRssSecondHalfMiB.toFixed(0)})`);
      for (const [k, m] of Object.entries(v)) console.log(`${''.padEnd(16)} ${k}: ${m.MiBps} MiB/s  ratio ${(m.ratio * 100).toFixed(1)}%  peak RSS ${m.peakRssMiB} MiB (+${m.rssGrowthMiB})`);
    }
  } finally {
    await s3Teardown();
  }
  const loadEnd = loadavg();
  const out = {
    bench: 'crypto',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    /** 1-minute load average at the start and end: this machine's cores are shared, so read ratios with it. */
    loadavg1: +loadStart[0]!.toFixed(2),
    loadavg1End: +loadEnd[0]!.toFixed(2),
    seconds: +((performance.now() - started) / 1000).toFixed(1),
    bytes: BYTES,
    chunkSize: CHUNK,
    pieceSize: PIECE,
    rounds: ROUNDS,
    target: 'encrypt and decrypt >= 90% of raw GCM; download+decrypt >= 95% of transport only; RSS flat',
    machine: { ...machineNow(), loadavgStart: loadStart.map((l) => +l.toFixed(2)), loadavgEnd: loadEnd.map((l) => +l.toFixed(2)) },
    phases: results,
    processMaxRssMiB: r1(process.resourceUsage().maxRSS / 1024),
  };
  await writeFile(join(here, 'results', 'crypto.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`${out.seconds} s, load ${loadEnd.map((l) => l.toFixed(2)).join(' ')} at the end; peak process RSS ${out.processMaxRssMiB} MiB -> bench/results/crypto.json`);
}

const childSpec = process.env.BENCH_CRYPTO_CHILD;
(childSpec ? childMain(childSpec) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
