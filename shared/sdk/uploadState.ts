/**
 * The resume state of an upload in progress, one JSON file per (API, dataset, source path).
 *
 * **It holds the dataset's secret data key** (and the stream salt): whoever reads it can decrypt whatever of the
 * upload they can get. So the directory is created 0700 and the file 0600, written atomically (temporary file +
 * rename), and deleted as soon as the upload completes. The key is kept because a resumed upload must produce
 * byte-identical ciphertext for the parts S3 already holds (see shared/sdk/upload.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { ProvenaError } from '../errors.js';
import { DataFormat } from '../schemas/encryptedManifest.js';

const Hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));

/** A finished part as recorded after its PUT: S3's ETag and the digest/size of each chunk in it. */
export const UploadStatePart = z.object({
  etag: z.string().min(1),
  chunks: z.array(z.object({ sha256: Hex(32), size: z.number().int().min(0) })).min(1),
});
export type UploadStatePart = z.output<typeof UploadStatePart>;

/** The state file's content (version 1). */
export const UploadState = z.object({
  v: z.literal(1),
  apiUrl: z.string(),
  datasetId: z.string(),
  source: z.string(),
  uploadId: z.string(),
  dataVersion: z.number().int().min(1),
  format: DataFormat,
  /** SECRET: the 32-byte data key, hex. */
  dataKey: Hex(32),
  /** The stream salt of this encryption, hex. */
  salt: Hex(32),
  chunkSize: z.number().int().min(1),
  plaintextSize: z.number().int().min(0),
  identity: z.object({ size: z.number(), mtimeMs: z.number(), ino: z.number(), filesDigest: z.string().optional() }),
  /** Finished parts by part number. */
  parts: z.record(z.string(), UploadStatePart),
  createdAt: z.string(),
});
export type UploadState = z.output<typeof UploadState>;

/** `~/.provena/uploads`: where the CLI and SDK keep resume state unless told otherwise. */
export function defaultStateDir(): string {
  return join(homedir(), '.provena', 'uploads');
}

/**
 * The state file of one (API, dataset, absolute source path). Hashing keeps the name short and free of path
 * characters; the three values are stored inside too and checked on read.
 *
 * @example
 * ```ts
 * const file = stateFilePath(defaultStateDir(), 'http://127.0.0.1:8787', 'ds_1', '/data/rows.csv');
 * ```
 */
export function stateFilePath(stateDir: string, apiUrl: string, datasetId: string, source: string): string {
  const id = createHash('sha256').update(JSON.stringify([apiUrl.replace(/\/+$/, ''), datasetId, source])).digest('hex').slice(0, 32);
  return join(stateDir, `${datasetId.replace(/[^A-Za-z0-9_-]/g, '_')}-${id}.json`);
}

/** Creates the state directory 0700 (tightening it if it exists with looser permissions). */
export async function ensureStateDir(stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const s = await stat(stateDir);
  if ((s.mode & 0o077) !== 0) await chmod(stateDir, 0o700);
}

/** Reads a state file; `undefined` when there is none. Throws `UPLOAD_RESUME_MISMATCH` for an unreadable one. */
export async function readUploadState(file: string): Promise<UploadState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = UploadState.safeParse((() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) throw new ProvenaError('UPLOAD_RESUME_MISMATCH', `The upload state file ${file} is unreadable; start fresh with --restart (restart: true)`);
  return parsed.data;
}

/** Writes the state atomically with mode 0600 (temporary file in the same directory, fsync, rename). */
export async function writeUploadState(file: string, state: UploadState): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/** Deletes a state file (no error when it is already gone). */
export async function deleteUploadState(file: string): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
