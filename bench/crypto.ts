/**
 * npm run bench:crypto — throughput of the chunked AES-256-GCM stream (shared/crypto/chunkedAead.ts) against raw
 * `crypto.createCipheriv('aes-256-gcm')` on the same data, in the same run, plus peak RSS.
 *
 * Env: BENCH_CRYPTO_BYTES (default 1 GiB), BENCH_CRYPTO_CHUNK (default 4 MiB), BENCH_CRYPTO_PIECE (source read
 * size, default 1 MiB). Writes bench/results/crypto.json.
 *
 * Decryption reads ciphertext files written beforehand (untimed) to bench/results/tmp/, for both ours and raw, so
 * both sides pay the same (page-cached) reads. Phases are a list: the S3 upload/download phase (encrypt+upload,
 * download+decrypt against the embedded S3) is added by appending a {@link Phase} once the routes exist.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decryptStream, encryptStream, generateDataKey } from '../shared/crypto/chunkedAead.js';
import type { ExpectedChunk, StreamParams } from '../shared/crypto/chunkedAead.js';

const MiB = 1024 * 1024;
const BYTES = Number(process.env.BENCH_CRYPTO_BYTES ?? 1024 * MiB);
const CHUNK = Number(process.env.BENCH_CRYPTO_CHUNK ?? 4 * MiB);
const PIECE = Number(process.env.BENCH_CRYPTO_PIECE ?? MiB);
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

/** Peak RSS sampled every 20 ms (crypto runs between awaits, so the timer fires). */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

interface Measure {
  seconds: number;
  mibPerSec: number;
  peakRssMiB: number;
}

async function measure(fn: () => Promise<void>): Promise<Measure> {
  global.gc?.();
  const s = rssSampler();
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, mibPerSec: BYTES / MiB / seconds, peakRssMiB: s.stop() / MiB };
}

/** One benchmark phase: ours (default settings) vs a baseline over the same bytes, plus named variants. */
interface Phase {
  name: string;
  run(): Promise<{ ours: Measure; baseline: Measure; baselineName: string; variants?: Record<string, Measure> }>;
}

const key = generateDataKey();
const ctx = { key, datasetId: 'bench', version: 1, chunkSize: CHUNK };
let params: StreamParams | undefined;
let chunks: ExpectedChunk[] = [];

async function writeAll(path: string, src: AsyncIterable<Uint8Array>): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    for await (const b of src) await fh.write(b);
  } finally {
    await fh.close();
  }
}

const phases: Phase[] = [
  {
    name: 'encrypt',
    async run() {
      const baseline = await measure(async () => {
        const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
        for await (const p of plaintext()) c.update(p);
        c.final();
        c.getAuthTag();
      });
      const ours = await measure(async () => {
        const enc = encryptStream(plaintext(), ctx);
        for await (const chunk of enc) void chunk.ciphertext;
        params = enc.summary().params;
        chunks = enc.summary().chunks;
      });
      const workerHash = await measure(async () => {
        for await (const chunk of encryptStream(plaintext(), { ...ctx, parallelHash: true })) void chunk.ciphertext;
      });
      return { ours, baseline, baselineName: 'createCipheriv(aes-256-gcm), one stream', variants: { workerHash } };
    },
  },
  {
    name: 'decrypt',
    async run() {
      // Untimed preparation: the ciphertexts to decrypt, ours (same salt => same chunks) and raw.
      const oursFile = join(tmpDir, 'ours.bin');
      const rawFile = join(tmpDir, 'raw.bin');
      const enc = encryptStream(plaintext(), { ...ctx, salt: Buffer.from(params!.salt, 'hex') });
      await writeAll(oursFile, (async function* () { for await (const c of enc) yield c.ciphertext; })());
      const iv = randomBytes(12);
      const rc = createCipheriv('aes-256-gcm', key, iv);
      await writeAll(rawFile, (async function* () { for await (const p of plaintext()) yield rc.update(p); rc.final(); })());
      const tag = rc.getAuthTag();
      try {
        const baseline = await measure(async () => {
          const d = createDecipheriv('aes-256-gcm', key, iv);
          d.setAuthTag(tag);
          for await (const b of createReadStream(rawFile, { highWaterMark: PIECE })) d.update(b as Buffer);
          d.final();
        });
        const run = (parallelHash?: boolean) => async () => {
          let n = 0;
          const o = { ...ctx, params: params!, chunks, ...(parallelHash === undefined ? {} : { parallelHash }) };
          for await (const p of decryptStream(createReadStream(oursFile, { highWaterMark: PIECE }), o)) n += p.length;
          if (n !== BYTES) throw new Error(`decrypted ${n} bytes, expected ${BYTES}`);
        };
        const ours = await measure(run());
        const workerHash = await measure(run(true));
        return { ours, baseline, baselineName: 'createDecipheriv(aes-256-gcm), one stream, same file reads', variants: { workerHash } };
      } finally {
        await rm(oursFile, { force: true });
        await rm(rawFile, { force: true });
      }
    },
  },
];

async function main(): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  console.log(`bench:crypto ${BYTES / MiB} MiB, chunk ${CHUNK / MiB} MiB, piece ${PIECE / MiB} MiB, ${cpus()[0]?.model ?? 'cpu'}`);
  const results: Record<string, unknown>[] = [];
  for (const phase of phases) {
    const { ours, baseline, baselineName, variants = {} } = await phase.run();
    const ratio = ours.mibPerSec / baseline.mibPerSec;
    const v = Object.fromEntries(
      Object.entries(variants).map(([k, m]) => [k, { MiBps: +m.mibPerSec.toFixed(1), ratio: +(m.mibPerSec / baseline.mibPerSec).toFixed(3), peakRssMiB: +m.peakRssMiB.toFixed(1) }]),
    );
    results.push({ phase: phase.name, baseline: baselineName, oursMiBps: +ours.mibPerSec.toFixed(1), rawMiBps: +baseline.mibPerSec.toFixed(1), ratio: +ratio.toFixed(3), oursPeakRssMiB: +ours.peakRssMiB.toFixed(1), rawPeakRssMiB: +baseline.peakRssMiB.toFixed(1), variants: v });
    console.log(`${phase.name.padEnd(8)} ours ${ours.mibPerSec.toFixed(0)} MiB/s  raw ${baseline.mibPerSec.toFixed(0)} MiB/s  ratio ${(ratio * 100).toFixed(1)}%  peak RSS ${ours.peakRssMiB.toFixed(0)} MiB`);
    for (const [k, m] of Object.entries(v)) console.log(`${''.padEnd(8)} ${k}: ${m.MiBps} MiB/s  ratio ${(m.ratio * 100).toFixed(1)}%  peak RSS ${m.peakRssMiB} MiB`);
  }
  const out = {
    bench: 'crypto',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    /** 1-minute load average at the start: this machine's cores are shared, so read ratios with it. */
    loadavg1: +loadavg()[0]!.toFixed(2),
    bytes: BYTES,
    chunkSize: CHUNK,
    pieceSize: PIECE,
    target: 'ours >= 70% of raw; RSS flat',
    phases: results,
    processMaxRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
  };
  await writeFile(join(here, 'results', 'crypto.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`peak process RSS ${out.processMaxRssMiB} MiB -> bench/results/crypto.json`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
