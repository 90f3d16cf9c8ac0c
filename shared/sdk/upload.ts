/**
 * Owner-side encrypted upload (issue 4): detect and validate the source, encrypt it on this machine with a
 * fresh data key (shared/crypto/chunkedAead.ts), PUT the ciphertext to presigned S3 multipart URLs, seal the key
 * to the key gate, and complete. Resumable: a state file (shared/sdk/uploadState.ts) records the key, the salt
 * and every finished part, so a rerun uploads only what S3 does not have yet.
 *
 * Memory stays flat: the plaintext is read as a stream, and at most `concurrency` parts (each a run of whole
 * encrypted chunks, see `planUpload`) are held while being PUT, plus the one being filled.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { encryptStream, generateDataKey } from '../crypto/chunkedAead.js';
import type { EncryptedChunk, EncryptSummary } from '../crypto/chunkedAead.js';
import { sealToPublicKey } from '../crypto/ecies.js';
import { ProvenaError } from '../errors.js';
import type { Dataset } from '../schemas/dataset.js';
import { cipherParamsOf } from '../schemas/encryptedManifest.js';
import type { DataFormat } from '../schemas/encryptedManifest.js';
import { DEFAULT_UPLOAD_CHUNK_SIZE, UploadSession, type KeyGateInfo, type UploadCompleteInput, type UploadPart, type UploadStartInputWire } from '../schemas/upload.js';
import { ApiError, type ProvenaClient } from './client.js';
import { detectSource, measurerFor, type DataMeasurer, type DetectedSource, type SourceDetails } from './formats.js';
import {
  defaultStateDir,
  deleteUploadState,
  ensureStateDir,
  readUploadState,
  stateFilePath,
  writeUploadState,
  type UploadState,
  type UploadStatePart,
} from './uploadState.js';
import { semaphore } from './semaphore.js';

/** A progress report, sent once at the start and after each part finishes (uploaded or verified as already there). */
export interface UploadProgress {
  /** Ciphertext bytes in S3 (parts from an earlier run included). */
  bytesDone: number;
  bytesTotal: number;
  partsDone: number;
  partsTotal: number;
  /** Parts found in S3 from an earlier run and not uploaded again. */
  partsSkipped: number;
  /** Bytes PUT by this run per second since it started. */
  bytesPerSecond: number;
  /** Seconds left at that rate (`Infinity` before the first part of this run finished). */
  etaSeconds: number;
}

/** Told once the session is known, before any byte is uploaded. */
export interface UploadStartInfo {
  uploadId: string;
  dataVersion: number;
  format: DataFormat;
  plaintextSize: number;
  details: SourceDetails;
  /** True when continuing an earlier run. */
  resumed: boolean;
  partsTotal: number;
  /** Parts already in S3 when this run started. */
  partsDone: number;
  /** The state file: it holds the secret data key until the upload completes. */
  statePath: string;
}

/** Options of {@link uploadDataset}. */
export interface UploadOptions {
  /** Validate the source as this format instead of detecting it. */
  format?: DataFormat;
  /** Plaintext bytes per encrypted chunk (default 4 MiB). A resumed upload keeps the chunk size it started with. */
  chunkSize?: number;
  /** Parts PUT at once (default 4). */
  concurrency?: number;
  onProgress?: (p: UploadProgress) => void;
  onStart?: (info: UploadStartInfo) => void;
  /** Where resume state lives (default `~/.provena/uploads`). The state file holds the secret data key. */
  stateDir?: string;
  /** Aborts the upload; the state file stays, so a rerun resumes. */
  signal?: AbortSignal;
  /** Discard earlier state for this source and start a new upload (new key, new session). */
  restart?: boolean;
  /**
   * After completing, record the listing's new manifest CID on the DatasetRegistry (the owner signs an EIP-712
   * `Update`, the API relays it; no gas). Default true; false leaves the chain as it was.
   */
  syncRegistry?: boolean;
  /** The fetch used for the part PUTs (default: global fetch). */
  fetch?: typeof fetch;
  /** The API's base URL, part of the state file's key (default: the client's). */
  apiUrl?: string;
  /** First retry delay for a failed part PUT, doubled each time (default 500 ms). */
  retryDelayMs?: number;
}

/** The errors {@link uploadDataset} throws (all carry a stable code). */
export type UploadErrorType = ProvenaError | ApiError;

const MAX_RETRIES = 3;

function sameIdentity(a: UploadState['identity'], b: DetectedSource['identity']): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.filesDigest === b.filesDigest;
}

function hexEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** PUTs one part, retrying network errors and 5xx answers up to {@link MAX_RETRIES} times with backoff. Returns the ETag. */
async function putPart(doFetch: typeof fetch, url: string, body: Buffer, partNumber: number, signal: AbortSignal | undefined, retryDelayMs: number): Promise<string> {
  let lastError = '';
  for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
    if (attempt > 0) await sleep(retryDelayMs * 2 ** (attempt - 1), signal);
    signal?.throwIfAborted();
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'PUT',
        body,
        headers: { 'content-length': String(body.length), 'content-type': 'application/octet-stream' },
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      lastError = (err as Error).message;
      continue;
    }
    const text = await res.text().catch(() => '');
    if (res.ok) {
      const etag = res.headers.get('etag');
      if (!etag) throw new ProvenaError('UPLOAD_PART_FAILED', `Part ${partNumber}: S3 answered without an ETag header (CORS must expose ETag)`);
      return etag;
    }
    lastError = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (res.status < 500) break; // 4xx (an expired URL, a bad signature) will not heal by retrying
  }
  throw new ProvenaError('UPLOAD_PART_FAILED', `Part ${partNumber} failed after retries: ${lastError}`, { details: { partNumber } });
}

function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.httpStatus === 404;
}

/**
 * Uploads `source` (a CSV, JSON Lines or Parquet file, or a folder of text files) as the next data version of
 * dataset `datasetId`, which must be the caller's and registered on chain. Returns the listing, now with `data`.
 *
 * Encrypts with a fresh data key on this machine; only ciphertext and the key sealed to the key gate's public
 * key leave it. Rerunning after a failure or abort resumes from the state file in `stateDir` when the source is
 * unchanged; a changed source is refused with `UPLOAD_SOURCE_CHANGED` unless `restart` is set.
 *
 * Errors: `UPLOAD_SOURCE_INVALID` (not the format it claims), `UPLOAD_SOURCE_CHANGED`, `UPLOAD_RESUME_MISMATCH`
 * (re-encrypted parts differ from the recorded ones), `UPLOAD_PART_FAILED`, and the API's codes as {@link ApiError}.
 *
 * @example
 * ```ts
 * const ds = await uploadDataset(client, 'ds_…', './rows.csv', {
 *   onProgress: (p) => console.error(`${((100 * p.bytesDone) / p.bytesTotal).toFixed(1)}%`),
 * });
 * console.log(ds.data?.manifestCid);
 * ```
 */
export async function uploadDataset(client: ProvenaClient, datasetId: string, source: string, options: UploadOptions = {}): Promise<Dataset> {
  const { signal } = options;
  // The client keeps its base URL private; reading it here avoids making the caller repeat it.
  const apiUrl = options.apiUrl ?? client.baseUrl;
  const stateDir = options.stateDir ?? defaultStateDir();

  const src = await detectSource(source, options.format === undefined ? {} : { format: options.format });
  const statePath = stateFilePath(stateDir, apiUrl, datasetId, src.path);
  await ensureStateDir(stateDir);
  signal?.throwIfAborted();
  const gate = await client.keyGate();

  // 1. Resume an earlier run of this (API, dataset, source), or start a new session.
  const earlier = await resumeUpload(client, datasetId, src, statePath, options.restart === true);
  if (earlier?.completed) return syncRegistry(client, earlier.completed, options);
  const resumed = earlier !== undefined;
  const { state, session } = earlier ?? (await startNewUpload(client, datasetId, src, { apiUrl, statePath, chunkSize: options.chunkSize ?? DEFAULT_UPLOAD_CHUNK_SIZE }));
  if (session.plaintextSize !== src.plaintextSize || session.chunkSize !== state.chunkSize || session.format !== src.format) {
    throw new ProvenaError('UPLOAD_SOURCE_CHANGED', `Upload ${session.uploadId} was planned for another size, chunk size or format; start fresh with --restart`);
  }

  // A part counts as already done when S3 has it AND our state recorded its chunk digests (to check them against).
  const done = session.parts.filter((p) => p.etag !== undefined && state.parts[String(p.partNumber)] !== undefined);
  const progress = progressTracker(session, done, options.onProgress);
  options.onStart?.({
    uploadId: session.uploadId,
    dataVersion: session.dataVersion,
    format: src.format,
    plaintextSize: src.plaintextSize,
    details: src.details,
    resumed,
    partsTotal: session.parts.length,
    partsDone: done.length,
    statePath,
  });
  progress.report();

  // 2. Encrypt and upload. On resume this re-encrypts with the SAME data key and salt. That is safe, not nonce
  // reuse: with the same key, salt, binding (dataset id, data version, chunk size) and byte-identical plaintext,
  // every (stream key, nonce) pair encrypts the same plaintext chunk again and yields the same ciphertext chunk,
  // so nothing new is revealed. Nonce reuse would need different plaintext under the same key and nonce, which
  // is what the source identity check (size, mtime, inode) guards against; and as a second line of defence the
  // recomputed digest of every skipped chunk must equal the one recorded when it was uploaded, else we abort
  // before sending anything more from the changed source.
  const dataKey = Buffer.from(state.dataKey, 'hex');
  // Bytes and samples are counted from the very bytes that are encrypted, and committed in the manifest.
  const measurer = measurerFor(src);
  try {
    const sent = await encryptAndSendParts({
      plaintext: measured(src.open(), measurer),
      plaintextSize: src.plaintextSize,
      sourceName: src.path,
      datasetId,
      session,
      key: dataKey,
      salt: Buffer.from(state.salt, 'hex'),
      chunkSize: state.chunkSize,
      recorded: state.parts,
      recordPart: stateRecorder(statePath, state),
      concurrency: options.concurrency ?? 4,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(signal ? { signal } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      onPartDone: progress.partDone,
    });

    // 3. Seal the data key to the gate (never sent in the clear) and complete.
    const listing = await client.completeUpload(datasetId, session.uploadId, completeInput(sent, gate, dataKey, session.keyContext, measurer));
    await deleteUploadState(statePath);
    return await syncRegistry(client, listing, options);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Finds the earlier run of this upload to continue: its state and its still-open session. Returns undefined when
 * there is none to continue (no state, `restart`, the session gone or expired: any stale state file is deleted),
 * or `completed` with the listing when an earlier run completed but did not get to delete its state.
 * Throws `UPLOAD_SOURCE_CHANGED` when the source is not the one the earlier run started from.
 */
async function resumeUpload(
  client: ProvenaClient,
  datasetId: string,
  src: DetectedSource,
  statePath: string,
  restart: boolean,
): Promise<{ state: UploadState; session: UploadSession; completed?: undefined } | { completed: Dataset } | undefined> {
  const state = await readUploadState(statePath);
  if (!state) return undefined;
  if (restart) {
    // The old multipart upload is abandoned (the API has no abort route; S3 lifecycle rules clean it up).
    await deleteUploadState(statePath);
    return undefined;
  }
  if (!sameIdentity(state.identity, src.identity) || state.format !== src.format) {
    throw new ProvenaError(
      'UPLOAD_SOURCE_CHANGED',
      `${src.path} changed since upload ${state.uploadId} started (size, modification time, inode or file list differ); ` +
        'it cannot be resumed. Start a new upload with --restart (restart: true).',
      { details: { uploadId: state.uploadId, statePath } },
    );
  }
  let session: UploadSession | undefined;
  try {
    session = await client.getUpload(datasetId, state.uploadId);
  } catch (err) {
    if (!isGone(err)) throw err;
    session = undefined; // the session is gone on the server: nothing to resume
  }
  if (session?.status === 'completed') {
    // An earlier run completed but did not get to delete its state: the data is live.
    const listing = await client.getDataset(datasetId);
    await deleteUploadState(statePath);
    if (listing.data?.version === state.dataVersion) return { completed: listing };
    session = undefined;
  }
  if (session && new Date(session.expiresAt).getTime() <= Date.now()) session = undefined;
  if (!session) {
    await deleteUploadState(statePath);
    return undefined;
  }
  return { state, session };
}

/** Starts a new upload session with a fresh data key and salt, and writes its state before any byte is sent. */
async function startNewUpload(
  client: ProvenaClient,
  datasetId: string,
  src: DetectedSource,
  at: { apiUrl: string; statePath: string; chunkSize: number },
): Promise<{ state: UploadState; session: UploadSession }> {
  const body: UploadStartInputWire = {
    format: src.format,
    plaintextSize: src.plaintextSize,
    chunkSize: at.chunkSize,
    ...(src.files ? { files: src.files } : {}),
  };
  const session = await client.startUpload(datasetId, body);
  const dataKey = generateDataKey();
  const state: UploadState = {
    v: 1,
    apiUrl: at.apiUrl,
    datasetId,
    source: src.path,
    uploadId: session.uploadId,
    dataVersion: session.dataVersion,
    format: src.format,
    dataKey: dataKey.toString('hex'),
    // Drawn here rather than inside encryptStream so it can be recorded before any byte is sent.
    salt: randomBytes(32).toString('hex'),
    chunkSize: session.chunkSize,
    plaintextSize: src.plaintextSize,
    identity: src.identity,
    parts: {},
    createdAt: new Date().toISOString(),
  };
  dataKey.fill(0);
  // Written before the first PUT: a crash at any later point leaves a resumable state.
  await writeUploadState(at.statePath, state);
  return { state, session };
}

/**
 * The `recordPart` of {@link encryptAndSendParts} for a state file: records each finished part in `state` and
 * writes the file. Writes are serialized: parts finish concurrently, and each write replaces the whole file.
 */
export function stateRecorder(path: string, state: UploadState): (partNumber: number, entry: UploadStatePart) => Promise<void> {
  let stateWrite: Promise<void> = Promise.resolve();
  return (partNumber, entry) => {
    state.parts[String(partNumber)] = entry;
    stateWrite = stateWrite.then(() => writeUploadState(path, state));
    return stateWrite;
  };
}

/** What {@link encryptAndSendParts} tells about each finished part. */
export interface PartDone {
  /** Ciphertext bytes of the part. */
  size: number;
  /** Bytes PUT by this run (0 for a part found in S3 from an earlier run). */
  sentBytes: number;
  /** True when the part was found in S3, not uploaded; `newlyRecorded` when it was not yet in the state file. */
  skipped: boolean;
  newlyRecorded: boolean;
}

/** Counts progress and reports it through `onProgress` (see {@link UploadProgress}). */
function progressTracker(session: UploadSession, alreadyDone: UploadPart[], onProgress: ((p: UploadProgress) => void) | undefined): { report(): void; partDone(p: PartDone): void } {
  const partsTotal = session.parts.length;
  let partsDone = alreadyDone.length;
  let bytesDone = alreadyDone.reduce((a, p) => a + p.size, 0);
  let partsSkipped = 0;
  let bytesSent = 0;
  const started = Date.now();
  const report = (): void => {
    if (!onProgress) return;
    const elapsed = (Date.now() - started) / 1000;
    const bytesPerSecond = elapsed > 0 && bytesSent > 0 ? bytesSent / elapsed : 0;
    const left = session.totalCiphertextSize - bytesDone;
    onProgress({
      bytesDone,
      bytesTotal: session.totalCiphertextSize,
      partsDone,
      partsTotal,
      partsSkipped,
      bytesPerSecond,
      etaSeconds: left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : Infinity,
    });
  };
  return {
    report,
    partDone(p) {
      bytesSent += p.sentBytes;
      if (!p.skipped || p.newlyRecorded) {
        bytesDone += p.size;
        partsDone += 1;
      }
      if (p.skipped) partsSkipped += 1;
      report();
    },
  };
}

/** Input of {@link encryptAndSendParts}. */
export interface SendPartsInput {
  /** The plaintext, read once as a stream. */
  plaintext: AsyncIterable<Uint8Array>;
  /** Bytes the plaintext must have (the session was planned for it). */
  plaintextSize: number;
  /** The source's name, for error messages. */
  sourceName: string;
  datasetId: string;
  /** The session: its data version, chunk count and parts (with presigned URLs for those S3 does not hold). */
  session: Pick<UploadSession, 'dataVersion' | 'chunkCount' | 'parts'>;
  /** The data key and salt (the same on every run of one upload) and plaintext bytes per chunk. */
  key: Buffer;
  salt: Buffer;
  chunkSize: number;
  /** The chunk digests recorded for parts uploaded by earlier runs, by part number. */
  recorded: Readonly<Record<string, UploadStatePart>>;
  /** Records a finished part (its ETag and chunk digests) so a later run can skip it. */
  recordPart(partNumber: number, entry: UploadStatePart): Promise<void>;
  /** Parts PUT at once (default 4). */
  concurrency?: number;
  /** The fetch used for the part PUTs (default: global fetch). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** First retry delay for a failed part PUT, doubled each time (default 500 ms). */
  retryDelayMs?: number;
  onPartDone?: (p: PartDone) => void;
}

/** What {@link encryptAndSendParts} returns: every part's ETag in part order, and the encryption's totals. */
export interface SentParts {
  parts: { partNumber: number; etag: string }[];
  summary: EncryptSummary;
}

/**
 * The upload pipeline between a plaintext stream and S3: encrypts it in chunks (`encryptStream`), groups the
 * chunks into the session's parts, and PUTs each part to its presigned URL, `concurrency` at a time, retrying
 * failures. A part S3 already holds is re-encrypted and checked against the digests recorded for it (or its MD5
 * ETag), not sent again. Memory stays flat: at most `concurrency` parts are held while being PUT, plus the one
 * being filled. On an error or abort it waits for the parts in flight (so their records land) and rethrows.
 *
 * Errors: `UPLOAD_SOURCE_CHANGED` (the plaintext is not the size planned), `UPLOAD_RESUME_MISMATCH`,
 * `UPLOAD_PART_FAILED`, or the signal's reason.
 */
export async function encryptAndSendParts(input: SendPartsInput): Promise<SentParts> {
  const { session, signal } = input;
  const doFetch = input.fetch ?? fetch;
  const retryDelayMs = input.retryDelayMs ?? 500;
  const parts = [...session.parts].sort((a, b) => a.partNumber - b.partNumber);
  const etags = new Map<number, string>();
  for (const p of parts) if (p.etag !== undefined) etags.set(p.partNumber, p.etag);
  const puts = concurrentTasks(Math.max(1, Math.floor(input.concurrency ?? 4)), signal);
  const records = new Set<Promise<void>>();
  const record = (partNumber: number, entry: UploadStatePart): Promise<void> => {
    const r = input.recordPart(partNumber, entry);
    records.add(r);
    void r.then(
      () => records.delete(r),
      () => records.delete(r),
    );
    return r;
  };

  /** Sends one full part (or checks it, when S3 has it from an earlier run). */
  const finishPart = async (part: UploadPart, body: Buffer[], chunkDigests: { sha256: string; size: number }[]): Promise<void> => {
    if (part.etag !== undefined) {
      const newlyRecorded = await verifyPartInS3(part, part.etag, body, chunkDigests, input.recorded, record);
      input.onPartDone?.({ size: part.size, sentBytes: 0, skipped: true, newlyRecorded });
      return;
    }
    const url = part.url;
    await puts.run(async () => {
      if (url === undefined) throw new ProvenaError('UPLOAD_PART_FAILED', `The session has no upload URL for part ${part.partNumber}`);
      const payload = body.length === 1 ? body[0]! : Buffer.concat(body);
      body.length = 0;
      const etag = await putPart(doFetch, url, payload, part.partNumber, signal, retryDelayMs);
      etags.set(part.partNumber, etag);
      await record(part.partNumber, { etag, chunks: chunkDigests });
      input.onPartDone?.({ size: part.size, sentBytes: payload.length, skipped: false, newlyRecorded: true });
    });
  };

  try {
    // The PUTs share the cores with the cipher: hashing moves to a worker thread only with cores to spare.
    const stream = encryptStream(input.plaintext, { key: input.key, salt: input.salt, chunkSize: input.chunkSize, datasetId: input.datasetId, version: session.dataVersion, use: 'transfer' });
    let partIndex = 0;
    let pieces: Buffer[] = [];
    let digests: { sha256: string; size: number }[] = [];
    for await (const chunk of stream as AsyncIterable<EncryptedChunk>) {
      if (puts.failure !== undefined) throw puts.failure;
      signal?.throwIfAborted();
      const part = parts[partIndex];
      if (!part || chunk.index >= session.chunkCount) {
        throw new ProvenaError('UPLOAD_SOURCE_CHANGED', `${input.sourceName} grew while it was being read; start a new upload with --restart`);
      }
      // The cipher's pieces as they are: the part is concatenated once, when it is sent.
      let size = 0;
      for (const b of chunk.ciphertextParts) {
        pieces.push(b);
        size += b.length;
      }
      digests.push({ sha256: chunk.sha256, size });
      if (chunk.index === part.firstChunk + part.chunkCount - 1) {
        await finishPart(part, pieces, digests);
        partIndex += 1;
        pieces = [];
        digests = [];
      }
    }
    await puts.drain();
    await Promise.all(records);
    if (puts.failure !== undefined) throw puts.failure;
    signal?.throwIfAborted();
    const summary = stream.summary();
    if (summary.plaintextSize !== input.plaintextSize || partIndex !== parts.length) {
      throw new ProvenaError('UPLOAD_SOURCE_CHANGED', `${input.sourceName} changed while it was being read (${summary.plaintextSize} bytes, expected ${input.plaintextSize}); start a new upload with --restart`);
    }
    return { parts: parts.map((p) => ({ partNumber: p.partNumber, etag: etags.get(p.partNumber) as string })), summary };
  } catch (err) {
    // Let in-flight parts finish (or abort) and their records land, so the next run skips them.
    await puts.settle();
    await Promise.allSettled(records);
    throw err;
  }
}

/**
 * Runs tasks at most `concurrency` at a time. The first task error is kept as `failure` (the caller checks it);
 * after a failure or an abort, `run` starts nothing more.
 */
function concurrentTasks(concurrency: number, signal: AbortSignal | undefined): { readonly failure: unknown; run(task: () => Promise<void>): Promise<void>; drain(): Promise<void>; settle(): Promise<void> } {
  const slots = semaphore(concurrency);
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  return {
    get failure() {
      return failure;
    },
    /** Waits for a free slot, then starts `task` without waiting for it. */
    async run(task) {
      await slots.acquire();
      if (failure !== undefined || signal?.aborted) {
        slots.release();
        return;
      }
      const t = (async () => {
        try {
          await task();
        } catch (err) {
          failure ??= err;
        } finally {
          slots.release();
        }
      })();
      inflight.add(t);
      void t.then(() => inflight.delete(t));
    },
    async drain() {
      await Promise.all(inflight);
    },
    async settle() {
      await Promise.allSettled(inflight);
    },
  };
}

/**
 * Checks a part S3 already holds from an earlier run of this same upload (same key and salt) against what this
 * run re-encrypted: the recorded chunk digests, or where none were recorded (a crash between the PUT and the
 * state write) its MD5 ETag, then records it. Returns true when it was newly recorded.
 */
async function verifyPartInS3(
  part: UploadPart,
  etag: string,
  body: Buffer[],
  chunkDigests: { sha256: string; size: number }[],
  recorded: Readonly<Record<string, UploadStatePart>>,
  record: (partNumber: number, entry: UploadStatePart) => Promise<void>,
): Promise<boolean> {
  const earlier = recorded[String(part.partNumber)];
  if (earlier) {
    const same = earlier.chunks.length === chunkDigests.length && earlier.chunks.every((c, i) => c.size === chunkDigests[i]!.size && hexEqual(c.sha256, chunkDigests[i]!.sha256));
    if (!same) {
      throw new ProvenaError(
        'UPLOAD_RESUME_MISMATCH',
        `Part ${part.partNumber} re-encrypts to different chunks than the ones uploaded before: the source changed in a way its ` +
          'size, time and inode did not show. Nothing more was sent; start a new upload with --restart (restart: true).',
        { details: { partNumber: part.partNumber } },
      );
    }
    return false;
  }
  // Where the ETag is a plain MD5 (S3 without SSE-KMS, s3rver) check it; otherwise the chunk digests in the
  // manifest still catch any difference at download.
  const md5 = /^"?([0-9a-f]{32})"?$/.exec(etag)?.[1];
  if (md5 !== undefined) {
    const h = createHash('md5');
    for (const b of body) h.update(b);
    if (h.digest('hex') !== md5) {
      throw new ProvenaError('UPLOAD_RESUME_MISMATCH', `Part ${part.partNumber} in S3 differs from this source's; start a new upload with --restart (restart: true)`, {
        details: { partNumber: part.partNumber },
      });
    }
  }
  await record(part.partNumber, { etag, chunks: chunkDigests });
  return true;
}

/** The body of the complete call: the parts' ETags, the cipher parameters, every chunk's digest, and the data key sealed to the gate. */
function completeInput(sent: SentParts, gate: KeyGateInfo, dataKey: Buffer, keyContext: string, measurer: DataMeasurer): UploadCompleteInput {
  return {
    parts: sent.parts,
    cipher: cipherParamsOf(sent.summary),
    chunks: sent.summary.chunks.map((c) => ({ ciphertextSize: c.ciphertextSize, sha256: c.sha256 })),
    sealedDataKey: sealToPublicKey(gate.publicKey, dataKey, keyContext, gate.scheme),
    measured: measurer.result(),
  };
}

/** Passes `pieces` through, feeding each to `measurer` on the way. */
async function* measured(pieces: AsyncIterable<Uint8Array>, measurer: DataMeasurer): AsyncGenerator<Uint8Array> {
  for await (const piece of pieces) {
    measurer.update(piece);
    yield piece;
  }
}

/** Records the listing's current manifest on the registry unless it is already there (or the caller opted out). */
async function syncRegistry(client: ProvenaClient, listing: Dataset, options: { syncRegistry?: boolean }): Promise<Dataset> {
  if (options.syncRegistry === false || listing.chainManifestCid === listing.manifestCid) return listing;
  return client.registerDataset(listing.id);
}
