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
import type { EncryptedChunk } from '../crypto/chunkedAead.js';
import { sealToPublicKey } from '../crypto/ecies.js';
import { ProvenaError } from '../errors.js';
import type { Dataset } from '../schemas/dataset.js';
import { cipherParamsOf } from '../schemas/encryptedManifest.js';
import type { DataFormat } from '../schemas/encryptedManifest.js';
import { DEFAULT_UPLOAD_CHUNK_SIZE, UploadSession, type UploadCompleteInput, type UploadPart, type UploadStartInputWire } from '../schemas/upload.js';
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
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const doFetch = options.fetch ?? fetch;
  const retryDelayMs = options.retryDelayMs ?? 500;
  // The client keeps its base URL private; reading it here avoids making the caller repeat it.
  const apiUrl = options.apiUrl ?? client.baseUrl;
  const stateDir = options.stateDir ?? defaultStateDir();
  const enc = encodeURIComponent(datasetId);

  const src = await detectSource(source, options.format === undefined ? {} : { format: options.format });
  const statePath = stateFilePath(stateDir, apiUrl, datasetId, src.path);
  await ensureStateDir(stateDir);
  signal?.throwIfAborted();
  const gate = await client.keyGate();

  // 1. Resume an earlier run of this (API, dataset, source), or start a new session.
  let state = await readUploadState(statePath);
  let session: UploadSession | undefined;
  if (state && options.restart) {
    // The old multipart upload is abandoned (the API has no abort route; S3 lifecycle rules clean it up).
    await deleteUploadState(statePath);
    state = undefined;
  }
  if (state) {
    if (!sameIdentity(state.identity, src.identity) || state.format !== src.format) {
      throw new ProvenaError(
        'UPLOAD_SOURCE_CHANGED',
        `${src.path} changed since upload ${state.uploadId} started (size, modification time, inode or file list differ); ` +
          'it cannot be resumed. Start a new upload with --restart (restart: true).',
        { details: { uploadId: state.uploadId, statePath } },
      );
    }
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
      if (listing.data?.version === state.dataVersion) return syncRegistry(client, listing, options);
      session = undefined;
    }
    if (session && new Date(session.expiresAt).getTime() <= Date.now()) session = undefined;
    if (!session) {
      await deleteUploadState(statePath);
      state = undefined;
    }
  }
  const resumed = state !== undefined && session !== undefined;
  if (!state || !session) {
    const body: UploadStartInputWire = {
      format: src.format,
      plaintextSize: src.plaintextSize,
      chunkSize: options.chunkSize ?? DEFAULT_UPLOAD_CHUNK_SIZE,
      ...(src.files ? { files: src.files } : {}),
    };
    session = await client.startUpload(datasetId, body);
    const dataKey = generateDataKey();
    state = {
      v: 1,
      apiUrl,
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
    await writeUploadState(statePath, state);
  }
  if (session.plaintextSize !== src.plaintextSize || session.chunkSize !== state.chunkSize || session.format !== src.format) {
    throw new ProvenaError('UPLOAD_SOURCE_CHANGED', `Upload ${session.uploadId} was planned for another size, chunk size or format; start fresh with --restart`);
  }
  const current: UploadState = state;
  const sess: UploadSession = session;
  const parts = [...sess.parts].sort((a, b) => a.partNumber - b.partNumber);
  const partsTotal = parts.length;

  // A part counts as already done when S3 has it AND our state recorded its chunk digests (to check them against).
  const alreadyDone = (p: UploadPart): boolean => p.etag !== undefined && current.parts[String(p.partNumber)] !== undefined;
  let partsDone = parts.filter(alreadyDone).length;
  let bytesDone = parts.filter(alreadyDone).reduce((a, p) => a + p.size, 0);
  let partsSkipped = 0;
  let bytesSent = 0;
  const started = Date.now();
  const report = (): void => {
    if (!options.onProgress) return;
    const elapsed = (Date.now() - started) / 1000;
    const bytesPerSecond = elapsed > 0 && bytesSent > 0 ? bytesSent / elapsed : 0;
    const left = sess.totalCiphertextSize - bytesDone;
    options.onProgress({
      bytesDone,
      bytesTotal: sess.totalCiphertextSize,
      partsDone,
      partsTotal,
      partsSkipped,
      bytesPerSecond,
      etaSeconds: left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : Infinity,
    });
  };
  options.onStart?.({
    uploadId: sess.uploadId,
    dataVersion: sess.dataVersion,
    format: src.format,
    plaintextSize: src.plaintextSize,
    details: src.details,
    resumed,
    partsTotal,
    partsDone,
    statePath,
  });
  report();

  // State writes are serialized: parts finish concurrently, and each write replaces the whole file.
  let stateWrite: Promise<void> = Promise.resolve();
  const recordPart = (partNumber: number, entry: UploadStatePart): Promise<void> => {
    current.parts[String(partNumber)] = entry;
    stateWrite = stateWrite.then(() => writeUploadState(statePath, current));
    return stateWrite;
  };

  // 2. Encrypt and upload. On resume this re-encrypts with the SAME data key and salt. That is safe, not nonce
  // reuse: with the same key, salt, binding (dataset id, data version, chunk size) and byte-identical plaintext,
  // every (stream key, nonce) pair encrypts the same plaintext chunk again and yields the same ciphertext chunk,
  // so nothing new is revealed. Nonce reuse would need different plaintext under the same key and nonce, which
  // is what the source identity check (size, mtime, inode) guards against; and as a second line of defence the
  // recomputed digest of every skipped chunk must equal the one recorded when it was uploaded, else we abort
  // before sending anything more from the changed source.
  const dataKey = Buffer.from(current.dataKey, 'hex');
  const etags = new Map<number, string>();
  for (const p of parts) if (p.etag !== undefined) etags.set(p.partNumber, p.etag);
  const slots = semaphore(concurrency);
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  try {
    // Bytes and samples are counted from the very bytes that are encrypted, and committed in the manifest.
    const measurer = measurerFor(src);
    const stream = encryptStream(measured(src.open(), measurer), {
      key: dataKey,
      salt: Buffer.from(current.salt, 'hex'),
      chunkSize: current.chunkSize,
      datasetId,
      version: sess.dataVersion,
    });
    let partIndex = 0;
    let pieces: Buffer[] = [];
    let digests: { sha256: string; size: number }[] = [];

    const finishPart = async (part: UploadPart, body: Buffer[], chunkDigests: { sha256: string; size: number }[]): Promise<void> => {
      if (part.etag !== undefined) {
        // S3 already has this part from an earlier run of this same upload (same key and salt).
        const recorded = current.parts[String(part.partNumber)];
        if (recorded) {
          const same =
            recorded.chunks.length === chunkDigests.length &&
            recorded.chunks.every((c, i) => c.size === chunkDigests[i]!.size && hexEqual(c.sha256, chunkDigests[i]!.sha256));
          if (!same) {
            throw new ProvenaError(
              'UPLOAD_RESUME_MISMATCH',
              `Part ${part.partNumber} re-encrypts to different chunks than the ones uploaded before: the source changed in a way its ` +
                'size, time and inode did not show. Nothing more was sent; start a new upload with --restart (restart: true).',
              { details: { partNumber: part.partNumber } },
            );
          }
        } else {
          // A crash between the PUT and the state write. Where the ETag is a plain MD5 (S3 without SSE-KMS,
          // s3rver) check it; otherwise the chunk digests in the manifest still catch any difference at download.
          const md5 = /^"?([0-9a-f]{32})"?$/.exec(part.etag)?.[1];
          if (md5 !== undefined) {
            const h = createHash('md5');
            for (const b of body) h.update(b);
            if (h.digest('hex') !== md5) {
              throw new ProvenaError('UPLOAD_RESUME_MISMATCH', `Part ${part.partNumber} in S3 differs from this source's; start a new upload with --restart (restart: true)`, {
                details: { partNumber: part.partNumber },
              });
            }
          }
          await recordPart(part.partNumber, { etag: part.etag, chunks: chunkDigests });
          bytesDone += part.size;
          partsDone += 1;
        }
        partsSkipped += 1;
        report();
        return;
      }
      await slots.acquire();
      if (failure !== undefined || signal?.aborted) {
        slots.release();
        return;
      }
      const url = part.url;
      const task = (async () => {
        try {
          if (url === undefined) throw new ProvenaError('UPLOAD_PART_FAILED', `The session has no upload URL for part ${part.partNumber}`);
          const payload = body.length === 1 ? body[0]! : Buffer.concat(body);
          body.length = 0;
          const etag = await putPart(doFetch, url, payload, part.partNumber, signal, retryDelayMs);
          etags.set(part.partNumber, etag);
          await recordPart(part.partNumber, { etag, chunks: chunkDigests });
          bytesSent += payload.length;
          bytesDone += part.size;
          partsDone += 1;
          report();
        } catch (err) {
          failure ??= err;
        } finally {
          slots.release();
        }
      })();
      inflight.add(task);
      void task.then(() => inflight.delete(task));
    };

    for await (const chunk of stream as AsyncIterable<EncryptedChunk>) {
      if (failure !== undefined) throw failure;
      signal?.throwIfAborted();
      const part = parts[partIndex];
      if (!part || chunk.index >= sess.chunkCount) {
        throw new ProvenaError('UPLOAD_SOURCE_CHANGED', `${src.path} grew while it was being read; start a new upload with --restart`);
      }
      pieces.push(chunk.ciphertext);
      digests.push({ sha256: chunk.sha256, size: chunk.ciphertext.length });
      if (chunk.index === part.firstChunk + part.chunkCount - 1) {
        await finishPart(part, pieces, digests);
        partIndex += 1;
        pieces = [];
        digests = [];
      }
    }
    await Promise.all(inflight);
    await stateWrite;
    if (failure !== undefined) throw failure;
    signal?.throwIfAborted();
    const summary = stream.summary();
    if (summary.plaintextSize !== src.plaintextSize || partIndex !== partsTotal) {
      throw new ProvenaError('UPLOAD_SOURCE_CHANGED', `${src.path} changed while it was being read (${summary.plaintextSize} bytes, expected ${src.plaintextSize}); start a new upload with --restart`);
    }

    // 3. Seal the data key to the gate (never sent in the clear) and complete.
    const complete: UploadCompleteInput = {
      parts: parts.map((p) => ({ partNumber: p.partNumber, etag: etags.get(p.partNumber) as string })),
      cipher: cipherParamsOf(summary),
      chunks: summary.chunks.map((c) => ({ ciphertextSize: c.ciphertextSize, sha256: c.sha256 })),
      sealedDataKey: sealToPublicKey(gate.publicKey, dataKey, sess.keyContext),
      measured: measurer.result(),
    };
    const listing = await client.completeUpload(datasetId, sess.uploadId, complete);
    await deleteUploadState(statePath);
    return await syncRegistry(client, listing, options);
  } catch (err) {
    // Let in-flight parts finish (or abort) and their state land, so the next run skips them.
    await Promise.allSettled(inflight);
    await stateWrite.catch(() => undefined);
    throw err;
  } finally {
    dataKey.fill(0);
  }
}

/** Records the listing's current manifest on the registry unless it is already there (or the caller opted out). */
async function syncRegistry(client: ProvenaClient, listing: Dataset, options: { syncRegistry?: boolean }): Promise<Dataset> {
  if (options.syncRegistry === false || listing.chainManifestCid === listing.manifestCid) return listing;
  return client.registerDataset(listing.id);
}

/** Passes `pieces` through, feeding each to `measurer` on the way. */
async function* measured(pieces: AsyncIterable<Uint8Array>, measurer: DataMeasurer): AsyncGenerator<Uint8Array> {
  for await (const piece of pieces) {
    measurer.update(piece);
    yield piece;
  }
}
