/**
 * One attestation report through Linux configfs-tsm (Documentation/ABI/testing/configfs-tsm, Linux 6.7+): the
 * vendor-neutral interface a TDX guest (`tdx_guest`) or an SEV-SNP guest (`sev_guest`) uses to get a signed report
 * over 64 bytes of its choosing.
 *
 * The protocol, per report:
 * 1. `mkdir <root>/<name>` (a fresh name per request; configfs fills it with the attributes);
 * 2. read `provider` (refused unless `tdx_guest` or `sev_guest`, and the expected one when configured) and
 *    `generation` (g0);
 * 3. write the 64-byte REPORTDATA to `inblob` (the kernel increments `generation`: g1 = g0 + 1);
 * 4. read `outblob` (TDX quote, or SNP attestation report) and `auxblob` (SNP: the host's certificate table);
 * 5. read `generation` again (g2): if g1 ≠ g0 + 1 or g2 ≠ g1, another writer touched the report between our write
 *    and our reads, so the blobs may answer someone else's inblob: discard them and start over (a bounded number
 *    of times, then `WORKER_TSM_BUSY`);
 * 6. `rmdir` the report directory, whatever happened.
 *
 * On configfs every read is immediate (reading `outblob` is what asks the TSM for the report). This module still
 * polls (every `pollMs`, up to `timeoutMs`) until the attributes exist and `generation` has moved: that costs
 * nothing on configfs and lets an emulator serve the same protocol from a plain directory
 * (test/support/tsmEmulator.ts), where the `rmdir` of step 6 falls back to a recursive removal.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvenaError } from '../../../shared/errors.js';

/** The configfs-tsm report root on a guest. */
export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';
/** The providers this attestor understands. */
export const TSM_PROVIDERS = ['tdx_guest', 'sev_guest'] as const;
/** A configfs-tsm provider name. */
export type TsmProvider = (typeof TSM_PROVIDERS)[number];
/** The size of `inblob` both providers take: REPORTDATA / REPORT_DATA. */
export const TSM_INBLOB_SIZE = 64;
/** The largest `outblob` or `auxblob` accepted (a TDX quote with its PCK chain is about 5 KiB; Linux caps at 32 KiB). */
export const TSM_BLOB_MAX_BYTES = 32 * 1024;

/** Options of {@link tsmReport}. */
export interface TsmReportOptions {
  /** The report root (default {@link TSM_REPORT_ROOT}; `PROVENA_TSM_ROOT` in the agent). */
  root?: string;
  /** Refuse any other provider (`WORKER_TSM_PROVIDER_REFUSED`). */
  expectedProvider?: TsmProvider;
  /** Tries before `WORKER_TSM_BUSY` (default 3). */
  attempts?: number;
  pollMs?: number;
  /** How long one step may wait for the attributes or the generation to move (default 30 s). */
  timeoutMs?: number;
}

/** What one report request returned. */
export interface TsmReport {
  provider: TsmProvider;
  outblob: Buffer;
  /** Absent when the provider left it empty. */
  auxblob?: Buffer;
  /** The generation the blobs belong to. */
  generation: number;
  /** How many tries it took (1 without interference). */
  attempts: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** Reads at most `TSM_BLOB_MAX_BYTES + 1` bytes (one more than allowed, to tell an oversized blob from a full one). */
async function readCapped(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(TSM_BLOB_MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/** Polls `read` until it stops failing with ENOENT or returns a value `accept` takes. */
async function waitFor<T>(what: string, read: () => Promise<T>, accept: (v: T) => boolean, o: Required<Pick<TsmReportOptions, 'pollMs' | 'timeoutMs'>>): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    try {
      const v = await read();
      if (accept(v)) return v;
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    if (Date.now() >= deadline) throw new ProvenaError('WORKER_TSM_UNAVAILABLE', `configfs-tsm: timed out waiting for ${what}`);
    await sleep(o.pollMs);
  }
}

async function readGeneration(dir: string): Promise<number> {
  const text = (await readFile(join(dir, 'generation'), 'utf8')).trim();
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

async function removeReport(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (e) {
    // configfs removes a report directory with its attributes; a plain directory (an emulator) needs rm -r.
    if (errno(e) === 'ENOTEMPTY' || errno(e) === 'EEXIST') await rm(dir, { recursive: true, force: true });
    else if (errno(e) !== 'ENOENT') throw e;
  }
}

/**
 * Requests one report over `inblob` (exactly 64 bytes). Throws `ProvenaError`: `WORKER_TSM_UNAVAILABLE` (no
 * configfs-tsm at `root`, or it did not answer in time), `WORKER_TSM_PROVIDER_REFUSED`, `WORKER_TSM_REPORT_INVALID`
 * (empty or oversized outblob, oversized auxblob), `WORKER_TSM_BUSY` (a concurrent writer on every try).
 *
 * @example
 * ```ts
 * const r = await tsmReport(bindingDigest(key, nonce), { expectedProvider: 'tdx_guest' });
 * ```
 */
export async function tsmReport(inblob: Uint8Array, o: TsmReportOptions = {}): Promise<TsmReport> {
  if (inblob.length !== TSM_INBLOB_SIZE) throw new ProvenaError('WORKER_TSM_REPORT_INVALID', `inblob must be ${TSM_INBLOB_SIZE} bytes (got ${inblob.length})`);
  const root = o.root ?? TSM_REPORT_ROOT;
  const attempts = o.attempts ?? 3;
  const timing = { pollMs: o.pollMs ?? 10, timeoutMs: o.timeoutMs ?? 30_000 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const dir = join(root, `provena-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(dir);
    } catch (e) {
      throw new ProvenaError('WORKER_TSM_UNAVAILABLE', `configfs-tsm: cannot create a report under ${root} (${errno(e) ?? (e as Error).message}); a TDX or SEV-SNP guest with Linux 6.7+ and configfs mounted is needed`);
    }
    try {
      const provider = await waitFor('provider', async () => (await readFile(join(dir, 'provider'), 'utf8')).trim(), (p) => p.length > 0, timing);
      if (!(TSM_PROVIDERS as readonly string[]).includes(provider)) throw new ProvenaError('WORKER_TSM_PROVIDER_REFUSED', `configfs-tsm provider ${provider} is not one of ${TSM_PROVIDERS.join(', ')}`);
      if (o.expectedProvider !== undefined && provider !== o.expectedProvider) {
        throw new ProvenaError('WORKER_TSM_PROVIDER_REFUSED', `configfs-tsm provider is ${provider}, the configuration expects ${o.expectedProvider}`);
      }
      const g0 = await waitFor('generation', () => readGeneration(dir), (g) => !Number.isNaN(g), timing);
      await writeFile(join(dir, 'inblob'), inblob);
      const g1 = await waitFor('the report (generation to move)', () => readGeneration(dir), (g) => !Number.isNaN(g) && g !== g0, timing);
      // configfs fails the read with EFBIG when the provider's report exceeds its internal maximum.
      const tooBig = (what: string) => (e: unknown): never => {
        if (errno(e) === 'EFBIG') throw new ProvenaError('WORKER_TSM_REPORT_INVALID', `configfs-tsm ${what} exceeds the kernel's maximum (EFBIG)`);
        throw e;
      };
      const outblob = await readCapped(join(dir, 'outblob')).catch(tooBig('outblob'));
      let auxblob: Buffer | undefined;
      try {
        auxblob = await readCapped(join(dir, 'auxblob')).catch(tooBig('auxblob'));
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
      const g2 = await readGeneration(dir);
      if (g1 !== g0 + 1 || g2 !== g1) continue; // another writer: these blobs may answer its inblob
      if (outblob.length === 0) throw new ProvenaError('WORKER_TSM_REPORT_INVALID', 'configfs-tsm returned an empty outblob');
      if (outblob.length > TSM_BLOB_MAX_BYTES) throw new ProvenaError('WORKER_TSM_REPORT_INVALID', `configfs-tsm outblob exceeds ${TSM_BLOB_MAX_BYTES} bytes`);
      if (auxblob !== undefined && auxblob.length > TSM_BLOB_MAX_BYTES) throw new ProvenaError('WORKER_TSM_REPORT_INVALID', `configfs-tsm auxblob exceeds ${TSM_BLOB_MAX_BYTES} bytes`);
      return { provider: provider as TsmProvider, outblob, ...(auxblob === undefined || auxblob.length === 0 ? {} : { auxblob }), generation: g1, attempts: attempt };
    } finally {
      await removeReport(dir);
    }
  }
  throw new ProvenaError('WORKER_TSM_BUSY', `configfs-tsm: another writer changed the report on each of ${attempts} tries`);
}
