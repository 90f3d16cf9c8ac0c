/**
 * Owner-side source detection for uploads: which {@link DataFormat} a file or folder is, whether it really is
 * that format, how many plaintext bytes it holds, and a streaming reader over those bytes.
 *
 * Everything here reads the source in bounded pieces (a 64 KiB sniff, Parquet's footer, or one streaming pass
 * over a text folder); nothing loads a whole dataset into memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } from 'hyparquet';
import { ProvenaError } from '../errors.js';
import type { DataFormat } from '../schemas/encryptedManifest.js';

/** How many leading lines of a JSON Lines file must parse as JSON objects. */
export const JSONL_SAMPLE_LINES = 20;
/** Bytes read from the start of a file to sniff its format. */
export const SNIFF_BYTES = 64 * 1024;

const PAR1 = Buffer.from('PAR1', 'latin1');

/** What identifies a source on disk; a resumed upload refuses to continue when any of it changed. */
export interface SourceIdentity {
  /** Plaintext bytes (for a folder: all files together). */
  size: number;
  /** Modification time in ms (for a folder: the newest file's). */
  mtimeMs: number;
  /** Inode of the file (for a folder: of the folder itself). */
  ino: number;
  /** For a folder: SHA-256 over every file's (path, size, mtimeMs, ino), so adding, removing or renaming a file is seen. */
  filesDigest?: string;
}

/** One file of a text folder and where it lies in the concatenated plaintext. */
export interface SourceFile {
  path: string;
  plaintextOffset: number;
  size: number;
}

/** What was learned about a source while validating it (shown to the user; not sent to the API). */
export interface SourceDetails {
  /** CSV header columns, or Parquet's top-level column names. */
  columns?: string[];
  /** Parquet row count (from its footer). */
  rowCount?: number;
  /** JSON Lines: how many leading lines were checked. */
  sampledLines?: number;
  /** Text folder: file count. */
  fileCount?: number;
}

/** A validated upload source. */
export interface DetectedSource {
  /** Absolute path of the file or folder. */
  path: string;
  format: DataFormat;
  plaintextSize: number;
  /** For `text-folder`: the layout of the concatenated plaintext (sorted by path). */
  files?: SourceFile[];
  identity: SourceIdentity;
  details: SourceDetails;
  /** Streams the plaintext: the file, or the folder's files one after another. Call once per encryption. */
  open(): AsyncIterable<Uint8Array>;
}

/** Options of {@link detectSource}. */
export interface DetectOptions {
  /** Skip detection and validate the source as this format. */
  format?: DataFormat;
}

function invalid(message: string, details?: Record<string, unknown>): ProvenaError {
  return new ProvenaError('UPLOAD_SOURCE_INVALID', message, details === undefined ? {} : { details });
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function readTail(path: string, size: number, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const n = Math.min(bytes, size);
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, size - n);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Decodes `bytes` as UTF-8, throwing on invalid sequences. With `partialEnd`, an incomplete sequence at the end
 * (the sniff window cut a character) is dropped rather than rejected.
 */
function decodeUtf8(bytes: Uint8Array, partialEnd: boolean): string | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  try {
    return decoder.decode(bytes, { stream: partialEnd });
  } catch {
    return undefined;
  }
}

/**
 * Splits one CSV header line into column names (RFC 4180 quoting: `"a,b"` and `""` escapes).
 *
 * @example
 * ```ts
 * parseCsvHeader('id,"name, full",age'); // ['id', 'name, full', 'age']
 * ```
 */
export function parseCsvHeader(line: string): string[] {
  const cols: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur.length === 0) quoted = true;
    else if (ch === ',') {
      cols.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw invalid('CSV header has an unterminated quote');
  cols.push(cur.trim());
  return cols;
}

/** Validates a CSV sniff window: UTF-8 text, no NUL bytes, and a non-empty header line of named columns. */
export function validateCsv(head: Buffer, fileSize: number): SourceDetails {
  if (fileSize === 0 || head.length === 0) throw invalid('CSV file is empty: it needs at least a header line');
  if (head.includes(0)) throw invalid('CSV file contains NUL bytes: it looks binary, not text');
  const text = decodeUtf8(head, head.length < fileSize);
  if (text === undefined) throw invalid('CSV file is not valid UTF-8 text');
  const nl = text.indexOf('\n');
  if (nl < 0 && head.length < fileSize) throw invalid(`CSV header line is longer than ${SNIFF_BYTES} bytes`);
  const line = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '').replace(/^\uFEFF/, '');
  if (line.trim().length === 0) throw invalid('CSV header line is empty');
  const columns = parseCsvHeader(line);
  const blank = columns.findIndex((c) => c.length === 0);
  if (blank >= 0) throw invalid(`CSV header column ${blank + 1} has no name`, { columns });
  return { columns };
}

/** Validates a JSON Lines sniff window: each of the first {@link JSONL_SAMPLE_LINES} complete lines is a JSON object. */
export function validateJsonl(head: Buffer, fileSize: number): SourceDetails {
  if (fileSize === 0 || head.length === 0) throw invalid('JSON Lines file is empty');
  const cut = head.length < fileSize;
  const text = decodeUtf8(head, cut);
  if (text === undefined) throw invalid('JSON Lines file is not valid UTF-8 text');
  const lines = text.split('\n');
  // The window may end mid-line: that last piece is not checked (unless the window is the whole file).
  if (cut) lines.pop();
  let checked = 0;
  for (const [i, raw] of lines.entries()) {
    if (checked >= JSONL_SAMPLE_LINES) break;
    const line = raw.replace(/\r$/, '').replace(/^\uFEFF/, '');
    if (line.trim().length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw invalid(`JSON Lines line ${i + 1} is not valid JSON: ${(err as Error).message}`, { line: i + 1 });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`JSON Lines line ${i + 1} is not a JSON object`, { line: i + 1 });
    checked++;
  }
  if (checked === 0) throw invalid(cut ? `JSON Lines: no complete line in the first ${SNIFF_BYTES} bytes` : 'JSON Lines file has no non-empty line');
  return { sampledLines: checked };
}

/** Validates a Parquet file: `PAR1` at both ends, and a footer hyparquet can read (schema and row count). */
export async function validateParquet(path: string, fileSize: number): Promise<SourceDetails> {
  if (fileSize < 12) throw invalid('Parquet file is too short (needs PAR1 magic at both ends and a footer)');
  const [head, tail] = await Promise.all([readHead(path, 4), readTail(path, fileSize, 4)]);
  if (!head.equals(PAR1) || !tail.equals(PAR1)) throw invalid('Not a Parquet file: PAR1 magic missing at the start or end');
  try {
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    const tree = parquetSchema(metadata);
    return { columns: tree.children.map((c) => c.element.name), rowCount: Number(metadata.num_rows) };
  } catch (cause) {
    throw new ProvenaError('UPLOAD_SOURCE_INVALID', `Parquet footer is unreadable: ${(cause as Error).message}`, { cause });
  }
}

function formatFromExtension(path: string): DataFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  return undefined;
}

async function sniffFormat(path: string, head: Buffer, size: number): Promise<DataFormat> {
  if (head.subarray(0, 4).equals(PAR1) && (await readTail(path, size, 4)).equals(PAR1)) return 'parquet';
  try {
    validateJsonl(head, size);
    return 'jsonl';
  } catch {
    return 'csv';
  }
}

/** Streams each file of a text folder in order, checking every file still has the size it was listed with. */
async function* streamFolder(root: string, files: readonly SourceFile[]): AsyncGenerator<Uint8Array> {
  for (const f of files) {
    let n = 0;
    for await (const piece of createReadStream(join(root, f.path), { highWaterMark: 1024 * 1024 })) {
      n += (piece as Buffer).length;
      if (n > f.size) break;
      yield piece as Buffer;
    }
    if (n !== f.size) throw new ProvenaError('UPLOAD_SOURCE_CHANGED', `${f.path} changed while it was being read (${n} bytes, listed as ${f.size})`);
  }
}

/** Checks that a whole file is UTF-8 text without NUL bytes, reading it in pieces. */
async function checkTextFile(path: string, rel: string): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const piece of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      if ((piece as Buffer).includes(0)) throw invalid(`${rel} contains NUL bytes: only text files are accepted in a text folder`, { path: rel });
      decoder.decode(piece as Buffer, { stream: true });
    }
    decoder.decode();
  } catch (err) {
    if (err instanceof ProvenaError) throw err;
    throw invalid(`${rel} is not valid UTF-8 text: only text files are accepted in a text folder`, { path: rel });
  }
}

/**
 * Lists a text folder: every regular file under `root`, recursively, sorted by relative path (`/`-separated,
 * code-unit order, so the layout is the same on every OS), each checked to be UTF-8 text. Symbolic links and
 * other special files are refused rather than silently skipped.
 */
export async function listTextFolder(root: string): Promise<{ files: SourceFile[]; identity: SourceIdentity }> {
  const found: { rel: string; size: number; mtimeMs: number; ino: number }[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      const abs = join(dir, e.name);
      if (e.isDirectory()) await walk(abs, rel);
      else if (e.isFile()) {
        const s = await stat(abs);
        found.push({ rel, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
      } else throw invalid(`${rel} is not a regular file (symbolic links and special files are not accepted)`, { path: rel });
    }
  };
  await walk(root, '');
  if (found.length === 0) throw invalid(`${root} holds no files`);
  found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const f of found) await checkTextFile(join(root, f.rel), f.rel);
  let offset = 0;
  const files = found.map((f) => {
    const entry = { path: f.rel, plaintextOffset: offset, size: f.size };
    offset += f.size;
    return entry;
  });
  const digest = createHash('sha256');
  for (const f of found) digest.update(JSON.stringify([f.rel, f.size, f.mtimeMs, f.ino])).update('\n');
  const dir = await stat(root);
  return {
    files,
    identity: { size: offset, mtimeMs: Math.max(...found.map((f) => f.mtimeMs)), ino: dir.ino, filesDigest: digest.digest('hex') },
  };
}

/**
 * Detects and validates an upload source: a directory is a `text-folder`; a file is judged by its extension
 * (`.csv`, `.jsonl`/`.ndjson`, `.parquet`), else by its content (Parquet magic, then JSON Lines, then CSV).
 * `options.format` skips detection but still validates. Throws `UPLOAD_SOURCE_INVALID` with the reason.
 *
 * @example
 * ```ts
 * const src = await detectSource('./rows.csv');
 * console.log(src.format, src.plaintextSize, src.details.columns);
 * for await (const piece of src.open()) hash.update(piece);
 * ```
 */
export async function detectSource(source: string, options: DetectOptions = {}): Promise<DetectedSource> {
  const path = resolve(source);
  let s;
  try {
    s = await lstat(path);
    if (s.isSymbolicLink()) s = await stat(path);
  } catch (cause) {
    throw new ProvenaError('UPLOAD_SOURCE_INVALID', `Cannot read ${source}: ${(cause as Error).message}`, { cause });
  }
  if (s.isDirectory()) {
    if (options.format !== undefined && options.format !== 'text-folder') throw invalid(`${source} is a folder: only the text-folder format can be a folder`);
    const { files, identity } = await listTextFolder(path);
    return { path, format: 'text-folder', plaintextSize: identity.size, files, identity, details: { fileCount: files.length }, open: () => streamFolder(path, files) };
  }
  if (!s.isFile()) throw invalid(`${source} is neither a file nor a folder`);
  if (options.format === 'text-folder') throw invalid(`${source} is a file: the text-folder format needs a folder`);
  const size = s.size;
  const head = await readHead(path, SNIFF_BYTES);
  const format = options.format ?? formatFromExtension(path) ?? (await sniffFormat(path, head, size));
  const details = format === 'csv' ? validateCsv(head, size) : format === 'jsonl' ? validateJsonl(head, size) : await validateParquet(path, size);
  return {
    path,
    format,
    plaintextSize: size,
    identity: { size, mtimeMs: s.mtimeMs, ino: s.ino },
    details,
    open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
  };
}

/** What the owner's client counted while reading the plaintext it encrypted (committed in the manifest). */
export interface MeasuredData {
  /** Plaintext bytes read. */
  bytes: number;
  /** Samples: CSV records after the header, non-empty JSON Lines lines, Parquet rows, text-folder files. */
  rows: number;
}

/** Counts bytes and samples of a plaintext stream, one piece at a time, as it is encrypted. */
export interface DataMeasurer {
  update(piece: Uint8Array): void;
  result(): MeasuredData;
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BLANK = new Set([0x20, 0x09, CR]);

/**
 * Counts records of a line-based text format in one pass: a record ends at a newline outside double quotes (CSV
 * fields may hold quoted newlines; JSON strings never hold raw ones) and counts when it holds anything but blanks.
 */
function lineCounter(quoted: boolean): { update(piece: Uint8Array): void; records(): number } {
  let records = 0;
  let inQuotes = false;
  let content = false;
  return {
    update(piece) {
      for (const b of piece) {
        if (quoted && b === QUOTE) inQuotes = !inQuotes;
        if (b === NL && !inQuotes) {
          if (content) records++;
          content = false;
        } else if (!BLANK.has(b)) content = true;
      }
    },
    records: () => records + (content ? 1 : 0),
  };
}

/**
 * A {@link DataMeasurer} for `source`: CSV records excluding the header, JSON Lines non-empty lines, Parquet rows (from
 * the footer of the very file being read: its identity is checked before and after), text-folder files.
 *
 * @example
 * ```ts
 * const m = measurerFor(src);
 * for await (const piece of src.open()) m.update(piece);
 * m.result(); // {bytes, rows}
 * ```
 */
export function measurerFor(source: Pick<DetectedSource, 'format' | 'details' | 'files'>): DataMeasurer {
  let bytes = 0;
  const lines = source.format === 'csv' || source.format === 'jsonl' ? lineCounter(source.format === 'csv') : undefined;
  const fixedRows = source.format === 'parquet' ? (source.details.rowCount ?? 0) : (source.files?.length ?? 0);
  return {
    update(piece) {
      bytes += piece.length;
      lines?.update(piece);
    },
    result() {
      if (!lines) return { bytes, rows: fixedRows };
      const records = lines.records();
      return { bytes, rows: source.format === 'csv' ? Math.max(0, records - 1) : records };
    },
  };
}
